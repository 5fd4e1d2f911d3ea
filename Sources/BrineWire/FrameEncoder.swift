/// Writes frames in the format `FrameDecoder` reads: a 4-byte big-endian
/// length, then the body.
///
/// It enforces the same limits as the decoder so that a bug on our side shows
/// up as an error here, not as the peer closing the connection.
public struct FrameEncoder: Sendable {
    /// Largest body this encoder will frame.
    public let maximumFrameLength: Int

    public init(maximumFrameLength: Int = FrameDecoder.defaultMaximumFrameLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    /// `payload` with its length header.
    public func encode(_ payload: some Collection<UInt8>) throws(FrameError) -> [UInt8] {
        var out: [UInt8] = []
        try append(payload, to: &out)
        return out
    }

    /// Appends the framed `payload` to `out` (lets a caller batch several frames
    /// into one write).
    public func append(_ payload: some Collection<UInt8>, to out: inout [UInt8]) throws(FrameError) {
        let length = payload.count
        guard length > 0 else { throw .emptyFrame }
        guard length <= maximumFrameLength else {
            throw .frameTooLarge(length: length, limit: maximumFrameLength)
        }
        out.reserveCapacity(out.count + FrameDecoder.headerLength + length)
        out.append(UInt8(truncatingIfNeeded: length >> 24))
        out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.append(UInt8(truncatingIfNeeded: length >> 8))
        out.append(UInt8(truncatingIfNeeded: length))
        out.append(contentsOf: payload)
    }
}
