import Testing

import BrineWire

@Suite("Length-prefixed frames")
struct FramingTests {
    @Test("header is 4-byte big-endian length")
    func header() throws {
        let frame = try FrameEncoder().encode([0xAA, 0xBB, 0xCC])
        #expect(frame == [0, 0, 0, 3, 0xAA, 0xBB, 0xCC])
        let big = try FrameEncoder().encode([UInt8](repeating: 1, count: 0x0102_03))
        #expect(Array(big.prefix(4)) == [0, 0x01, 0x02, 0x03])
    }

    @Test("frames survive random chunk boundaries", arguments: [1, 2, 3, 42, 1234] as [UInt64])
    func randomBoundaries(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let payloads = (0..<200).map { _ in random.bytes(Int.random(in: 1...3000, using: &random)) }
        var wire: [UInt8] = []
        let encoder = FrameEncoder()
        for payload in payloads { try encoder.append(payload, to: &wire) }

        var decoder = FrameDecoder()
        var received: [[UInt8]] = []
        for piece in random.pieces(of: wire, maxPiece: 5000) {
            received += try decoder.feed(piece)
        }
        #expect(received == payloads)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("byte-at-a-time feeding yields each frame exactly when complete")
    func byteAtATime() throws {
        let wire = try FrameEncoder().encode([1, 2]) + FrameEncoder().encode([3])
        var decoder = FrameDecoder()
        var counts: [Int] = []
        for byte in wire { counts.append(try decoder.feed([byte]).count) }
        #expect(counts == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
    }

    @Test("an oversized header is refused before its body arrives, and the decoder stays failed")
    func oversized() throws {
        var decoder = FrameDecoder(maximumFrameLength: 65535)
        #expect(throws: FrameError.frameTooLarge(length: 65536, limit: 65535)) {
            try decoder.feed([0x00, 0x01, 0x00, 0x00])
        }
        #expect(throws: FrameError.decoderFailed(previous: "frame of 65536 bytes exceeds the limit of 65535 bytes")) {
            try decoder.feed([1])
        }
        var defaultDecoder = FrameDecoder()
        #expect(throws: FrameError.frameTooLarge(length: 0xFFFF_FFFF, limit: 16 * 1024 * 1024)) {
            try defaultDecoder.feed([0xFF, 0xFF, 0xFF, 0xFF])
        }
        #expect(throws: FrameError.frameTooLarge(length: 65536, limit: 65535)) {
            try FrameEncoder(maximumFrameLength: 65535).encode([UInt8](repeating: 0, count: 65536))
        }
    }

    @Test("zero-length frames are an error on both ends")
    func empty() throws {
        var decoder = FrameDecoder()
        let good = try FrameEncoder().encode([9])
        #expect(throws: FrameError.emptyFrame) { try decoder.feed(good + [0, 0, 0, 0]) }
        #expect(throws: FrameError.emptyFrame) { try FrameEncoder().encode([]) }
    }

    @Test("a frame exactly at the limit is accepted")
    func atLimit() throws {
        var decoder = FrameDecoder(maximumFrameLength: 100)
        let payload = [UInt8](repeating: 5, count: 100)
        #expect(try decoder.feed(try FrameEncoder(maximumFrameLength: 100).encode(payload)) == [payload])
    }
}
