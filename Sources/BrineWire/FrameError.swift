/// Why a frame stream was rejected. Each case means: close this connection
/// (only this one), log the reason, keep serving the others.
public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The length header announces more than the configured maximum; we refuse
    /// before buffering, so a hostile peer cannot make us allocate gigabytes.
    case frameTooLarge(length: Int, limit: Int)
    /// A zero length header; no message in the protocol is empty, and allowing
    /// them would let a peer keep a connection busy for free.
    case emptyFrame
    /// The decoder already failed; its stream position is unknown.
    case decoderFailed(previous: String)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            return "frame of \(length) bytes exceeds the limit of \(limit) bytes"
        case .emptyFrame:
            return "zero-length frame"
        case .decoderFailed(let previous):
            return "frame decoder unusable after an earlier error: \(previous)"
        }
    }
}
