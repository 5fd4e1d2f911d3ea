import Crypto
import Foundation
import Testing

import BrineWire

/// One vector in the cacophony / noise-c JSON format.
struct NoiseVector: Decodable {
    struct Message: Decodable {
        let payload: String
        let ciphertext: String
    }

    let name: String?
    let protocolName: String?
    let initPrologue: String
    let initStatic: String
    let initEphemeral: String
    let respPrologue: String
    let respStatic: String
    let respEphemeral: String
    let handshakeHash: String?
    let messages: [Message]

    enum CodingKeys: String, CodingKey {
        case name
        case protocolName = "protocol_name"
        case initPrologue = "init_prologue"
        case initStatic = "init_static"
        case initEphemeral = "init_ephemeral"
        case respPrologue = "resp_prologue"
        case respStatic = "resp_static"
        case respEphemeral = "resp_ephemeral"
        case handshakeHash = "handshake_hash"
        case messages
    }
}

struct VectorFile: Decodable {
    let vectors: [NoiseVector]
}

/// The vector files under Resources (see Resources/README.md for their sources).
let vectorFileNames = [
    "cacophony-XX_25519_ChaChaPoly_SHA256",
    "snow-XX_25519_ChaChaPoly_SHA256",
    "noise-c-basic-XX_25519_ChaChaPoly_SHA256",
]

func loadVectors(_ fileName: String) throws -> [NoiseVector] {
    let url = try #require(
        Bundle.module.url(forResource: fileName, withExtension: "json", subdirectory: "Resources"))
    return try JSONDecoder().decode(VectorFile.self, from: Data(contentsOf: url)).vectors
}

func hex(_ string: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = string.startIndex
    while index < string.endIndex {
        let next = string.index(index, offsetBy: 2)
        bytes.append(UInt8(string[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

@Suite("Published Noise test vectors")
struct NoiseVectorTests {
    @Test("every XX_25519_ChaChaPoly_SHA256 vector replays byte for byte", arguments: vectorFileNames)
    func replay(fileName: String) throws {
        let vectors = try loadVectors(fileName)
        #expect(!vectors.isEmpty)
        for vector in vectors {
            #expect((vector.name ?? vector.protocolName) == Noise.protocolName)
            try replay(vector)
        }
    }

    private func replay(_ vector: NoiseVector) throws {
        var initiator = HandshakeState(
            role: .initiator,
            localStatic: try .init(rawRepresentation: hex(vector.initStatic)),
            localEphemeral: try .init(rawRepresentation: hex(vector.initEphemeral)),
            prologue: hex(vector.initPrologue))
        var responder = HandshakeState(
            role: .responder,
            localStatic: try .init(rawRepresentation: hex(vector.respStatic)),
            localEphemeral: try .init(rawRepresentation: hex(vector.respEphemeral)),
            prologue: hex(vector.respPrologue))

        #expect(vector.messages.count >= 3)
        // Handshake: messages 0 and 2 from the initiator, 1 from the responder.
        for (index, message) in vector.messages.prefix(3).enumerated() {
            let payload = hex(message.payload)
            let written: [UInt8]
            let read: [UInt8]
            if index % 2 == 0 {
                written = try initiator.writeMessage(payload: payload)
                read = try responder.readMessage(written)
            } else {
                written = try responder.writeMessage(payload: payload)
                read = try initiator.readMessage(written)
            }
            #expect(hexString(written) == message.ciphertext, "handshake message \(index)")
            #expect(read == payload, "handshake payload \(index)")
        }
        #expect(initiator.isComplete && responder.isComplete)

        var initiatorTransport = try initiator.transport()
        var responderTransport = try responder.transport()
        #expect(initiatorTransport.handshakeHash == responderTransport.handshakeHash)
        if let expected = vector.handshakeHash {
            #expect(hexString(initiatorTransport.handshakeHash) == expected)
        }
        let initiatorStatic = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: hex(vector.initStatic))
        let responderStatic = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: hex(vector.respStatic))
        #expect(initiatorTransport.remoteStaticPublicKey.rawRepresentation == responderStatic.publicKey.rawRepresentation)
        #expect(responderTransport.remoteStaticPublicKey.rawRepresentation == initiatorStatic.publicKey.rawRepresentation)

        // Transport: the vector keeps alternating initiator, responder, …
        for (index, message) in vector.messages.enumerated().dropFirst(3) {
            let payload = hex(message.payload)
            let written: [UInt8]
            let read: [UInt8]
            if index % 2 == 0 {
                written = try initiatorTransport.encrypt(payload)
                read = try responderTransport.decrypt(written)
            } else {
                written = try responderTransport.encrypt(payload)
                read = try initiatorTransport.decrypt(written)
            }
            #expect(hexString(written) == message.ciphertext, "transport message \(index)")
            #expect(read == payload, "transport payload \(index)")
        }
    }

    @Test("the vector files hold only XX_25519_ChaChaPoly_SHA256, three vectors in all")
    func vectorCount() throws {
        let all = try vectorFileNames.flatMap(loadVectors)
        #expect(all.count == 3)
        #expect(all.reduce(0) { $0 + $1.messages.count } == 17)
    }
}
