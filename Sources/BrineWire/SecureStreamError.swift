/// Why a `SecureStream` gave up. Every case closes the connection.
public enum SecureStreamError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The frame layer rejected the byte stream (oversized or empty frame).
    case frame(FrameError)
    /// A Noise message failed (tampered, replayed, reordered, too large).
    case noise(NoiseError)
    /// A decrypted chunk had no flag byte.
    case emptyChunk
    /// A chunk's flag byte was neither "final" (0) nor "more follows" (1).
    case invalidChunkFlag(UInt8)
    /// A "more follows" chunk carried no data, which only a broken or hostile peer sends.
    case emptyContinuationChunk
    /// A logical message exceeds the configured limit (on either side).
    case messageTooLarge(length: Int, limit: Int)
    /// The stream already failed; nothing more can be sent or received on it.
    case streamFailed(previous: String)

    public var description: String {
        switch self {
        case .frame(let error): return "framing: \(error)"
        case .noise(let error): return "noise: \(error)"
        case .emptyChunk: return "decrypted chunk without a flag byte"
        case .invalidChunkFlag(let flag): return "invalid chunk flag \(flag)"
        case .emptyContinuationChunk: return "empty continuation chunk"
        case .messageTooLarge(let length, let limit):
            return "message of at least \(length) bytes exceeds the limit of \(limit) bytes"
        case .streamFailed(let previous): return "secure stream unusable after an earlier error: \(previous)"
        }
    }
}
