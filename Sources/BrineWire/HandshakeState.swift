import Crypto

/// The Noise handshake for pattern XX (spec §5.3, §7.5):
///
///     -> e
///     <- e, ee, s, es
///     -> s, se
///
/// XX is used because neither side needs to know the other's static key in
/// advance: a new minion presents its key for `brine key` to accept, and the
/// minion learns (and pins) the master's key on first contact. Both static keys
/// travel encrypted, and the ephemeral DH gives forward secrecy.
///
/// Drive it by alternating `writeMessage` and `readMessage` as the pattern
/// dictates; after the third message `isComplete` is true and `transport()`
/// gives the keys for the rest of the connection. Any error poisons the state:
/// the connection must be closed.
public struct HandshakeState: Sendable {
    /// Which side of the connection this state is for.
    public enum Role: Sendable, Equatable {
        /// The side that connects (the minion) and sends the first message.
        case initiator
        /// The side that accepts (the master).
        case responder
    }

    public let role: Role
    private var symmetric: SymmetricState
    private let localStatic: Curve25519.KeyAgreement.PrivateKey
    private var localEphemeral: Curve25519.KeyAgreement.PrivateKey?
    private var remoteEphemeral: Curve25519.KeyAgreement.PublicKey?
    /// The peer's static public key, known once its `s` token has been read
    /// (after message 2 for the initiator, message 3 for the responder).
    public private(set) var remoteStaticPublicKey: Curve25519.KeyAgreement.PublicKey?
    private let pin: RemoteKeyPin?
    /// Index of the next message in the pattern (0, 1, 2; 3 means done).
    private var messageIndex = 0
    private var failure: NoiseError?
    private var transportTaken = false

    /// A handshake with a fresh ephemeral key.
    ///
    /// - Parameters:
    ///   - prologue: bytes both sides must agree on without sending them (e.g. a
    ///     protocol version string); a mismatch makes the handshake fail.
    ///   - pin: if set, the peer's static key must match it; otherwise reading its
    ///     `s` token fails with `remoteStaticKeyMismatch` before we reveal our own
    ///     identity (the minion pinning its master).
    public init(
        role: Role,
        localStatic: Curve25519.KeyAgreement.PrivateKey,
        prologue: [UInt8] = [],
        pin: RemoteKeyPin? = nil
    ) {
        self.init(role: role, localStatic: localStatic, localEphemeral: nil, prologue: prologue, pin: pin)
    }

    /// A handshake with a given ephemeral key, for replaying published test
    /// vectors only. Reusing an ephemeral key destroys forward secrecy, which is
    /// why this is `package` and not `public`.
    package init(
        role: Role,
        localStatic: Curve25519.KeyAgreement.PrivateKey,
        localEphemeral: Curve25519.KeyAgreement.PrivateKey?,
        prologue: [UInt8] = [],
        pin: RemoteKeyPin? = nil
    ) {
        self.role = role
        self.localStatic = localStatic
        self.localEphemeral = localEphemeral
        self.pin = pin
        symmetric = SymmetricState(protocolName: Noise.protocolName)
        symmetric.mixHash(prologue)
    }

    /// Whether all three messages have been processed.
    public var isComplete: Bool { messageIndex == 3 }

    /// Whether it is our turn to write (otherwise we must read).
    public var isOurTurnToWrite: Bool {
        // The initiator writes messages 0 and 2, the responder message 1.
        (messageIndex % 2 == 0) == (role == .initiator) && !isComplete
    }

    /// The current handshake hash `h`. After completion it identifies the session
    /// and can be used for channel binding.
    public var handshakeHash: [UInt8] { symmetric.handshakeHash }

    /// The largest payload the next message can carry within the 65535-byte
    /// limit: message 1 carries `e` (32 bytes); message 2 `e`, encrypted `s` and a
    /// tag (32 + 48 + 16); message 3 encrypted `s` and a tag (48 + 16).
    public var maximumPayloadLength: Int {
        let overhead: Int
        switch messageIndex {
        case 0: overhead = Noise.dhLength
        case 1: overhead = Noise.dhLength + Noise.dhLength + 2 * Noise.tagLength
        default: overhead = Noise.dhLength + 2 * Noise.tagLength
        }
        return Noise.maximumMessageLength - overhead
    }

    /// Writes the next handshake message carrying `payload` (encrypted from message 2 on).
    /// A payload over `maximumPayloadLength` is refused before any state changes.
    public mutating func writeMessage(payload: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        try checkUsable()
        guard isOurTurnToWrite else { throw .outOfTurn(expected: "readMessage") }
        guard payload.count <= maximumPayloadLength else {
            throw .messageTooLarge(
                length: payload.count + Noise.maximumMessageLength - maximumPayloadLength,
                limit: Noise.maximumMessageLength)
        }
        do {
            let message = try writeTokens(payload: payload)
            messageIndex += 1
            return message
        } catch {
            failure = error
            throw error
        }
    }

    /// Reads the peer's next handshake message and returns its payload.
    public mutating func readMessage(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        try checkUsable()
        guard !isOurTurnToWrite else { throw .outOfTurn(expected: "writeMessage") }
        do {
            let payload = try readTokens(message)
            messageIndex += 1
            return payload
        } catch {
            failure = error
            throw error
        }
    }

