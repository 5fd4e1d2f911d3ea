import Crypto
import Testing

import BrineWire

@Suite("Secure stream chunking")
struct SecureStreamTests {
    func pair() throws -> (SecureStream, SecureStream) {
        let (client, server) = try handshake()
        return (SecureStream(transport: client), SecureStream(transport: server))
    }

    @Test("messages of every size cross random chunk boundaries", arguments: [7, 99, 2024] as [UInt64])
    func randomBoundaries(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        var (client, server) = try pair()
        let chunk = SecureStream.maximumChunkDataLength
        var sizes = [0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 3 * chunk + 17, 1_000_000]
        sizes += (0..<20).map { _ in Int.random(in: 0...200_000, using: &random) }
        let messages = sizes.map { random.bytes($0) }

        var wire: [UInt8] = []
        for message in messages { wire += try client.seal(message) }
        var received: [[UInt8]] = []
        for piece in random.pieces(of: wire, maxPiece: 70_000) {
            received += try server.open(piece)
        }
        #expect(received.count == messages.count)
        #expect(received == messages)
    }

    @Test("split halves carry each direction on its own, interleaved")
    func splitHalves() throws {
        let (client, server) = try pair()
        var (clientSealer, clientOpener) = client.split()
        var (serverSealer, serverOpener) = server.split()
        for round in 0..<5 {
            let out = try clientSealer.seal([UInt8(round)])
            let back = try serverSealer.seal([UInt8(round), 1])
            #expect(try serverOpener.open(out) == [[UInt8(round)]])
            #expect(try clientOpener.open(back) == [[UInt8(round), 1]])
        }
        // A frame replayed to the opener fails: its own nonce moved on.
        let again = try clientSealer.seal([9])
        #expect(try serverOpener.open(again) == [[9]])
        #expect(throws: SecureStreamError.self) { try serverOpener.open(again) }
    }

    @Test("chunk layout: ⌈n/65518⌉ frames, each at most 65535 bytes")
    func layout() throws {
        var (client, _) = try pair()
        let message = [UInt8](repeating: 3, count: 2 * SecureStream.maximumChunkDataLength + 1)
        var wire = try client.seal(message)
        var decoder = FrameDecoder(maximumFrameLength: FrameDecoder.noiseFrameLimit)
        let frames = try decoder.feed(wire)
        #expect(frames.map(\.count) == [65535, 65535, 1 + 1 + 16])
        wire = try client.seal([])
        #expect(wire.count == 4 + 1 + 16)
    }

    @Test("both directions work at once")
    func duplex() throws {
        var (client, server) = try pair()
        let request = Array("{\"fun\": \"test.ping\"}".utf8)
        #expect(try server.open(try client.seal(request)) == [request])
        let reply = Array("True".utf8)
        #expect(try client.open(try server.seal(reply)) == [reply])
        #expect(client.handshakeHash == server.handshakeHash)
    }

    @Test("a replayed frame kills the stream")
    func replayedFrame() throws {
        var (client, server) = try pair()
        let wire = try client.seal(Array("state.apply".utf8))
        _ = try server.open(wire)
        let error = #expect(throws: SecureStreamError.self) { try server.open(wire) }
        #expect(error == .noise(.decryptionFailed(nonce: 1)))
        #expect(throws: SecureStreamError.self) { try server.open(try client.seal([1])) }
    }

    @Test("a tampered byte anywhere in a frame body kills the stream")
    func tampered() throws {
        var random = SeededRandom(seed: 5)
        for _ in 0..<20 {
            var (client, server) = try pair()
            var wire = try client.seal(random.bytes(300))
            let index = Int.random(in: 4..<wire.count, using: &random)
            wire[index] ^= UInt8.random(in: 1...255, using: &random)
            #expect(throws: SecureStreamError.self) { try server.open(wire) }
        }
    }

    @Test("oversized messages are refused on both sides")
    func oversized() throws {
        let (client, server) = try handshake()
        var sender = SecureStream(transport: client, maximumMessageLength: 200_000)
        var receiver = SecureStream(transport: server, maximumMessageLength: 100_000)
        #expect(throws: SecureStreamError.messageTooLarge(length: 200_001, limit: 200_000)) {
            try sender.seal([UInt8](repeating: 0, count: 200_001))
        }
        // Refusing to send leaves the sender usable; the receiver refuses on its own limit.
        let wire = try sender.seal([UInt8](repeating: 0, count: 150_000))
        let error = #expect(throws: SecureStreamError.self) { try receiver.open(wire) }
        #expect(error == .messageTooLarge(length: 131_036, limit: 100_000))

        // A frame longer than one Noise message is refused by the frame layer.
        var (_, server2) = try pair()
        #expect(throws: SecureStreamError.frame(.frameTooLarge(length: 65536, limit: 65535))) {
            try server2.open([0, 1, 0, 0])
        }
    }

    @Test("leftover handshake frames and buffered bytes are not lost")
    func handshakeLeftovers() throws {
        var initiator = HandshakeState(role: .initiator, localStatic: PrivateKey())
        var responder = HandshakeState(role: .responder, localStatic: PrivateKey())
        let encoder = FrameEncoder(maximumFrameLength: FrameDecoder.noiseFrameLimit)
        var responderDecoder = FrameDecoder(maximumFrameLength: FrameDecoder.noiseFrameLimit)
        let message1 = try responderDecoder.feed(try encoder.encode(try initiator.writeMessage()))
        _ = try responder.readMessage(message1[0])
        _ = try initiator.readMessage(try responder.writeMessage())

        // The initiator sends its last handshake message and, in the same write,
        // one whole logical message and the start of another.
        var burst = try encoder.encode(try initiator.writeMessage())
        var initiatorStream = SecureStream(transport: try initiator.transport())
        let first = Array("first".utf8)
        let second = Array("second".utf8)
        burst += try initiatorStream.seal(first)
        let secondWire = try initiatorStream.seal(second)
        burst += secondWire.prefix(10)

        var frames = try responderDecoder.feed(burst)
        #expect(frames.count == 2)
        _ = try responder.readMessage(frames.removeFirst())
        var responderStream = SecureStream(transport: try responder.transport(), frameDecoder: responderDecoder)
        var received: [[UInt8]] = []
        for frame in frames {
            if let message = try responderStream.openFrame(frame) { received.append(message) }
        }
        received += try responderStream.open(secondWire.dropFirst(10))
        #expect(received == [first, second])
    }

    @Test("malformed chunk flags are refused")
    func badFlags() throws {
        var (client, server) = try handshake()
        var serverStream = SecureStream(transport: server)
        let encoder = FrameEncoder()
        let badFlag = try encoder.encode(try client.encrypt([7, 1, 2]))
        #expect(throws: SecureStreamError.invalidChunkFlag(7)) { try serverStream.open(badFlag) }

        var (client2, server2) = try handshake()
        var stream2 = SecureStream(transport: server2)
        #expect(throws: SecureStreamError.emptyContinuationChunk) {
            try stream2.open(try encoder.encode(try client2.encrypt([1])))
        }
        var (client3, server3) = try handshake()
        var stream3 = SecureStream(transport: server3)
        #expect(throws: SecureStreamError.emptyChunk) {
            try stream3.open(try encoder.encode(try client3.encrypt([])))
        }
    }
}
