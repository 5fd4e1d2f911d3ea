/// Splits the engine's multiplexed stream (logs, attach, exec without a
/// TTY): frames of an 8-byte header — stream type, three zero bytes, a
/// big-endian payload length — then the payload. Chunks may cut a frame
/// anywhere, so partial frames wait for the next chunk.
public struct StreamDemuxer: Sendable {
    public enum Stream: UInt8, Sendable {
        case stdin = 0, stdout = 1, stderr = 2
    }

    private var pending: [UInt8] = []

    public init() {}

    /// The complete frames that `bytes` finishes, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [(Stream, [UInt8])] {
        pending.append(contentsOf: bytes)
        var frames: [(Stream, [UInt8])] = []
        var offset = 0
        while pending.count - offset >= 8 {
            let size = pending[offset + 4..<offset + 8].reduce(0) { $0 << 8 | Int($1) }
            guard pending.count - offset - 8 >= size else { break }
            let stream = Stream(rawValue: pending[offset]) ?? .stdout
            frames.append((stream, Array(pending[offset + 8..<offset + 8 + size])))
            offset += 8 + size
        }
        pending.removeFirst(offset)
        return frames
    }

    /// Bytes of an unfinished frame left when the stream ended.
    public var leftover: Int { pending.count }
}

/// Collects bytes into lines for streams read as text (progress lines).
public struct LineSplitter: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    public mutating func feed(_ bytes: [UInt8]) -> [String] {
        pending += bytes
        var lines: [String] = []
        while let newline = pending.firstIndex(of: 10) {
            lines.append(String(decoding: pending[..<newline], as: UTF8.self))
            pending.removeSubrange(...newline)
        }
        return lines
    }

    /// The last line when it had no newline.
    public mutating func finish() -> String? {
        defer { pending = [] }
        return pending.isEmpty ? nil : String(decoding: pending, as: UTF8.self)
    }
}
