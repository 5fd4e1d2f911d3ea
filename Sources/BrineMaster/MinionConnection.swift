import BrineCore
import BrineWire
import DequeModule
import Logging
import NIOCore

/// One minion's connection to the master, driven by its channel's event
/// loop: the Noise handshake, the admission of its key, then its messages,
/// handled one at a time in the order they came.
///
/// Why a channel handler and not a task per connection: an async
/// function's frames live in its task's allocator, whose slabs stay at
/// their high-water mark until the task ends. A connection's task read,
/// shook hands, was admitted (through PostgreSQL in a cluster), compiled
/// the pillar of its hello, and kept those frames for as long as the
/// connection lived: ~9 KiB a connection, a third of the master's heap at
/// 10,000 minions. Here a connection is this object. What must await (the
/// admission, the hello, a file or pillar request, the farewell) runs in
/// a short task of its own while reading waits for it (`busy`); returns,
/// the bulk of what minions send, go to the `ReturnSink` straight from the
/// event loop, which has no task to wake for each.
///
/// The channel reads only when asked (`autoRead` off, see
/// `MinionListener.initialize`): a minion that sends faster than its
/// messages are handled waits on its own socket.
final class MinionConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case handshaking(WireHandshaker)
        /// Handshake done, its key being admitted (in a task).
        case admitting(WireSession)
        case serving(MinionListener.Peer)
        case closed
    }

    private let listener: MinionListener
    private var phase: Phase
    private var context: ChannelHandlerContext?
    /// Messages read and not yet handled, oldest first: they wait while a task works for this connection.
    private var waiting = Deque<[UInt8]>()
    /// A task works for this connection: messages wait, and nothing more is read.
    private var busy = false
    /// Whether the first message after the admission (the hello) was taken.
    private var greeted = false
    /// A peer that has not finished the handshake in time is dropped.
    private var handshakeDeadline: Scheduled<Void>?

    init(listener: MinionListener) {
        self.listener = listener
        let state = HandshakeState(role: .responder, localStatic: listener.masterKey.privateKey, prologue: brineWirePrologue)
        phase = .handshaking(WireHandshaker(state, payload: []))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let channel = context.channel
        handshakeDeadline = context.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        if channel.isActive { context.read() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ended()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        context.read()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try take(buffer, context: context)
        } catch {
            fail(error)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readMoreIfIdle()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
    }

    private func take(_ buffer: ByteBuffer, context: ChannelHandlerContext) throws {
        switch phase {
        case .handshaking(var handshaker):
            guard let (session, early) = try handshaker.feed(buffer, answeringOn: context, deadlines: listener.sendDeadlines) else {
                phase = .handshaking(handshaker)
                return
            }
            handshakeDeadline?.cancel()
            listener.unauthenticated.leave()
            phase = .admitting(session)
            waiting.append(contentsOf: early)
            let listener = self.listener
            run({ try await listener.admit(session) }, then: { [self] peer in admitted(peer) })
        case .admitting(let session):
            waiting.append(contentsOf: try session.receive(buffer))
        case .serving(let peer):
            waiting.append(contentsOf: try peer.session.receive(buffer))
            try handleWaiting(peer)
        case .closed:
            return
        }
    }

    /// The admission's answer: serving, or closed (refused: the minion was told why).
    private func admitted(_ peer: MinionListener.Peer?) {
        guard let peer else {
            context?.close(promise: nil)
            return
        }
        guard case .admitting = phase else {
            // Closed while being admitted: the registry took it after its end.
            farewell(peer)
            return
        }
        phase = .serving(peer)
        do { try handleWaiting(peer) } catch { fail(error) }
    }

    /// Handles the waiting messages until one needs a task.
    private func handleWaiting(_ peer: MinionListener.Peer) throws {
        while !busy, let bytes = waiting.popFirst() {
            try handle(bytes, from: peer)
        }
    }

    private func handle(_ bytes: [UInt8], from peer: MinionListener.Peer) throws {
        let listener = self.listener
        guard greeted else {
            greeted = true
            guard let channel = context?.channel else { return }
            run({
                if let other = try await listener.greet(bytes, from: peer, on: channel) {
                    try await listener.process(other, size: bytes.count, from: peer)
                }
            }, then: { _ in })
            return
        }
        // A large message is decoded off the event loop: its other connections go on meanwhile.
        guard bytes.count <= Self.decodedOnEventLoop else {
            run({ if let message = try MinionMessage.decodeKnown(bytes) { try await listener.process(message, size: bytes.count, from: peer) } },
                then: { _ in })
            return
        }
        // A type this master does not know (a newer minion's) is skipped, not fatal.
        guard let message = try MinionMessage.decodeKnown(bytes) else { return }
        if case .jobReturn(let jobReturn) = message {
            listener.receive(jobReturn, size: bytes.count, from: peer)
        } else {
            run({ try await listener.process(message, size: bytes.count, from: peer) }, then: { _ in })
        }
    }

    /// The largest message decoded on the event loop (a `test.ping` return is ~100 bytes).
    static let decodedOnEventLoop = 64 << 10

    /// The connection ended with a minion admitted: the returns it had sent
    /// and that waited behind a task are still taken (the old stream handed
    /// over everything read before its end), then the registry forgets it.
    private func farewell(_ peer: MinionListener.Peer) {
        let listener = self.listener
        let left = waiting
        waiting.removeAll()
        for bytes in left {
            guard case .jobReturn(let jobReturn)? = try? MinionMessage.decodeKnown(bytes) else { continue }
            listener.receive(jobReturn, size: bytes.count, from: peer, acknowledging: false)
        }
        Task { await listener.forget(peer) }
        listener.logger.info("minion \(peer.id) disconnected")
    }

    /// Runs `work` in a task of its own; meanwhile this connection reads
    /// nothing more. Its result comes back on the event loop to `then`,
    /// its error closes the connection.
    private func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T, then: @escaping (T) -> Void) {
        guard let eventLoop = context?.eventLoop else { return }
        busy = true
        let connection = NIOLoopBound(self, eventLoop: eventLoop)
        let next = NIOLoopBound(then, eventLoop: eventLoop)
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            eventLoop.execute { connection.value.finished(result, then: next.value) }
        }
    }

    private func finished<T>(_ result: Result<T, any Error>, then: (T) -> Void) {
        busy = false
        switch result {
        case .success(let value): then(value)
        case .failure(let error): fail(error)
        }
        guard case .serving(let peer) = phase else { return }
        do { try handleWaiting(peer) } catch { fail(error) }
        readMoreIfIdle()
    }

    private func readMoreIfIdle() {
        guard !busy, let context else { return }
        switch phase {
        case .closed: return
        default: context.read()
        }
    }

    private func fail(_ error: any Error) {
        if case .closed = phase { return }
        let id: String = if case .serving(let peer) = phase { peer.id } else { "?" }
        listener.logger.warning("connection \(id) closed: \(LogText.escape("\(error)"))")
        ended()
        context?.close(promise: nil)
    }

    /// The connection is gone: what it held goes back, once.
    private func ended() {
        let previous = phase
        phase = .closed
        handshakeDeadline?.cancel()
        switch previous {
        case .closed, .admitting:
            // Admitting: its admission's end sees `closed` and says farewell (`admitted`).
            return
        case .handshaking:
            listener.unauthenticated.leave()
        case .serving(let peer):
            farewell(peer)
        }
    }
}
