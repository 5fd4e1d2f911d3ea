import Crypto

/// The two CipherStates that protect a connection after the handshake.
///
/// Nonces are implicit and strictly increasing, so every message must be
/// decrypted in the order it was sent, exactly once: a replayed, dropped or
/// reordered frame fails to authenticate. After any failure the state refuses
/// further use, because the two sides' counters can no longer be trusted to
/// agree: the caller must close the connection.
public struct TransportState: Sendable {
    private var sender: CipherState
    private var receiver: CipherState
    private var failure: NoiseError?

    /// The final handshake hash, identical on both sides; usable for channel
    /// binding (e.g. signing it proves a message belongs to this session).
    public let handshakeHash: [UInt8]
    /// The peer's authenticated static key: the master looks the minion's id up
    /// against it; the minion compares it with the pinned master key.
    public let remoteStaticPublicKey: Curve25519.KeyAgreement.PublicKey

    init(
        sender: CipherState, receiver: CipherState,
        handshakeHash: [UInt8], remoteStaticPublicKey: Curve25519.KeyAgreement.PublicKey
    ) {
        self.sender = sender
        self.receiver = receiver
        self.handshakeHash = handshakeHash
        self.remoteStaticPublicKey = remoteStaticPublicKey
    }

    /// Nonce of the next message we send (number of messages sent so far).
    public var sendNonce: UInt64 { sender.nonce }
    /// Nonce of the next message we expect (number of messages received so far).
    public var receiveNonce: UInt64 { receiver.nonce }

    /// Encrypts one Noise transport message. `plaintext` may be at most
    /// `Noise.maximumPlaintextLength` (65519) bytes; larger payloads are the
    /// business of `SecureStream`, which splits them.
    public mutating func encrypt(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        if let failure { throw .stateFailed(previous: failure.description) }
        guard plaintext.count <= Noise.maximumPlaintextLength else {
            // Refusing is not a state failure: nothing was sent, the nonce is unchanged.
            throw .messageTooLarge(length: plaintext.count + Noise.tagLength, limit: Noise.maximumMessageLength)
        }
        do {
            return try sender.encrypt(associatedData: [], plaintext: plaintext)
        } catch {
            failure = error
            throw error
        }
    }

    /// Decrypts the next Noise transport message from the peer.
    public mutating func decrypt(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        if let failure { throw .stateFailed(previous: failure.description) }
        guard message.count <= Noise.maximumMessageLength else {
            let error = NoiseError.messageTooLarge(length: message.count, limit: Noise.maximumMessageLength)
            failure = error
            throw error
        }
        do {
            return try receiver.decrypt(associatedData: [], ciphertext: message)
        } catch {
            failure = error
            throw error
        }
    }

    /// Rekeys our sending direction (spec §11.3). Both sides must agree when;
    /// Brine's protocol does not do it yet.
    public mutating func rekeySender() throws(NoiseError) { try sender.rekey() }

    /// Rekeys the receiving direction, in step with the peer's `rekeySender()`.
    public mutating func rekeyReceiver() throws(NoiseError) { try receiver.rekey() }
}
