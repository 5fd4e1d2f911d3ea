import Crypto
import Testing

import BrineWire

/// The whole wire as the NIO glue will drive it, minus the sockets: framed
/// handshake messages, then a SecureStream, with bytes delivered in random pieces.
@Suite("Handshake and stream over a byte pipe")
struct EndToEndTests {
    /// One side of a connection: its handshake, its frame decoder, then its stream.
    struct Peer {
        var handshake: HandshakeState
        var decoder = FrameDecoder(maximumFrameLength: FrameDecoder.noiseFrameLimit)
        var stream: SecureStream?
        var received: [[UInt8]] = []
        var handshakePayloads: [[UInt8]] = []
        let encoder = FrameEncoder(maximumFrameLength: FrameDecoder.noiseFrameLimit)

        init(_ handshake: HandshakeState) { self.handshake = handshake }

        /// Bytes to send now (next handshake message if it is our turn).
        mutating func pendingHandshakeBytes(payload: [UInt8]) throws -> [UInt8] {
            guard stream == nil, handshake.isOurTurnToWrite else { return [] }
            let bytes = try encoder.encode(try handshake.writeMessage(payload: payload))
            if handshake.isComplete { stream = SecureStream(transport: try handshake.transport()) }
            return bytes
        }

        mutating func receive(_ bytes: ArraySlice<UInt8>) throws {
            if var stream {
                received += try stream.open(bytes)
                self.stream = stream
                return
            }
            var frames = try decoder.feed(bytes)
            while !frames.isEmpty, stream == nil {
                handshakePayloads.append(try handshake.readMessage(frames.removeFirst()))
                if handshake.isComplete {
                    var newStream = SecureStream(transport: try handshake.transport(), frameDecoder: decoder)
                    for frame in frames {
                        if let message = try newStream.openFrame(frame) { received.append(message) }
                    }
                    frames = []
                    stream = newStream
                }
            }
        }
    }

    @Test("minion and master agree on everything, whatever the TCP segmentation", arguments: [11, 12, 13, 14] as [UInt64])
    func conversation(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let minionKey = StaticKeyPair.generate()
        let masterKey = StaticKeyPair.generate()
        let prologue = Array("brine wire test".utf8)
        var minion = Peer(HandshakeState(
            role: .initiator, localStatic: minionKey.privateKey, prologue: prologue,
            pin: .fingerprint(masterKey.fingerprint)))
        var master = Peer(HandshakeState(role: .responder, localStatic: masterKey.privateKey, prologue: prologue))

        // Handshake; the minion sends its first messages right behind its last handshake message.
        var toMaster = try minion.pendingHandshakeBytes(payload: [])
        for piece in random.pieces(of: toMaster, maxPiece: 7) { try master.receive(piece) }
        let toMinion = try master.pendingHandshakeBytes(payload: Array("master hello".utf8))
        for piece in random.pieces(of: toMinion, maxPiece: 13) { try minion.receive(piece) }
        toMaster = try minion.pendingHandshakeBytes(payload: Array("id: jessie1".utf8))
        let requests = (0..<10).map { _ in random.bytes(Int.random(in: 0...150_000, using: &random)) }
        var minionStream = try #require(minion.stream)
        for request in requests { toMaster += try minionStream.seal(request) }
        for piece in random.pieces(of: toMaster, maxPiece: 40_000) { try master.receive(piece) }

        #expect(minion.handshakePayloads == [Array("master hello".utf8)])
        #expect(master.handshakePayloads == [[], Array("id: jessie1".utf8)])
        #expect(master.received == requests)
        var masterStream = try #require(master.stream)
        #expect(masterStream.handshakeHash == minionStream.handshakeHash)
        #expect(masterStream.remoteStaticPublicKey.rawRepresentation == minionKey.publicKey.rawRepresentation)
        #expect(KeyFingerprint.of(minionStream.remoteStaticPublicKey) == masterKey.fingerprint)

        let replies = requests.map { Array($0.reversed()) }
        var back: [UInt8] = []
        for reply in replies { back += try masterStream.seal(reply) }
        var got: [[UInt8]] = []
        for piece in random.pieces(of: back, maxPiece: 100_000) { got += try minionStream.open(piece) }
        #expect(got == replies)
    }
}
