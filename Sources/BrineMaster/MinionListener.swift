import BrineCore
import BrineWire
import Foundation
import Logging
import NIOCore
import Synchronization

/// The master's minion port: accepts connections, runs the Noise handshake
/// (10 seconds at most, a capped number at once), admits the minion by its
/// key, then serves what it sends: returns, file and pillar requests.
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
    /// Connections opening and handling their first message (the hello, with grains) at once.
    let greetings = ConcurrencyLimit(128)

    /// Serves every connection until the listener closes.
    func serve(_ listener: WireBootstrap.Listener) async throws {
        try await sendDeadlines.watching { try await accept(listener) }
    }

    func accept(_ listener: WireBootstrap.Listener) async throws {
        try await listener.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { connections in
                let limit = opts.int("max_unauthenticated_connections") ?? 10_000
                for try await connection in inbound {
                    // Connections that have not finished the handshake are capped: a
                    // stranger opening sockets cannot exhaust the master's descriptors.
                    guard unauthenticated.enter(limit: limit) else {
                        connection.channel.close(promise: nil)
                        continue
                    }
                    connections.addTask { await handle(connection) }
                }
            }
        }
    }

    func handle(_ channel: WireBootstrap.Connection) async {
        var minionID: String? = nil
        let handshaken = ManagedFlag()
        do {
            // A peer that does not finish the handshake in time is dropped;
            // one that finished is never dropped by this timer, however late it fires.
            let raw = channel.channel
            let deadline = raw.eventLoop.scheduleTask(in: .seconds(10)) {
                if !handshaken.isSet { raw.close(promise: nil) }
            }
            try await channel.executeThenClose { inbound, _ in
                var iterator = inbound.makeAsyncIterator()
                let state = HandshakeState(role: .responder, localStatic: masterKey.privateKey, prologue: brineWirePrologue)
                let (session, early) = try await WireSession.handshake(state, payload: [], channel: raw, deadlines: sendDeadlines,
                                                                           inbound: &iterator)
                handshaken.set()
                unauthenticated.leave()
                deadline.cancel()
                let hello = try MessagePack.decode(session.peerPayload)
                guard let id = hello["id"]?.stringValue else { throw BrineError(.msgpack, "handshake without a minion id") }
                let peer = Peer(id: id, session: session, acknowledgesReturns: hello["acks"]?.asFlag ?? false)
                let admission = try await keys.admit(id: id, key: session.remoteStaticPublicKey, autoAccept: opts.bool("auto_accept"),
                                               autosign: autosignGlobs(), maximumPending: opts.int("max_pending_keys") ?? 10_000)
                guard admission == .accepted else {
                    logger.warning("minion \(LogText.escape(id)): key \(admission)")
                    try await session.send(MasterMessage.admission(admission).encoded())
                    return
                }
                try await session.send(MasterMessage.admission(.accepted).encoded())
                minionID = id
                await registry.connect(id, session)
                if cluster != nil, try await keys.status(of: id) != .accepted {
                    // Revoked between admission and now (its notification found no session to close).
                    _ = await registry.revoke([id])
                    logger.warning("minion \(LogText.escape(id)): key no longer accepted, connection closed")
                    return
                }
                logger.info("minion \(id) connected")
                cluster?.minionConnected(id)
                var ending: (any Error)? = nil
                do {
                    var greeted = false
                    func take(_ messages: [[UInt8]]) async throws {
                        for bytes in messages {
                            guard !greeted else {
                                try await receive(bytes, from: peer)
                                continue
                            }
                            greeted = true
                            if let other = try await greet(bytes, from: peer, on: raw) { try await process(other, size: bytes.count, from: peer) }
                        }
                    }
                    try await take(early)
                    while let buffer = try await iterator.next() { try await take(try session.receive(buffer)) }
                } catch {
                    ending = error
                }
                // However the connection ends, the registry forgets it: a dead
                // session left there made later jobs report a live minion unreachable.
                if await registry.disconnect(id, session) { cluster?.minionDisconnected(id) }
                if let ending { throw ending }
            }
        } catch {
            logger.warning("connection \(minionID ?? "?") closed: \(LogText.escape("\(error)"))")
        }
        if !handshaken.isSet { unauthenticated.leave() }
        if let minionID { logger.info("minion \(minionID) disconnected") }
    }

    func autosignGlobs() -> [String] {
        guard let file = opts.string("autosign_file"), !file.isEmpty,
            let text = try? String(contentsOfFile: file, encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// An authenticated minion connection.
    struct Peer {
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

    func receive(_ bytes: [UInt8], from peer: Peer) async throws {
        // A type this master does not know (a newer minion's) is skipped, not fatal.
        guard let message = try MinionMessage.decodeKnown(bytes) else { return }
        try await process(message, size: bytes.count, from: peer)
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
            returns.receive(jobReturn, size: size, from: peer.id, acknowledgingOn: peer.acknowledgesReturns ? peer.session : nil,
                            inFlight: peer.returnsInFlight)
        }
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

/// Set once, read from any thread (an event loop's timer reads what a task set).
final class ManagedFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}
