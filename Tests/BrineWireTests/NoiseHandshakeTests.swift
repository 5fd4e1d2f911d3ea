import Crypto
import Testing

import BrineWire

typealias PrivateKey = Curve25519.KeyAgreement.PrivateKey

/// Runs a full XX handshake between two fresh states and returns both transports.
func handshake(
    initiatorStatic: PrivateKey = PrivateKey(), responderStatic: PrivateKey = PrivateKey(),
    initiatorPrologue: [UInt8] = [], responderPrologue: [UInt8] = []
) throws -> (TransportState, TransportState) {
    var initiator = HandshakeState(role: .initiator, localStatic: initiatorStatic, prologue: initiatorPrologue)
    var responder = HandshakeState(role: .responder, localStatic: responderStatic, prologue: responderPrologue)
    _ = try responder.readMessage(try initiator.writeMessage())
    _ = try initiator.readMessage(try responder.writeMessage())
    _ = try responder.readMessage(try initiator.writeMessage())
    return (try initiator.transport(), try responder.transport())
}

@Suite("Noise handshake and transport")
struct NoiseHandshakeTests {
    @Test("fresh keys: both sides agree and learn each other's static key")
    func roundTrip() throws {
        let minion = PrivateKey()
        let master = PrivateKey()
        var (client, server) = try handshake(initiatorStatic: minion, responderStatic: master)
        #expect(client.handshakeHash == server.handshakeHash)
        #expect(client.remoteStaticPublicKey.rawRepresentation == master.publicKey.rawRepresentation)
        #expect(server.remoteStaticPublicKey.rawRepresentation == minion.publicKey.rawRepresentation)
        for round in 0..<5 {
            let ping = Array("ping \(round)".utf8)
            #expect(try server.decrypt(try client.encrypt(ping)) == ping)
            let pong = Array("pong \(round)".utf8)
            #expect(try client.decrypt(try server.encrypt(pong)) == pong)
        }
        #expect(client.sendNonce == 5 && client.receiveNonce == 5)
    }

    @Test("handshake payloads arrive, and are encrypted from message 2 on")
    func payloads() throws {
        var initiator = HandshakeState(role: .initiator, localStatic: PrivateKey())
        var responder = HandshakeState(role: .responder, localStatic: PrivateKey())
        let hello = Array("hello".utf8)
        let message1 = try initiator.writeMessage(payload: hello)
        #expect(Array(message1.suffix(5)) == hello)  // message 1 has no key yet: clear text
        #expect(try responder.readMessage(message1) == hello)
        let secret = Array("master-secret-ish".utf8)
        let message2 = try responder.writeMessage(payload: secret)
        #expect(message2.count == 32 + 48 + secret.count + 16)
        #expect(!contains(message2, secret))
        #expect(try initiator.readMessage(message2) == secret)
        let id = Array("minion id jessie1".utf8)
        let message3 = try initiator.writeMessage(payload: id)
        #expect(!contains(message3, id))
        #expect(try responder.readMessage(message3) == id)
        #expect(initiator.isComplete && responder.isComplete)
    }

    @Test("tampered ciphertext fails to decrypt and poisons the transport")
    func tampered() throws {
        var (client, server) = try handshake()
        var frame = try client.encrypt(Array("test.ping".utf8))
        frame[3] ^= 0x01
        #expect(throws: NoiseError.decryptionFailed(nonce: 0)) { try server.decrypt(frame) }
        // Even the genuine message is refused now: the connection must be dropped.
        let genuine = try client.encrypt(Array("x".utf8))
        #expect(throws: NoiseError.self) { try server.decrypt(genuine) }
    }

    @Test("tampered handshake message fails")
    func tamperedHandshake() throws {
        var initiator = HandshakeState(role: .initiator, localStatic: PrivateKey())
        var responder = HandshakeState(role: .responder, localStatic: PrivateKey())
        _ = try responder.readMessage(try initiator.writeMessage())
        var message2 = try responder.writeMessage()
        message2[40] ^= 0x80  // inside the encrypted static key
        #expect(throws: NoiseError.decryptionFailed(nonce: 0)) { try initiator.readMessage(message2) }
        #expect(throws: NoiseError.self) { try initiator.writeMessage() }
    }

    @Test("replayed and reordered messages fail")
    func replay() throws {
        var (client, server) = try handshake()
        let first = try client.encrypt(Array("one".utf8))
        #expect(try server.decrypt(first) == Array("one".utf8))
        #expect(throws: NoiseError.decryptionFailed(nonce: 1)) { try server.decrypt(first) }

        // Reordered: the second frame arrives first.
        var (client2, server2) = try handshake()
        _ = try client2.encrypt(Array("a".utf8))
        let second = try client2.encrypt(Array("b".utf8))
        #expect(throws: NoiseError.decryptionFailed(nonce: 0)) { try server2.decrypt(second) }
    }

