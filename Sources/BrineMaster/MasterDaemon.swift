import BrineCore
import BrineModules
import BrineState
import BrineWire
import Foundation
import Logging
import OrderedCollections
import NIOCore
import NIOPosix
import Synchronization

/// The master: accepts minion connections on `interface:ret_port` (Noise
/// XX, keys checked against the key store before anything else), and CLI
/// requests on a unix socket in `sock_dir`. Only accepted minions get jobs.
public struct MasterDaemon: Sendable {
    public let opts: Config
    let keys: KeyStore
    let registry = MinionRegistry()
    let pillarRefresh = RefreshGate(interval: .seconds(5))
    let unauthenticated = ConnectionCount()
    public let jobs: JobCache?
    /// The master's log, in Salt's formats and levels (the `brine master`
    /// command configured `SaltLog` from `log_file`, `log_level`, …).
    public let logger = Logger.brine("brine.master")

    /// `withJobCache: false` for clients that only need the paths.
    public init(opts: Config, withJobCache: Bool = false) throws {
        self.opts = opts
        self.keys = KeyStore(pkiDir: opts.string("pki_dir") ?? "/etc/brine/pki/master")
        self.jobs = withJobCache ? try JobCache(directory: MasterDaemon.jobCacheDirectory(opts)) : nil
    }

    public static func jobCacheDirectory(_ opts: Config) -> String {
        (opts.string("cachedir") ?? "/var/cache/brine/master") + "/jobs"
    }

    /// What the master writes to, created and handed to `user` by the
    /// privileged parent before the daemon starts as that user.
    public static func ownedPaths(_ opts: Config) -> (privateDirs: [String], other: [String]) {
        let root = opts.string("root_dir") ?? "/"
        let pidDir = opts.string("pidfile").map { ($0 as NSString).deletingLastPathComponent } ?? ""
        return ([opts.string("pki_dir"), opts.string("cachedir"), opts.string("sock_dir")].compactMap { $0 },
                [root != "/" && pidDir.hasPrefix(root + "/") ? pidDir : "", opts.string("log_file") ?? ""].filter { !$0.isEmpty })
    }

    public var socketPath: String { (opts.string("sock_dir") ?? "/var/run/brine/master") + "/brine-master.sock" }

    /// Runs until the process is stopped.
    public func run() async throws {
        try keys.prepare()
        try jobs?.expire(olderThanHours: opts.int("keep_jobs") ?? 24)
        do { try VCSPillar.refreshAll(opts) } catch { logger.error("ext_pillar: \(error)") }
        let masterKey = try KeyFiles(directory: keys.pkiDir, name: "master").loadOrGenerate().pair
        try PrivateDirectory.make(opts.string("sock_dir") ?? "/var/run/brine/master")
        // The cache holds returns, pillar repositories and minions' data: its owner's only.
        try PrivateDirectory.make(opts.string("cachedir") ?? "/var/cache/brine/master")
        if let pidfile = opts.string("pidfile") {
            try? FileManager.default.createDirectory(atPath: (pidfile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write("\(getpid())\n", to: pidfile)
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let host = opts.string("interface") ?? "0.0.0.0"
        let port = opts.int("ret_port") ?? 4506
        let minions = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let clients = try await ServerBootstrap(group: group)
            // A client may close its side after sending its request: it still gets the answer.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        // Only the master's user may connect, unless publisher_acl lets
        // others publish: then anyone may connect and the ACL decides, by
        // the peer's uid.
        if AccessControl.publisher(opts).hasRules {
            chmod(opts.string("sock_dir") ?? "/var/run/brine/master", 0o755)
            chmod(socketPath, 0o666)
        } else {
            chmod(socketPath, 0o600)
        }
        let pidfile = opts.string("pidfile")
        let socket = socketPath
        let stop = Signals.onTermination {
            unlink(socket)
            if let pidfile { unlink(pidfile) }
        }
        defer { withExtendedLifetime(stop) {} }
        logger.info("master listening on \(host):\(port), local socket \(socketPath) as user \(CoreUser.name)")
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { await watchKeys() }
            tasks.addTask {
                try await minions.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { connections in
                        let limit = opts.int("max_unauthenticated_connections") ?? 10_000
                        for try await connection in inbound {
                            // Connections that have not finished the handshake are capped: a
                            // stranger opening sockets cannot exhaust the master's descriptors.
                            guard unauthenticated.enter(limit: limit) else {
                                connection.channel.close(promise: nil)
                                continue
                            }
                            connections.addTask { await handleMinion(connection, masterKey: masterKey) }
                        }
                    }
                }
            }
            tasks.addTask {
                try await clients.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { connections in
                        for try await connection in inbound {
                            connections.addTask { await handleClient(connection) }
                        }
                    }
                }
            }
        }
    }

