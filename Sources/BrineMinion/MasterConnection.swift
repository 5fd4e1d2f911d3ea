import BrineWire
import DequeModule
import NIOCore

/// A minion's connection to its master, driven by the channel's event
/// loop: the Noise handshake, the master's word on its key, then the
/// master's messages, each handled where it was read.
///
/// Why a channel handler and not a task reading an async stream: every
/// message woke the connection's task (NIO's async stream, a task switch,
/// often a thread's futex) only to hand a job to a job thread or note an
/// acknowledgement, ~16 % of a 10,000-minion swarm's CPU on a ping. The
/// task that made the connection (`MinionDaemon.session`) awaits the
/// admission, sends its hello, then `serve`s and sleeps until the end.
final class MasterConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The master's word on this minion's key, once the handshake is done,
    /// and the session (whatever the word: its peer's key is pinned on first contact).
    struct Admission: Sendable {
        /// Not `accepted`: the master closes the connection.
        let word: KeyAdmission
        let session: WireSession
    }

    /// What the serving minion does with each message (on the event loop: it must not block).
    typealias Handle = @Sendable (MasterMessage) -> Void

    private enum Phase {
        case handshaking(WireHandshaker)
        /// Handshake done: the first message is the master's word on the key.
        case admitting(WireSession)
        /// Admitted: messages wait for `serve`.
        case admitted(WireSession)
        /// Not admitted: the master closes the connection, nothing more is read.
        case refused
        case serving(WireSession, Handle)
        /// Ended; when it was admitted, the messages read before the end still wait for `serve`.
        case closed
    }

    private var phase: Phase
    private let deadlines: SendDeadlines
    /// Messages read before `serve`, oldest first.
    private var waiting = Deque<[UInt8]>()
    private var context: ChannelHandlerContext?
    private var started = false
    private var answered = false
    /// Completed after the handshake with the master's word (or failed: the connection ended first).
    let admission: EventLoopPromise<Admission>
    /// Completed when the connection ends: failed with what ended it on this side.
    let finished: EventLoopPromise<Void>

    init(handshake: HandshakeState, hello: [UInt8], deadlines: SendDeadlines, eventLoop: any EventLoop) {
        phase = .handshaking(WireHandshaker(handshake, payload: hello))
        self.deadlines = deadlines
        admission = eventLoop.makePromise()
        finished = eventLoop.makePromise()
    }

    /// From now on each message goes to `handle`, those read meanwhile
    /// first — also when the connection ended since: as jobs outlive their
    /// connection, those read before its end are run (their returns wait
    /// for the next one).
    func serve(_ handle: @escaping Handle) {
        switch phase {
        case .admitted(let session):
            phase = .serving(session, handle)
            while case .serving = phase, let bytes = waiting.popFirst() {
                do { try deliver(bytes, to: handle) } catch { fail(error) }
            }
        case .closed:
            let left = waiting
            waiting.removeAll()
            for bytes in left {
                do { try deliver(bytes, to: handle) } catch { return }
            }
        default:
            return
        }
    }

    /// The handler could not join its channel: whoever waits learns it.
    func abandon(_ error: any Error) {
        end(error)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(nil)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end(nil)
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do { try take(unwrapInboundIn(data), context: context) } catch { fail(error) }
    }

    /// The initiator speaks first.
    private func start(context: ChannelHandlerContext) {
        guard case .handshaking(var handshaker) = phase, !started else { return }
        started = true
        do {
            let out = try handshaker.start()
            phase = .handshaking(handshaker)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: out)), promise: nil)
        } catch {
            fail(error)
        }
    }

    private func take(_ buffer: ByteBuffer, context: ChannelHandlerContext) throws {
        switch phase {
        case .handshaking(var handshaker):
            guard let (session, early) = try handshaker.feed(buffer, answeringOn: context, deadlines: deadlines) else {
                phase = .handshaking(handshaker)
                return
            }
            phase = .admitting(session)
            waiting.append(contentsOf: early)
            try admitFromWaiting(session)
        case .admitting(let session):
            waiting.append(contentsOf: try session.receive(buffer))
            try admitFromWaiting(session)
        case .admitted(let session):
            waiting.append(contentsOf: try session.receive(buffer))
        case .serving(let session, let handle):
            for bytes in try session.receive(buffer) {
                try deliver(bytes, to: handle)
                guard case .serving = phase else { return }
            }
        case .refused, .closed:
            return
        }
    }

    /// The first message the master knows to send is its word on the key; anything else ends the connection.
    private func admitFromWaiting(_ session: WireSession) throws {
        // Messages of a type this minion does not know (a newer master's) are skipped.
        while let bytes = waiting.popFirst() {
            guard let message = try MasterMessage.decodeKnown(bytes) else { continue }
            guard case .admission(let word) = message else { throw WireClosed() }
            if word == .accepted {
                phase = .admitted(session)
            } else {
                phase = .refused
                waiting.removeAll()
            }
            answer(.success(Admission(word: word, session: session)))
            return
        }
    }

    private func deliver(_ bytes: [UInt8], to handle: Handle) throws {
        if let message = try MasterMessage.decodeKnown(bytes) { handle(message) }
    }

    private func fail(_ error: any Error) {
        end(error)
        context?.close(promise: nil)
    }

    /// The connection is over: whoever waits learns it, once.
    private func end(_ error: (any Error)?) {
        if case .closed = phase { return }
        if case .admitted = phase {} else { waiting.removeAll() }
        phase = .closed
        answer(.failure(error ?? WireClosed()))
        if let error { finished.fail(error) } else { finished.succeed(()) }
    }

    private func answer(_ result: Result<Admission, any Error>) {
        guard !answered else { return }
        answered = true
        admission.completeWith(result)
    }
}
