import Crypto

/// Logical messages of any size (up to a limit) over a Noise transport.
///
/// Wire format, after the handshake:
///
/// - Each frame (4-byte big-endian length, see `FrameEncoder`) carries exactly
///   one Noise transport message, so a frame body is at most 65535 bytes.
/// - The plaintext of each Noise message is one **flag byte** followed by
///   0…65518 data bytes (`maximumChunkDataLength` = 65535 − 16 tag − 1 flag).
///   Flag `0x00`: this chunk ends the logical message. Flag `0x01`: more chunks
///   of the same message follow. Any other flag is a protocol error.
/// - A logical message (for Brine, the msgpack bytes of one `Value`) of n bytes
///   is sent as ⌈n / 65518⌉ chunks (one chunk with no data if n = 0); every chunk
///   but the last is full when we send, and a peer's "more follows" chunk must
///   carry at least one byte.
/// - The receiver refuses a message longer than `maximumMessageLength`
///   (16 MiB by default) as soon as the chunks so far exceed it.
///
/// The flag is inside the encryption, so an attacker cannot splice or truncate
/// messages; and since Noise nonces are implicit, chunks cannot be reordered.
/// The stream is a value type with no I/O: `seal` returns bytes to write and
/// `open` takes bytes read. Any error poisons it: close the connection.
public struct SecureStream: Sendable {
    /// Most data bytes in one chunk.
    public static let maximumChunkDataLength = Noise.maximumPlaintextLength - 1
    static let finalFlag: UInt8 = 0x00
    static let moreFlag: UInt8 = 0x01

    private var transport: TransportState
    private var decoder: FrameDecoder
    private let encoder = FrameEncoder(maximumFrameLength: FrameDecoder.noiseFrameLimit)
    /// Largest logical message sent or accepted.
    public let maximumMessageLength: Int
    private var partial: [UInt8] = []
    private var failure: SecureStreamError?

    /// - Parameters:
    ///   - transport: the keys from a completed `HandshakeState`.
    ///   - frameDecoder: the decoder used during the handshake, so that bytes the
    ///     peer sent right after its last handshake message are not lost. Its
    ///     limit should be `FrameDecoder.noiseFrameLimit`.
    ///   - maximumMessageLength: largest logical message, default 16 MiB.
    public init(
        transport: TransportState,
        frameDecoder: FrameDecoder = FrameDecoder(maximumFrameLength: FrameDecoder.noiseFrameLimit),
        maximumMessageLength: Int = FrameDecoder.defaultMaximumFrameLength
    ) {
        self.transport = transport
        self.decoder = frameDecoder
        self.maximumMessageLength = maximumMessageLength
    }

    /// The final handshake hash (channel binding).
    public var handshakeHash: [UInt8] { transport.handshakeHash }
    /// The peer's authenticated static key.
    public var remoteStaticPublicKey: Curve25519.KeyAgreement.PublicKey { transport.remoteStaticPublicKey }

    /// Encrypts and frames one logical message; returns the bytes to write.
    public mutating func seal(_ message: [UInt8]) throws(SecureStreamError) -> [UInt8] {
        if let failure { throw .streamFailed(previous: failure.description) }
        guard message.count <= maximumMessageLength else {
            // Nothing was encrypted: the stream stays usable.
            throw .messageTooLarge(length: message.count, limit: maximumMessageLength)
        }
        var out: [UInt8] = []
        var start = 0
        repeat {
            let end = min(start + Self.maximumChunkDataLength, message.count)
            var chunk: [UInt8] = [end == message.count ? Self.finalFlag : Self.moreFlag]
            chunk.append(contentsOf: message[start..<end])
            do {
                try encoder.append(try transport.encrypt(chunk), to: &out)
            } catch let error as NoiseError {
                throw fail(.noise(error))
            } catch let error as FrameError {
                throw fail(.frame(error))
            } catch {
                throw fail(.streamFailed(previous: "\(error)"))
            }
            start = end
        } while start < message.count
        return out
    }

    /// Feeds bytes read from the connection; returns every logical message they complete.
    public mutating func open(_ bytes: some Collection<UInt8>) throws(SecureStreamError) -> [[UInt8]] {
        if let failure { throw .streamFailed(previous: failure.description) }
        let frames: [[UInt8]]
        do {
            frames = try decoder.feed(bytes)
        } catch {
            throw fail(.frame(error))
        }
        var messages: [[UInt8]] = []
        for frame in frames {
            if let message = try openFrame(frame) {
                messages.append(message)
            }
        }
        return messages
    }

    /// Processes one already-deframed Noise message (e.g. one left over from the
    /// handshake's decoder); returns the logical message if this chunk ends one.
    public mutating func openFrame(_ noiseMessage: [UInt8]) throws(SecureStreamError) -> [UInt8]? {
        if let failure { throw .streamFailed(previous: failure.description) }
        let chunk: [UInt8]
        do {
            chunk = try transport.decrypt(noiseMessage)
        } catch {
            throw fail(.noise(error))
        }
        guard let flag = chunk.first else { throw fail(.emptyChunk) }
        let dataLength = chunk.count - 1
        guard partial.count + dataLength <= maximumMessageLength else {
            throw fail(.messageTooLarge(length: partial.count + dataLength, limit: maximumMessageLength))
        }
        switch flag {
        case Self.finalFlag:
            var message = partial
            message.append(contentsOf: chunk.dropFirst())
            partial = []
            return message
        case Self.moreFlag:
            guard dataLength > 0 else { throw fail(.emptyContinuationChunk) }
            partial.append(contentsOf: chunk.dropFirst())
            return nil
        default:
            throw fail(.invalidChunkFlag(flag))
        }
    }

    private mutating func fail(_ error: SecureStreamError) -> SecureStreamError {
        failure = error
        partial = []
        return error
    }
}

extension SecureStream {
    /// The sending half of a stream: seals only.
    public struct Sealer: Sendable {
        private var stream: SecureStream

        fileprivate init(_ stream: SecureStream) { self.stream = stream }

        /// See `SecureStream.seal`.
        public mutating func seal(_ message: [UInt8]) throws(SecureStreamError) -> [UInt8] { try stream.seal(message) }
    }

    /// The receiving half of a stream: opens only.
    public struct Opener: Sendable {
        private var stream: SecureStream

        fileprivate init(_ stream: SecureStream) { self.stream = stream }

        /// See `SecureStream.open`.
        public mutating func open(_ bytes: some Collection<UInt8>) throws(SecureStreamError) -> [[UInt8]] { try stream.open(bytes) }

        /// See `SecureStream.openFrame`.
        public mutating func openFrame(_ noiseMessage: [UInt8]) throws(SecureStreamError) -> [UInt8]? { try stream.openFrame(noiseMessage) }
    }

    /// The two directions apart, so that each can be used under a lock of
    /// its own: a connection read on its event loop is not held up while a
    /// job thread seals a multi-MiB return on the same connection. Each
    /// half keeps a copy of the transport but moves only its own
    /// direction's nonce (the sealer never opens, the opener never seals),
    /// so no nonce is ever used twice. A failure poisons its half only; the
    /// caller closes the connection on either.
    public consuming func split() -> (sealer: Sealer, opener: Opener) {
        (Sealer(copy self), Opener(self))
    }
}
