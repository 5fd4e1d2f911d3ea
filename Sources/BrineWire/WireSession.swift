import Crypto
import NIOCore
import Synchronization

/// A secured connection once the Noise handshake is done: sealed frames
/// out, opened messages in. Reads happen on one task; writes may come
/// from any task (the master publishes jobs while it reads returns), so the
/// stream state sits behind a lock.
public final class WireSession: Sendable {
    private let stream: Mutex<SecureStream>
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    public let remoteStaticPublicKey: Curve25519.KeyAgreement.PublicKey
    /// What the peer put in its last handshake message.
    public let peerPayload: [UInt8]

    init(stream: SecureStream, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, peerPayload: [UInt8]) {
        self.remoteStaticPublicKey = stream.remoteStaticPublicKey
        self.stream = Mutex(stream)
        self.outbound = outbound
        self.peerPayload = peerPayload
    }

    /// Seals and sends one logical message.
    public func send(_ message: [UInt8]) async throws {
        let bytes = try stream.withLock { stream in try stream.seal(message) }
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Opens whatever complete messages these bytes finish.
    public func receive(_ buffer: ByteBuffer) throws -> [[UInt8]] {
        try stream.withLock { stream in try stream.open(buffer.readableBytesView) }
    }

    func openFrame(_ frame: [UInt8]) throws -> [UInt8]? {
        try stream.withLock { stream in try stream.openFrame(frame) }
    }

    /// Runs the XX handshake over a channel's byte streams. The initiator
    /// (minion) sends `payload` in message 3; the responder (master) sends
    /// it in message 2. Returns the session and any messages that arrived
    /// right behind the handshake.
    public static func handshake(
        _ state: HandshakeState, payload: [UInt8],
        inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws -> (WireSession, [[UInt8]]) {
        var handshake = state
        var decoder = FrameDecoder(maximumFrameLength: FrameDecoder.noiseFrameLimit)
        let encoder = FrameEncoder(maximumFrameLength: FrameDecoder.noiseFrameLimit)
        var frames: [[UInt8]] = []
        var peerPayload: [UInt8] = []
        var written = 0
        while !handshake.isComplete {
            if handshake.isOurTurnToWrite {
                // Message 1 travels in clear: the initiator's payload waits for message 3.
                let carriesPayload = handshake.role == .responder || written == 1
                let message = try handshake.writeMessage(payload: carriesPayload ? payload : [])
                written += 1
                try await outbound.write(ByteBuffer(bytes: try encoder.encode(message)))
                continue
            }
            while frames.isEmpty {
                guard let buffer = try await inbound.next() else { throw WireClosed() }
                frames += try decoder.feed(buffer.readableBytesView)
            }
            peerPayload = try handshake.readMessage(frames.removeFirst())
        }
        let session = WireSession(stream: SecureStream(transport: try handshake.transport(), frameDecoder: decoder),
                                  outbound: outbound, peerPayload: peerPayload)
        var early: [[UInt8]] = []
        for frame in frames { if let message = try session.openFrame(frame) { early.append(message) } }
        return (session, early)
    }
}

/// The peer closed the connection.
public struct WireClosed: Error, Sendable {
    public init() {}
}

/// The prologue both sides mix in: a protocol name and version, so a
/// future incompatible wire fails the handshake instead of misreading.
public let brineWirePrologue: [UInt8] = Array("brine-wire/1".utf8)