    /// Closes the sessions of minions whose key is no longer accepted (the
    /// REST API calls this right after a key action; the watcher below
    /// catches `brine key`, another process).
    public func revokeUnaccepted() async {
        for id in await registry.revoke(keeping: Set(keys.list(.accepted)), isAccepted: { [keys] in keys.status(of: $0) == .accepted }) {
            logger.warning("minion \(LogText.escape(id)): key no longer accepted, connection closed")
        }
    }

    /// Revocation takes effect at once: when `brine key -d/-r` (another
    /// process) changes `pki_dir/minions`, the sessions of minions no longer
    /// accepted are closed, so they get no more jobs, files or pillar.
    func watchKeys() async {
        var seen: timespec? = nil
        while !Task.isCancelled {
            var info = stat()
            if stat(keys.directory(.accepted), &info) == 0 {
                let changed = info.st_mtim
                if let last = seen, last.tv_sec != changed.tv_sec || last.tv_nsec != changed.tv_nsec {
                    await revokeUnaccepted()
                }
                seen = changed
            }
            try? await Task.sleep(nanoseconds: 500_000_000)
        }
    }


    // MARK: - Minions

    func handleMinion(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, masterKey: StaticKeyPair) async {
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
                let (session, early) = try await WireSession.handshake(state, payload: [], channel: raw, inbound: &iterator)
                handshaken.set()
                unauthenticated.leave()
                deadline.cancel()
                let hello = try MessagePack.decode(session.peerPayload)
                guard let id = hello["id"]?.stringValue else { throw BrineError(.msgpack, "handshake without a minion id") }
                let peer = Peer(id: id, session: session, acknowledgesReturns: hello["acks"]?.asFlag ?? false)
                let autosign = autosignGlobs()
                let admission = try keys.admit(id: id, key: session.remoteStaticPublicKey, autoAccept: opts.bool("auto_accept"),
                                               autosign: autosign, maximumPending: opts.int("max_pending_keys") ?? 10_000)
                guard admission == .accepted else {
                    logger.warning("minion \(LogText.escape(id)): key \(admission)")
                    try await session.send(WireMessage.status("\(admission)").encoded())
                    return
                }
                try await session.send(WireMessage.status("accepted").encoded())
                minionID = id
                await registry.connect(id, session)
                logger.info("minion \(id) connected")
                var ending: (any Error)? = nil
                do {
                    for message in early { try await handle(message, from: peer) }
                    while let buffer = try await iterator.next() {
                        for message in try session.receive(buffer) { try await handle(message, from: peer) }
                    }
                } catch {
                    ending = error
                }
                // However the connection ends, the registry forgets it: a dead
                // session left there made later jobs report a live minion unreachable.
                await registry.disconnect(id, session)
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

        func acknowledge(_ jid: String) async throws {
            guard acknowledgesReturns else { return }
            try await session.send(WireMessage.returnAck(jid: jid).encoded())
        }
    }

    func handle(_ bytes: [UInt8], from peer: Peer) async throws {
        let id = peer.id, session = peer.session
        // A type this master does not know (a newer minion's) is skipped, not fatal.
        guard let message = try WireMessage.decodeKnown(bytes) else { return }
        switch message {
        case .hello(_, let grains):
            await registry.setGrains(id, grains)
            await registry.setPillar(id, await serve(kind: "pillar", path: "", saltenv: "base", for: id))
        case .request(let rid, let kind, let path, let saltenv):
            let data = await serve(kind: kind, path: path, saltenv: saltenv, for: id)
            try await session.send(WireMessage.reply(rid: rid, data: data).encoded())
        case .jobReturn(let jid, _, let value, let retcode):
            // The id is the authenticated one, never what the minion claims;
            // only a job this minion was sent is recorded (no filling the cache with made-up jids).
            let waiting = await registry.isWaiting(jid, for: id)
            guard waiting || (try? jobs?.expects(jid: jid, minion: id)) == true else {
                logger.warning("minion \(id) returned for job \(LogText.escape(jid)), which it was not sent: dropped")
                try await peer.acknowledge(jid)
                return
            }
            // Cached first: a return that reached the master survives a crash.
            do {
                try jobs?.recordReturn(jid: jid, minion: id, value: value, retcode: retcode)
            } catch {
                logger.error("job cache: \(error)")
                return
            }
            try await peer.acknowledge(jid)
            await registry.deliver(jid: jid, .returned(id: id, value: value, retcode: retcode))
        default: break
        }
    }

