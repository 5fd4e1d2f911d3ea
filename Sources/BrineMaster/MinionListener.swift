import BrineCore
import BrineWire
import Foundation
import Logging
import NIOCore
import Synchronization

/// The master's minion port: its connections (each a `MinionConnection`:
/// the Noise handshake in 10 seconds at most, a capped number at once),
/// and what they await: a minion's admission by its key, its hello, its
/// file and pillar requests, its farewell.
struct MinionListener: Sendable {
    let opts: Config
    let keys: any MinionKeys
    let registry: MinionRegistry
    let files: FileServer
    let pillar: PillarServer
    let returns: ReturnSink
    let logger: Logger
    let masterKey: StaticKeyPair
    /// In a cluster: where minions are and what they missed.
    let cluster: ClusterNode?
    let unauthenticated = ConnectionCount()
    /// Every minion session's send deadlines, checked by one timer.
    let sendDeadlines = SendDeadlines()
    /// Connections being admitted, or handling their first message (the
    /// hello, with grains), at once: a fleet connecting together does not
    /// hold every admission's frames (in a cluster each waits for the
    /// database: 51 MiB at the peak of 10,000 connecting) or every decoded
    /// hello together, and malloc keeps what a peak took.
    let greetings = ConcurrencyLimit(128)

    /// Every connection open on the minion port (closed when the listener stops).
    let connections = OpenChannels()

    /// Binds the minion port; each connection is a `MinionConnection`.
    func bind(host: String, port: Int) async throws -> any Channel {
        try await WireBootstrap.bind(host: host, port: port) { channel in initialize(channel) }
    }

    /// A new connection: refused when too many have not finished their
    /// handshake (a stranger opening sockets cannot exhaust the master's
    /// descriptors), else read only when its handler asks.
    func initialize(_ channel: any Channel) -> EventLoopFuture<Void> {
        guard unauthenticated.enter(limit: opts.int("max_unauthenticated_connections") ?? 10_000) else {
            return channel.eventLoop.makeFailedFuture(ChannelError.inputClosed)
        }
        connections.insert(channel)
        return channel.eventLoop.makeCompletedFuture {
            do {
                try channel.syncOptions?.setOption(.autoRead, value: false)
                // A minion mostly sends small returns: its read buffer (one a
                // connection, kept) starts at 512 bytes and grows when reads fill it.
                try channel.syncOptions?.setOption(.recvAllocator, value: Self.readBuffers)
                try channel.pipeline.syncOperations.addHandler(MinionConnection(listener: self))
            } catch {
                unauthenticated.leave()
                throw error
            }
        }
    }