    @Test("a message from another session (same keys, new ephemerals) fails")
    func crossSession() throws {
        let minion = PrivateKey()
        let master = PrivateKey()
        var (client1, _) = try handshake(initiatorStatic: minion, responderStatic: master)
        var (_, server2) = try handshake(initiatorStatic: minion, responderStatic: master)
        let frame = try client1.encrypt(Array("job".utf8))
        #expect(throws: NoiseError.decryptionFailed(nonce: 0)) { try server2.decrypt(frame) }
    }

    @Test("wrong prologue fails at the first encrypted handshake message")
    func wrongPrologue() throws {
        var initiator = HandshakeState(role: .initiator, localStatic: PrivateKey(), prologue: Array("brine/1".utf8))
        var responder = HandshakeState(role: .responder, localStatic: PrivateKey(), prologue: Array("brine/2".utf8))
        _ = try responder.readMessage(try initiator.writeMessage())
        let message2 = try responder.writeMessage()
        #expect(throws: NoiseError.decryptionFailed(nonce: 0)) { try initiator.readMessage(message2) }
    }

    @Test("pinned master key: an impostor is detected before the minion reveals itself")
    func pinnedKey() throws {
        let pinnedMaster = PrivateKey()
        let impostor = PrivateKey()
        var minion = HandshakeState(
            role: .initiator, localStatic: PrivateKey(), pin: .key(pinnedMaster.publicKey))
        var master = HandshakeState(role: .responder, localStatic: impostor)
        _ = try master.readMessage(try minion.writeMessage())
        let error = #expect(throws: NoiseError.self) { try minion.readMessage(try master.writeMessage()) }
        #expect(error == .remoteStaticKeyMismatch(
            expected: KeyFingerprint.of(pinnedMaster.publicKey), actual: KeyFingerprint.of(impostor.publicKey)))
        #expect(throws: NoiseError.self) { try minion.writeMessage() }
        #expect(minion.remoteStaticPublicKey == nil)

        // The genuine master passes.
        var minion2 = HandshakeState(
            role: .initiator, localStatic: PrivateKey(), pin: .key(pinnedMaster.publicKey))
        var master2 = HandshakeState(role: .responder, localStatic: pinnedMaster)
        _ = try master2.readMessage(try minion2.writeMessage())
        _ = try minion2.readMessage(try master2.writeMessage())
        _ = try master2.readMessage(try minion2.writeMessage())
        #expect(try minion2.transport().remoteStaticPublicKey.rawRepresentation == pinnedMaster.publicKey.rawRepresentation)
        #expect(throws: NoiseError.transportAlreadyTaken) { try minion2.transport() }
    }

    @Test("pinning by master_finger: any case, with or without colons")
    func pinnedFingerprint() throws {
        let master = StaticKeyPair.generate()
        for finger in [master.fingerprint, master.fingerprint.uppercased(), master.fingerprint.replacingOccurrences(of: ":", with: "")] {
            var minion = HandshakeState(role: .initiator, localStatic: PrivateKey(), pin: .fingerprint(finger))
            var server = HandshakeState(role: .responder, localStatic: master.privateKey)
            _ = try server.readMessage(try minion.writeMessage())
            _ = try minion.readMessage(try server.writeMessage())
            #expect(minion.remoteStaticPublicKey?.rawRepresentation == master.publicKey.rawRepresentation)
        }
        let other = StaticKeyPair.generate()
        var minion = HandshakeState(role: .initiator, localStatic: PrivateKey(), pin: .fingerprint(other.fingerprint))
        var server = HandshakeState(role: .responder, localStatic: master.privateKey)
        _ = try server.readMessage(try minion.writeMessage())
        #expect(throws: NoiseError.remoteStaticKeyMismatch(expected: other.fingerprint, actual: master.fingerprint)) {
            try minion.readMessage(try server.writeMessage())
        }
    }

    @Test("the master sees a different static key than the accepted one")
    func wrongStaticKeyOnMaster() throws {
        let accepted = PrivateKey()
        let other = PrivateKey()
        let (_, server) = try handshake(initiatorStatic: other)
        #expect(server.remoteStaticPublicKey.rawRepresentation != accepted.publicKey.rawRepresentation)
        #expect(!KeyFingerprint.matches(KeyFingerprint.of(accepted.publicKey), server.remoteStaticPublicKey))
        #expect(KeyFingerprint.matches(KeyFingerprint.of(other.publicKey).uppercased(), server.remoteStaticPublicKey))
    }

    @Test("oversized messages are refused without advancing the nonce")
    func oversized() throws {
        var (client, server) = try handshake()
        let tooBig = [UInt8](repeating: 7, count: Noise.maximumPlaintextLength + 1)
        #expect(throws: NoiseError.messageTooLarge(length: 65536, limit: 65535)) { try client.encrypt(tooBig) }
        let largest = [UInt8](repeating: 7, count: Noise.maximumPlaintextLength)
        let frame = try client.encrypt(largest)
        #expect(frame.count == 65535)
        #expect(try server.decrypt(frame) == largest)
        #expect(throws: NoiseError.messageTooLarge(length: 65536, limit: 65535)) {
            try server.decrypt([UInt8](repeating: 0, count: 65536))
        }

        var initiator = HandshakeState(role: .initiator, localStatic: PrivateKey())
        var responder2 = HandshakeState(role: .responder, localStatic: PrivateKey())
        #expect(initiator.maximumPayloadLength == 65535 - 32)
        #expect(throws: NoiseError.messageTooLarge(length: 65536, limit: 65535)) {
            try initiator.writeMessage(payload: [UInt8](repeating: 0, count: 65536 - 32))
        }
        // Refused before any state change: the handshake goes on, at the exact limit.
        let message1 = try initiator.writeMessage(payload: [UInt8](repeating: 0, count: 65535 - 32))
        #expect(message1.count == 65535)
        _ = try responder2.readMessage(message1)
        #expect(responder2.maximumPayloadLength == 65535 - 32 - 48 - 16)
        let message2 = try responder2.writeMessage(payload: [UInt8](repeating: 1, count: responder2.maximumPayloadLength))
        #expect(message2.count == 65535)
        _ = try initiator.readMessage(message2)
        #expect(initiator.maximumPayloadLength == 65535 - 48 - 16)
        #expect(try initiator.writeMessage(payload: [UInt8](repeating: 2, count: initiator.maximumPayloadLength)).count == 65535)
        var responder = HandshakeState(role: .responder, localStatic: PrivateKey())
        #expect(throws: NoiseError.messageTooLarge(length: 70000, limit: 65535)) {
            try responder.readMessage([UInt8](repeating: 1, count: 70000))
        }
    }

    @Test("truncated handshake messages and low-order keys are refused")
    func malformedHandshake() throws {
        var responder = HandshakeState(role: .responder, localStatic: PrivateKey())
        #expect(throws: NoiseError.messageTooShort(length: 10, needed: 32)) {
            try responder.readMessage([UInt8](repeating: 1, count: 10))
        }
        var responder2 = HandshakeState(role: .responder, localStatic: PrivateKey())
        _ = try responder2.readMessage([UInt8](repeating: 0, count: 32))  // e = 0: only hashed so far
        let error = #expect(throws: NoiseError.self) { try responder2.writeMessage() }
        guard case .invalidPublicKey = error else {
            Issue.record("expected invalidPublicKey, got \(String(describing: error))")
            return
        }
    }

    @Test("steps out of turn are refused")
    func outOfTurn() throws {
        var initiator = HandshakeState(role: .initiator, localStatic: PrivateKey())
        #expect(throws: NoiseError.outOfTurn(expected: "writeMessage")) { try initiator.readMessage([]) }
        var responder = HandshakeState(role: .responder, localStatic: PrivateKey())
        #expect(throws: NoiseError.outOfTurn(expected: "readMessage")) { try responder.writeMessage() }
        #expect(throws: NoiseError.handshakeNotComplete) { try responder.transport() }
    }

    @Test("the reserved nonce 2^64-1 is never used")
    func nonceExhaustion() throws {
        let key = [UInt8](repeating: 0x42, count: 32)
        var sender = CipherState(key: key, nonce: UInt64.max - 1)
        var receiver = CipherState(key: key, nonce: UInt64.max - 1)
        let last = try sender.encrypt(associatedData: [], plaintext: [1])
        #expect(try receiver.decrypt(associatedData: [], ciphertext: last) == [1])
        #expect(throws: NoiseError.nonceExhausted) { try sender.encrypt(associatedData: [], plaintext: [2]) }
        #expect(throws: NoiseError.nonceExhausted) { try receiver.decrypt(associatedData: [], ciphertext: last) }
    }

    @Test("an empty CipherState passes data through, as the spec requires before MixKey")
    func emptyCipherState() throws {
        var cipher = CipherState()
        #expect(!cipher.hasKey)
        #expect(try cipher.encrypt(associatedData: [9], plaintext: [1, 2]) == [1, 2])
        #expect(cipher.nonce == 0)
    }

    @Test("rekey in step keeps both sides in agreement")
    func rekey() throws {
        var (client, server) = try handshake()
        try client.rekeySender()
        try server.rekeyReceiver()
        #expect(try server.decrypt(try client.encrypt([1, 2, 3])) == [1, 2, 3])
        try client.rekeySender()
        #expect(throws: NoiseError.self) { try server.decrypt(try client.encrypt([4])) }
    }
}

func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<$0 + needle.count]) == needle }
}