    // MARK: - File server and pillar

    /// Files only from `file_roots` (no `..`, no absolute paths, no
    /// symlinks leading out); pillar compiled here for this minion only.
    func serve(kind: String, path: String, saltenv: String, for id: String) async -> Value {
        let files = LocalFileClient(config: opts)
        switch kind {
        case "file":
            guard let local = try? files.cache(path, saltenv: saltenv),
                let data = FileManager.default.contents(atPath: local)
            else { return .null }
            return .string(data.base64EncodedString())
        case "hash":
            // Lets a minion keep its cached copy when the content is the same.
            guard let local = try? files.cache(path, saltenv: saltenv), let digest = try? Hashing.fileDigest(local) else { return .null }
            return .string(digest)
        case "list":
            return .list(((try? files.listFiles(saltenv: saltenv)) ?? []).map(Value.string))
        case "pillar" where path == "refresh":
            // Any minion may ask; the repositories are fetched once at a time and at most every few seconds.
            let opts = self.opts, logger = self.logger
            return .bool(await pillarRefresh.refresh {
                do {
                    try VCSPillar.refreshAll(opts)
                    return true
                } catch {
                    logger.error("refreshing the pillar's sources for \(id) failed: \(error)")
                    return false
                }
            })
        case "pillar":
            let grains = await registry.grains(id)
            do {
                return try PillarCompiler(config: opts, minionID: id, grains: grains).compile()
            } catch {
                logger.error("pillar for \(id) failed: \(error)")
                return ["_errors": .list([.string(error.description)])]
            }
        default:
            return .null
        }
    }

    // MARK: - CLI

    func handleClient(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        do {
            try await serveClient(channel)
        } catch {
            logger.warning("local client connection failed: \(LogText.escape("\(error)"))")
        }
    }

    /// One CLI request and its answer, then the client closes first.
    ///
    /// Closing first lost answers: the CLI prints as it reads, so with a
    /// large fleet it lags behind; when the master closed a unix socket
    /// right after `done`, the CLI's event loop saw the hang-up (EPOLLHUP)
    /// and closed without reading what was still queued in the socket. Runs
    /// at 10,000 minions printed a few hundred returns fewer, and no `done`.
    /// Now the master waits (at most a minute) for the client to hang up.
    func serveClient(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async throws {
        let raw = channel.channel
        try await channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            let encoder = FrameEncoder()
            func send(_ message: WireMessage) async throws {
                try await outbound.write(ByteBuffer(bytes: try encoder.encode(message.encoded())))
            }
            try await answer(await readRequest(&iterator, raw), channel: raw, send: send)
            let linger = raw.eventLoop.scheduleTask(in: .seconds(60)) { raw.close(promise: nil) }
            while (try? await iterator.next()) != nil {}
            linger.cancel()
        }
    }

    /// The first frame, decoded; a failure to answer when it is not a message.
    /// A client that never finishes its request does not hold a task for ever.
    func readRequest(_ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                     _ channel: any Channel) async -> Result<WireMessage?, BrineError>
    {
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(30)) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        var decoder = FrameDecoder()
        do {
            while let buffer = try await iterator.next() {
                if let frame = try decoder.feed(buffer.readableBytesView).first { return .success(try WireMessage.decode(frame)) }
            }
            return .success(nil)
        } catch {
            return .failure(BrineError(.usage, "malformed request: \(error)"))
        }
    }

    func answer(_ request: Result<WireMessage?, BrineError>, channel: any Channel, send: (WireMessage) async throws -> Void) async throws {
        let message: WireMessage?
        switch request {
        case .failure(let error):
            // A malformed request gets an answer, never a silent hang-up.
            try await send(.failure(error.message))
            return
        case .success(let decoded):
            message = decoded
        }
        guard case .publish(let target, let type, let fun, let arguments, let timeout, let batch)? = message else {
            try await send(.failure("expected a publish request"))
            return
        }
        guard let user = await peerUser(channel) else {
            try await send(.failure("not authorised: cannot tell which user is asking"))
            return
        }
        let request = PublishRequest(target: target, targetType: type, fun: fun, arguments: arguments, timeout: timeout, batch: batch)
        // A client that leaves (`--async`, Ctrl-C) does not stop the job: its
        // batches still go out and its returns still reach the job cache.
        var clientGone = false
        func forward(_ message: WireMessage) async {
            guard !clientGone else { return }
            do { try await send(message) } catch { clientGone = true }
        }
        do {
            try await publish(request, caller: Caller(name: user.name, groups: user.groups, acl: AccessControl.publisher(opts)), send: forward)
        } catch let refusal as PublishRefusal {
            try await send(.failure(refusal.description))
        }
    }

    /// The unix socket peer's user (SO_PEERCRED): who the CLI runs as.
    func peerUser(_ channel: any Channel) async -> PeerUser? {
        guard let provider = channel as? any SocketOptionProvider,
            let credentials: PeerCredentials = try? await provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET),
                                                                                         name: SocketOptionName(SO_PEERCRED)).get()
        else { return nil }
        return PeerUser(uid: credentials.uid, gid: credentials.gid)
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

