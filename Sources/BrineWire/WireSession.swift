import Crypto
import DequeModule
import NIOCore
import Synchronization

/// A secured connection once the Noise handshake is done: sealed frames
/// out, opened messages in.
///
/// Reads happen on one task or event loop; sends come from any task (the master publishes
/// jobs while it answers a minion's file requests; a minion returns several
/// jobs at once). Noise nonces are implicit, so frames must reach the wire
/// in the order they were sealed: sealing and handing the bytes to the
/// channel happen in one step under the sending lock (NIO keeps the
/// order of writes it is given). Opening has a lock of its own
/// (`SecureStream.split`): the event loop reading a connection does not
/// wait while a thread seals a large message for it.
///
/// A peer that stops reading must not hold anyone up: a send never waits
/// for room. The bytes not yet taken by the kernel are counted; past
/// `maximumQueuedBytes` the peer is too slow, the connection is closed and
/// the send fails at once. A send whose bytes are not taken within its
/// deadline closes the connection too (`SendDeadlines` watches them all).
/// Either way the caller learns it at once and can report that peer, while
/// every other session goes on.
public final class WireSession: Sendable {
    struct Sending: ~Copyable {
        var sealer: SecureStream.Sealer
        /// Bytes handed to the channel and not yet written to the socket.
        var queuedBytes = 0
        /// The deadline of each send not yet written, oldest first (NIO
        /// completes a channel's writes in the order it was given them).
        var deadlines = Deque<NIODeadline>()
    }

    private let sending: Mutex<Sending>
    private let receiving: Mutex<SecureStream.Opener>
    private let channel: any Channel
    private let sendDeadlines: SendDeadlines
    public let remoteStaticPublicKey: Curve25519.KeyAgreement.PublicKey
    /// What the peer put in its last handshake message.
    public let peerPayload: [UInt8]
    /// Most bytes waiting for a slow peer before it is dropped (default 32 MiB).
    public let maximumQueuedBytes: Int

    init(stream: SecureStream, channel: any Channel, peerPayload: [UInt8], deadlines: SendDeadlines, maximumQueuedBytes: Int = 32 << 20) {
        self.remoteStaticPublicKey = stream.remoteStaticPublicKey
        let (sealer, opener) = stream.split()
        self.sending = Mutex(Sending(sealer: sealer))
        self.receiving = Mutex(opener)
        self.channel = channel
        self.sendDeadlines = deadlines
        self.peerPayload = peerPayload
        self.maximumQueuedBytes = maximumQueuedBytes
    }

    /// Seals one logical message and waits until the socket took it, at most
    /// `deadline` (then the connection is closed and this throws).
    public func send(_ message: [UInt8], deadline: TimeAmount = .seconds(30)) async throws {
        try await enqueue(message, deadline: deadline).get()
    }

    /// Seals one logical message and hands it to the channel without
    /// waiting; the future completes when the socket took the bytes, or
    /// fails when the connection closed (including for missing `deadline`).
    public func enqueue(_ message: [UInt8], deadline: TimeAmount = .seconds(30)) throws -> EventLoopFuture<Void> {
        let channel = self.channel
        // On the channel's own event loop (the master's connection handler) a
        // flush or a close completes earlier writes at once, and their
        // callbacks below take the lock: both happen after it is released.
        let onEventLoop = channel.eventLoop.inEventLoop
        let sealed = try sending.withLock { state -> Result<(EventLoopFuture<Void>, Int), WireSessionError> in
            let bytes = try state.sealer.seal(message)
            guard state.queuedBytes + bytes.count <= maximumQueuedBytes else {
                return .failure(.peerTooSlow(queuedBytes: state.queuedBytes))
            }
            state.queuedBytes += bytes.count
            state.deadlines.append(.now() + deadline)
            if state.deadlines.count == 1 { sendDeadlines.watch(self) }
            // Under the lock: the channel receives frames in nonce order.
            let buffer = ByteBuffer(bytes: bytes)
            return .success((onEventLoop ? channel.write(buffer) : channel.writeAndFlush(buffer), bytes.count))
        }
        let (written, size): (EventLoopFuture<Void>, Int)
        switch sealed {
        case .success(let pair): (written, size) = pair
        case .failure(let error):
            channel.close(promise: nil)
            throw error
        }
        if onEventLoop { channel.flush() }
        // The sealed size comes off again, as it went on (the plain size left
        // ~20 bytes a message behind: a long-lived session ended as "too slow").
        written.whenComplete { [self] _ in
            sending.withLock { state in
                state.queuedBytes = max(0, state.queuedBytes - size)
                _ = state.deadlines.popFirst()
                if state.deadlines.isEmpty { sendDeadlines.unwatch(self) }
            }
        }
        return written
    }

    /// Whether a send not yet written is past its deadline.
    func isOverdue(at now: NIODeadline) -> Bool {
        sending.withLock { state in state.deadlines.contains { $0 <= now } }
    }

    /// Closes the connection: its reader sees the end, its pending sends fail.
    public func close() {
        channel.close(promise: nil)
    }

    /// Opens whatever complete messages these bytes finish.
    public func receive(_ buffer: ByteBuffer) throws -> [[UInt8]] {
        try receiving.withLock { opener in try opener.open(buffer.readableBytesView) }
    }

    func openFrame(_ frame: [UInt8]) throws -> [UInt8]? {
        try receiving.withLock { opener in try opener.openFrame(frame) }
    }

    /// Runs the XX handshake over a channel's byte streams. The initiator
    /// (minion) sends `payload` in message 3; the responder (master) sends
    /// it in message 2. Returns the session (its sends watched by
    /// `deadlines`) and any messages that arrived right behind the handshake.
    public static func handshake(
        _ state: HandshakeState, payload: [UInt8], channel: any Channel, deadlines: SendDeadlines,
        inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    ) async throws -> (WireSession, [[UInt8]]) {
        var handshaker = WireHandshaker(state, payload: payload)
        var out = try handshaker.start()
        while true {
            // Straight to the channel, as the session's frames go: one path, one order.
            if !out.isEmpty { try await channel.writeAndFlush(ByteBuffer(bytes: out)) }
            if handshaker.isComplete { break }
            guard let buffer = try await inbound.next() else { throw WireClosed() }
            out = try handshaker.feed(buffer.readableBytesView)
        }
        return try handshaker.session(channel: channel, deadlines: deadlines)
    }
}

/// Why a send gave up on its peer.
public enum WireSessionError: Error, Sendable, CustomStringConvertible {
    /// The peer let this many bytes pile up unread: it was disconnected.
    case peerTooSlow(queuedBytes: Int)

    public var description: String {
        switch self {
        case .peerTooSlow(let queued): "the peer stopped reading (\(queued) bytes waiting): disconnected"
        }
    }
}

/// The peer closed the connection.
public struct WireClosed: Error, Sendable {
    public init() {}
}

/// The prologue both sides mix in: a protocol name and version, so a
/// future incompatible wire fails the handshake instead of misreading.
public let brineWirePrologue: [UInt8] = Array("brine-wire/1".utf8)
