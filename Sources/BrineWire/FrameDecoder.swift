/// Splits a byte stream into frames: a 4-byte big-endian length, then that
/// many bytes.
///
/// TCP delivers bytes in arbitrary pieces, so `feed` accepts any chunk and
/// returns the frames it completes (zero or more). The length is checked as
/// soon as the 4 header bytes are in, before any body is buffered. After an
/// error every further `feed` fails too: the caller closes the connection.
///
/// Over a Noise connection every frame is one Noise message, so the decoder
/// there is built with `maximumFrameLength: FrameDecoder.noiseFrameLimit`.
public struct FrameDecoder: Sendable {
    /// Default limit: 16 MiB, the largest payload Brine accepts in one frame.
    public static let defaultMaximumFrameLength = 16 * 1024 * 1024
    /// Limit for frames that carry one Noise message (handshake or transport).
    public static let noiseFrameLimit = Noise.maximumMessageLength
    /// Size of the length header.
    public static let headerLength = 4

    /// Buffer capacity kept between frames.
    static let retainedCapacity = 4096

    /// Largest accepted frame body.
    public let maximumFrameLength: Int
    private var buffer: [UInt8] = []
    /// Start of unconsumed bytes in `buffer`; compacting lazily keeps `feed`
    /// linear in the input instead of shifting the buffer for every frame.
    private var readIndex = 0
    private var failure: FrameError?

    public init(maximumFrameLength: Int = FrameDecoder.defaultMaximumFrameLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    /// Bytes received but not yet part of a returned frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Appends `bytes` and returns every frame body completed by them, in order.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(FrameError) -> [[UInt8]] {
        if let failure { throw .decoderFailed(previous: failure.description) }
        buffer.append(contentsOf: bytes)
        var frames: [[UInt8]] = []
        do {
            while let frame = try nextFrame() {
                frames.append(frame)
            }
        } catch {
            failure = error
            buffer = []
            readIndex = 0
            throw error
        }
        compact()
        return frames
    }

    private mutating func nextFrame() throws(FrameError) -> [UInt8]? {
        guard bufferedByteCount >= Self.headerLength else { return nil }
        var length = 0
        for offset in 0..<Self.headerLength {
            length = length << 8 | Int(buffer[readIndex + offset])
        }
        guard length > 0 else { throw .emptyFrame }
        guard length <= maximumFrameLength else {
            throw .frameTooLarge(length: length, limit: maximumFrameLength)
        }
        guard bufferedByteCount >= Self.headerLength + length else { return nil }
        let start = readIndex + Self.headerLength
        readIndex = start + length
        return Array(buffer[start..<readIndex])
    }

    private mutating func compact() {
        if readIndex == buffer.count {
            // Idle connections keep at most a small buffer: the master holds
            // thousands of them, and one 64 KiB frame must not pin 64 KiB each.
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedCapacity)
            readIndex = 0
        } else if readIndex > 65536 && readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }
}