/// Linux's `struct ucred` (pid, uid, gid: three 32-bit fields), which
/// Swift's Glibc module does not export.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// What the REST API asks of the master: minions, keys and jobs.
extension MasterDaemon {
    public var keyStore: KeyStore { keys }

    /// Accepted minions with the grains they last reported (empty when not connected).
    public func minions() async -> [(id: String, grains: Value)] {
        var out: [(String, Value)] = []
        for id in keys.list(.accepted) { out.append((id, await registry.grains(id))) }
        return out
    }

    public enum JobOutcome: Sendable {
        case refused(String)
        case failed(String)
        case published(jid: String, minions: [String])
        case returned(jid: String, returns: OrderedDictionary<String, Value>, missing: [String])
    }

    /// A job for an API user, authorised by `acl` (eauth) before anything is
    /// published. With `wait: false` it answers once published (local_async).
    public func runJob(target: String, type: String, fun: String, arguments: CallArguments, timeout: Double,
                       user: String, acl: AccessControl, wait: Bool) async -> JobOutcome
    {
        let (stream, continuation) = AsyncStream<WireMessage>.makeStream()
        let request = PublishRequest(target: target, targetType: type, fun: fun, arguments: arguments, timeout: timeout)
        let caller = Caller(name: user, groups: PeerUser.groups(of: user), acl: acl)
        let job = Task { () async -> PublishRefusal? in
            defer { continuation.finish() }
            do {
                try await publish(request, caller: caller, send: { continuation.yield($0) })
            } catch let refusal as PublishRefusal {
                return refusal
            } catch {
                // The job was published; what returned is below, the rest is missing.
            }
            return nil
        }
        var jid = ""
        var expected: [String] = []
        var returns = OrderedDictionary<String, Value>()
        for await message in stream {
            switch message {
            case .published(let id, let minions):
                jid = id
                expected = minions
                if !wait || minions.isEmpty {
                    // Nobody reads the rest: later returns are dropped here, not buffered
                    // for the job's lifetime (they are in the job cache).
                    continuation.finish()
                    return .published(jid: id, minions: minions)
                }
            case .jobReturn(_, let id, let value, _):
                returns[id] = value
            default:
                continue
            }
        }
        if let refusal = await job.value {
            switch refusal {
            case .notAuthorised: return .refused(refusal.description)
            case .invalid(let reason): return .failed(reason)
            }
        }
        // Whatever ended the stream, every expected minion is accounted for.
        return .returned(jid: jid, returns: returns, missing: expected.filter { returns[$0] == nil }.sorted())
    }
}

/// Work any minion may trigger (fetching the ext_pillar repositories), run
/// once at a time: callers during a run share its result, and a caller
/// soon after a run gets that run's result without another.
actor RefreshGate {
    let interval: Duration
    private var running: Task<Bool, Never>?
    private var last: (at: ContinuousClock.Instant, succeeded: Bool)?

    init(interval: Duration) {
        self.interval = interval
    }

    func refresh(_ work: @escaping @Sendable () -> Bool) async -> Bool {
        if let running { return await running.value }
        if let last, ContinuousClock.now - last.at < interval { return last.succeeded }
        let task = Task.detached { work() }
        running = task
        let succeeded = await task.value
        running = nil
        last = (.now, succeeded)
        return succeeded
    }
}