    static let readBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)

    /// Serves until the listener closes or this task is cancelled; then every connection is closed.
    func serve(_ server: any Channel) async throws {
        defer { connections.closeAll() }
        try await sendDeadlines.watching {
            try await withTaskCancellationHandler {
                try await server.closeFuture.get()
            } onCancel: {
                server.close(promise: nil)
            }
        }
    }

    /// Admits the minion by its key and registers its session: its peer, or nil when refused.
    func admit(_ session: WireSession) async throws -> Peer? {
        try await greetings.withTurn { try await admitNow(session) }
    }

    private func admitNow(_ session: WireSession) async throws -> Peer? {
        let hello = try MessagePack.decode(session.peerPayload)
        guard let id = hello["id"]?.stringValue else { throw BrineError(.msgpack, "handshake without a minion id") }
        let peer = Peer(id: id, session: session, acknowledgesReturns: hello["acks"]?.asFlag ?? false)
        let admission = try await keys.admit(id: id, key: session.remoteStaticPublicKey, autoAccept: opts.bool("auto_accept"),
                                             autosign: autosignGlobs(), maximumPending: opts.int("max_pending_keys") ?? 10_000)
        guard admission == .accepted else {
            logger.warning("minion \(LogText.escape(id)): key \(admission)")
            try await session.send(MasterMessage.admission(admission).encoded())
            return nil
        }
        try await session.send(MasterMessage.admission(.accepted).encoded())
        await registry.connect(id, session)
        do {
            if cluster != nil, try await keys.status(of: id) != .accepted {
                // Revoked between admission and now (its notification found no session to close).
                _ = await registry.revoke([id])
                logger.warning("minion \(LogText.escape(id)): key no longer accepted, connection closed")
                return nil
            }
        } catch {
            await forget(peer)
            throw error
        }
        logger.info("minion \(id) connected")
        cluster?.minionConnected(id)
        return peer
    }

    func forget(_ peer: Peer) async {
        if await registry.disconnect(peer.id, peer.session) { cluster?.minionDisconnected(peer.id) }
    }

    func autosignGlobs() -> [String] {
        guard let file = opts.string("autosign_file"), !file.isEmpty,
            let text = try? String(contentsOfFile: file, encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// An authenticated minion connection.
    struct Peer: Sendable {
        let id: String
        let session: WireSession
        /// Said in its handshake: older minions drop messages they do not know.
        let acknowledgesReturns: Bool
        let returnsInFlight = ReturnsInFlight()
    }

    /// A connection's first message, the hello with its grains, decoded and
    /// handled with a turn (`greetings`): a fleet reconnecting at once does
    /// not hold every minion's decoded grains together (421 MiB at 10,000
    /// minions, 283 with turns). Only a hello is handled inside the turn;
    /// another first message (a file request may wait on its socket) is
    /// returned to be handled after it. A connection closed meanwhile is skipped.
    func greet(_ bytes: [UInt8], from peer: Peer, on channel: any Channel) async throws -> MinionMessage? {
        try await greetings.withTurn {
            guard channel.isActive, let message = try MinionMessage.decodeKnown(bytes) else { return nil }
            guard case .hello = message else { return message }
            try await process(message, size: bytes.count, from: peer)
            return nil
        }
    }

    func process(_ message: MinionMessage, size: Int, from peer: Peer) async throws {
        switch message {
        case .hello(_, let grains):
            await registry.setGrains(peer.id, grains, on: peer.session)
            let compiled = await pillar.compile(for: peer.id)
            await registry.setPillar(peer.id, compiled, on: peer.session)
            cluster?.minionData(peer.id, grains: grains, pillar: compiled)
        case .fileRequest(let request):
            let data = await answer(request, for: peer.id)
            try await peer.session.send(MasterMessage.reply(rid: request.rid, data: data).encoded())
        case .jobReturn(let jobReturn):
            receive(jobReturn, size: size, from: peer)
        }
    }

    /// Hands a return to the `ReturnSink` (no await: from the event loop too);
    /// acknowledged on the peer's session when it takes acks and `acknowledging`.
    func receive(_ jobReturn: JobReturn, size: Int, from peer: Peer, acknowledging: Bool = true) {
        returns.receive(jobReturn, size: size, from: peer.id, acknowledgingOn: acknowledging && peer.acknowledgesReturns ? peer.session : nil,
                        inFlight: peer.returnsInFlight)
    }

    func answer(_ request: FileRequest, for id: String) async -> Value {
        switch request.kind {
        case .file: files.file(request.path, saltenv: request.saltenv)
        case .hash: files.hash(request.path, saltenv: request.saltenv)
        case .list: files.list(saltenv: request.saltenv)
        case .pillar: await pillar.compile(for: id)
        case .pillarRefresh: await pillar.refresh(for: id)
        case .unknown: .null
        }
    }
}

/// How many minion connections are still in their handshake.
final class ConnectionCount: Sendable {
    private let count = Atomic<Int>(0)

    /// Counts one more, unless `limit` are already counted.
    func enter(limit: Int) -> Bool {
        var current = count.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = count.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func leave() {
        count.subtract(1, ordering: .acquiringAndReleasing)
    }
}

/// Channels open on a listener, to close them all when it stops (and any
/// accepted after: their initializer may run after the listener closed).
final class OpenChannels: Sendable {
    private let state = Mutex<(channels: [ObjectIdentifier: any Channel], closed: Bool)>(([:], false))

    func insert(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let closed = state.withLock { state in
            if !state.closed { state.channels[key] = channel }
            return state.closed
        }
        guard !closed else { return channel.close(promise: nil) }
        channel.closeFuture.whenComplete { [self] _ in state.withLock { _ = $0.channels.removeValue(forKey: key) } }
    }

    func closeAll() {
        let open = state.withLock { state in
            state.closed = true
            return Array(state.channels.values)
        }
        for channel in open { channel.close(promise: nil) }
    }
}