    /// The transport keys, once the handshake is complete (Split()). Can be
    /// taken only once: two TransportStates with the same keys would encrypt
    /// different messages under the same nonce, which breaks ChaChaPoly.
    public mutating func transport() throws(NoiseError) -> TransportState {
        if let failure { throw .stateFailed(previous: failure.description) }
        guard isComplete, let remoteStaticPublicKey else { throw .handshakeNotComplete }
        guard !transportTaken else { throw .transportAlreadyTaken }
        transportTaken = true
        let (initiatorToResponder, responderToInitiator) = symmetric.split()
        let (send, receive) = role == .initiator
            ? (initiatorToResponder, responderToInitiator)
            : (responderToInitiator, initiatorToResponder)
        return TransportState(
            sender: send, receiver: receive,
            handshakeHash: symmetric.handshakeHash,
            remoteStaticPublicKey: remoteStaticPublicKey)
    }

    // MARK: - Tokens

    private func checkUsable() throws(NoiseError) {
        if let failure { throw .stateFailed(previous: failure.description) }
        if isComplete { throw .handshakeAlreadyComplete }
    }

    private mutating func writeTokens(payload: [UInt8]) throws(NoiseError) -> [UInt8] {
        var out: [UInt8] = []
        switch messageIndex {
        case 0:  // -> e
            out += writeEphemeral()
        case 1:  // <- e, ee, s, es
            out += writeEphemeral()
            try mixDH(try ephemeral(), try remoteE())
            out += try symmetric.encryptAndHash(Self.raw(localStatic.publicKey))
            try mixDH(localStatic, try remoteE())
        default:  // -> s, se
            out += try symmetric.encryptAndHash(Self.raw(localStatic.publicKey))
            try mixDH(localStatic, try remoteE())
        }
        out += try symmetric.encryptAndHash(payload)
        guard out.count <= Noise.maximumMessageLength else {
            throw .messageTooLarge(length: out.count, limit: Noise.maximumMessageLength)
        }
        return out
    }

    private mutating func readTokens(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard message.count <= Noise.maximumMessageLength else {
            throw .messageTooLarge(length: message.count, limit: Noise.maximumMessageLength)
        }
        var reader = ByteReader(bytes: message)
        switch messageIndex {
        case 0:  // -> e
            try readEphemeral(&reader)
        case 1:  // <- e, ee, s, es
            try readEphemeral(&reader)
            try mixDH(try ephemeral(), try remoteE())
            try readStatic(&reader)
            try mixDH(try ephemeral(), try remoteS())
        default:  // -> s, se
            try readStatic(&reader)
            try mixDH(try ephemeral(), try remoteS())
        }
        return try symmetric.decryptAndHash(reader.rest())
    }

    private mutating func writeEphemeral() -> [UInt8] {
        let key = localEphemeral ?? Curve25519.KeyAgreement.PrivateKey()
        localEphemeral = key
        let publicBytes = Self.raw(key.publicKey)
        symmetric.mixHash(publicBytes)
        return publicBytes
    }

    private mutating func readEphemeral(_ reader: inout ByteReader) throws(NoiseError) {
        let bytes = try reader.take(Noise.dhLength)
        remoteEphemeral = try Self.publicKey(bytes, context: "remote ephemeral key")
        symmetric.mixHash(bytes)
    }

    private mutating func readStatic(_ reader: inout ByteReader) throws(NoiseError) {
        let length = Noise.dhLength + (symmetric.hasKey ? Noise.tagLength : 0)
        let bytes = try symmetric.decryptAndHash(try reader.take(length))
        let key = try Self.publicKey(bytes, context: "remote static key")
        if let pin, !pin.matches(key) {
            throw .remoteStaticKeyMismatch(expected: pin.fingerprint, actual: KeyFingerprint.of(key))
        }
        remoteStaticPublicKey = key
    }

    /// MixKey(DH(private, public)), refusing the all-zero output of a low-order point.
    private mutating func mixDH(
        _ privateKey: Curve25519.KeyAgreement.PrivateKey, _ publicKey: Curve25519.KeyAgreement.PublicKey
    ) throws(NoiseError) {
        let shared: [UInt8]
        do {
            shared = try privateKey.sharedSecretFromKeyAgreement(with: publicKey).withUnsafeBytes { Array($0) }
        } catch {
            throw .invalidPublicKey(context: "X25519 failed: \(error)")
        }
        guard shared.contains(where: { $0 != 0 }) else {
            throw .invalidPublicKey(context: "low-order point (all-zero shared secret)")
        }
        symmetric.mixKey(shared)
    }

    private func ephemeral() throws(NoiseError) -> Curve25519.KeyAgreement.PrivateKey {
        guard let localEphemeral else { throw .outOfTurn(expected: "local ephemeral key") }
        return localEphemeral
    }

    private func remoteE() throws(NoiseError) -> Curve25519.KeyAgreement.PublicKey {
        guard let remoteEphemeral else { throw .outOfTurn(expected: "remote ephemeral key") }
        return remoteEphemeral
    }

    private func remoteS() throws(NoiseError) -> Curve25519.KeyAgreement.PublicKey {
        guard let remoteStaticPublicKey else { throw .outOfTurn(expected: "remote static key") }
        return remoteStaticPublicKey
    }

    private static func raw(_ key: Curve25519.KeyAgreement.PublicKey) -> [UInt8] {
        Array(key.rawRepresentation)
    }

    private static func publicKey(_ bytes: [UInt8], context: String) throws(NoiseError) -> Curve25519.KeyAgreement.PublicKey {
        do {
            return try Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes)
        } catch {
            throw .invalidPublicKey(context: "\(context): \(error)")
        }
    }
}

/// Reads fixed-size fields off the front of a handshake message.
private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func take(_ count: Int) throws(NoiseError) -> [UInt8] {
        guard bytes.count - offset >= count else {
            throw .messageTooShort(length: bytes.count, needed: offset + count)
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    func rest() -> [UInt8] { Array(bytes[offset...]) }
}
