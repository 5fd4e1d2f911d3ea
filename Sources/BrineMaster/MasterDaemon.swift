import BrineCore
import BrineModules
import BrineState
import BrineWire
import Foundation
import Logging
import OrderedCollections

/// The master, in parts that each do one job: `MinionListener` (accept,
/// handshake, admission, then a minion's messages), `Publisher` (resolve,
/// authorise, send, follow a job to its end), `ReturnSink` (job cache and
/// delivery), `FileServer`, `PillarServer` and `ClientSocket` (the CLI's
/// unix socket). They meet in `MinionRegistry`, an actor. Only accepted
/// minions get jobs.
///
/// Concurrency: tasks and actors (`MinionRegistry`, `RefreshGate`); shared
/// counters are atomics (`ConnectionCount`); a `Mutex` guards only small
/// state (a session's send state, the auth and monitor caches). A minion's
/// connection is a channel handler on its event loop (`MinionConnection`)
/// whose awaited work runs in short tasks; a client's is a task. A send
/// never waits for a slow minion.
public struct MasterDaemon: Sendable {
    public let opts: Config
    /// The minion keys: `fileKeys`, or the cluster's database.
    let keys: any MinionKeys
    /// `pki_dir`'s key files (unused for minion keys in a cluster).
    let fileKeys: KeyStore
    let registry: MinionRegistry
    public let jobs: JobCache?
    /// Set with `cluster_database`: this master is one of several sharing keys, jobs and returns.
    public let cluster: ClusterNode?
    /// The master's log, in Salt's formats and levels (the `brine master`
    /// command configured `SaltLog` from `log_file`, `log_level`, …).
    public let logger = Logger.brine("brine.master")

    /// `withJobCache: false` for clients that only need the paths.
    public init(opts: Config, withJobCache: Bool = false) throws {
        self.opts = opts
        let registry = MinionRegistry()
        self.registry = registry
        fileKeys = KeyStore(pkiDir: opts.string("pki_dir") ?? "/etc/brine/pki/master")
        cluster = try ClusterNode.configured(opts, registry: registry, logger: logger)
        keys = cluster?.keys ?? fileKeys
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
        let keyDir = KeyFiles.master(opts).directory
        return ([opts.string("pki_dir"), keyDir == opts.string("pki_dir") ? nil : keyDir, opts.string("cachedir"), opts.string("sock_dir")].compactMap { $0 },
                [root != "/" && pidDir.hasPrefix(root + "/") ? pidDir : "", opts.string("log_file") ?? ""].filter { !$0.isEmpty })
    }

    public var socketPath: String { Self.socketPath(opts) }

    /// Where the master listens for clients: `sock_dir/brine-master.sock`.
    public static func socketPath(_ opts: Config) -> String {
        (opts.string("sock_dir") ?? "/var/run/brine/master") + "/brine-master.sock"
    }

    /// Runs until the process is stopped.
    public func run() async throws {
        try fileKeys.prepare()
        try jobs?.expire(olderThanHours: opts.int("keep_jobs") ?? 24)
        do { try VCSPillar.refreshAll(opts) } catch { logger.error("ext_pillar: \(error)") }
        let masterKey = try loadMasterKey()
        try PrivateDirectory.make(opts.string("sock_dir") ?? "/var/run/brine/master")
        // The cache holds returns, pillar repositories and minions' data: its owner's only.
        try PrivateDirectory.make(opts.string("cachedir") ?? "/var/cache/brine/master")
        if let pidfile = opts.string("pidfile") {
            try? FileManager.default.createDirectory(atPath: (pidfile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write("\(getpid())\n", to: pidfile)
        }
        let host = opts.string("interface") ?? "0.0.0.0"
        let port = opts.int("ret_port") ?? 4506
        let returns = ReturnSink(registry: registry, jobs: jobs, logger: logger, cluster: cluster)
        let listener = MinionListener(opts: opts, keys: keys, registry: registry, files: FileServer(opts: opts),
                                      pillar: PillarServer(opts: opts, registry: registry, logger: logger),
                                      returns: returns, logger: logger, masterKey: masterKey, cluster: cluster)
        let minionPort = try await listener.bind(host: host, port: port)
        // However this ends (a later step failing included), the port and its connections close.
        defer {
            minionPort.close(promise: nil)
            listener.connections.closeAll()
        }
        let clientPort = try await WireBootstrap.listen(unixSocket: socketPath)
        let clients = ClientSocket(path: socketPath, publisher: publisher, acl: AccessControl.publisher(opts), logger: logger)
        clients.restrictAccess(socketDirectory: opts.string("sock_dir") ?? "/var/run/brine/master")
        let pidfile = opts.string("pidfile")
        let socket = socketPath
        let stop = Signals.onTermination {
            unlink(socket)
            if let pidfile { unlink(pidfile) }
        }
        defer { withExtendedLifetime(stop) {} }
        logger.info("master listening on \(host):\(port), local socket \(socketPath) as user \(CoreUser.name)")
        try await withThrowingDiscardingTaskGroup { tasks in
            if let cluster {
                tasks.addTask { await cluster.database.run() }
                try await cluster.prepare(adoptingFrom: fileKeys)
                tasks.addTask { await cluster.serve() }
                if let jobs { tasks.addTask { await cluster.adoptChecks(of: LocalMonitorStore(jobs: jobs)) } }
            } else {
                tasks.addTask { await watchKeys() }
            }
            tasks.addTask { await returns.storeReturns() }
            tasks.addTask { try await listener.serve(minionPort) }
            tasks.addTask { try await clients.serve(clientPort) }
        }
    }

    /// The master's static key pair; in a cluster (`cluster_id`) the
    /// cluster's, made from this master's own key when it is the first to
    /// need it: a master that had minions before it joined keeps them (each
    /// minion pinned the key it first met, and refuses another). An own key
    /// that cannot be read stops the start (a new cluster key would be for
    /// good, and every minion that pinned the old one would refuse it).
    func loadMasterKey() throws -> StaticKeyPair {
        let files = KeyFiles.master(opts)
        let own = KeyFiles(directory: fileKeys.pkiDir, name: "master")
        guard files.privateKeyPath != own.privateKeyPath else { return try files.loadOrGenerate().pair }
        // Read strictly only when it is to become the cluster's.
        let ownPair = FileManager.default.fileExists(atPath: files.privateKeyPath) ? try? own.loadPrivateKey() : try own.loadPrivateKey()
        let (pair, created) = try files.loadOrGenerate(seed: ownPair)
        guard let ownPair else { return pair }
        if ownPair.publicKey.rawRepresentation == pair.publicKey.rawRepresentation {
            if created { logger.info("\(files.privateKeyPath): the cluster's key is this master's own (\(own.privateKeyPath)): its minions keep trusting it") }
        } else if !fileKeys.list(.accepted).isEmpty {
            logger.warning("""
                \(own.privateKeyPath) is not the cluster's key (\(files.privateKeyPath)): the minions this master served alone \
                pinned it and will refuse the cluster; remove minion_master.pub from their pki_dir, or start the cluster \
                from this master's key (README: several masters)
                """)
        }
        return pair
    }

    /// The monitor's checks: the cluster's, shared by every master, with
    /// `cluster_database`; else this master's job cache.
    public func monitorStore(jobs: JobCache) -> any MonitorStore {
        cluster.map { ClusterMonitorStore(database: $0.database) } ?? LocalMonitorStore(jobs: jobs)
    }

    /// Where state runs are read (`/metrics`, the fleet page, `/api/stats`):
    /// the cluster's, every master's minions, with `cluster_database`; else
    /// this master's job cache.
    public func stateRunStore(jobs: JobCache) -> any StateRunStore {
        cluster.map { ClusterStateRuns(database: $0.database) } ?? jobs
    }

    /// Runs the monitor's poller: on this master alone, or in a cluster on
    /// one master at a time (it moves when that master dies).
    public func runMonitor(_ poller: MonitorPoller) async {
        guard let cluster else { return await poller.run() }
        // Not before this master made the tables (a new database): the poller's first step reads them.
        await cluster.untilPrepared()
        guard !Task.isCancelled else { return }
        await cluster.database.singleton("monitor") { await poller.run() }
    }

    var publisher: Publisher { Publisher(opts: opts, keys: keys, registry: registry, jobs: jobs, logger: logger, cluster: cluster) }

    /// Closes the sessions of minions whose key is no longer accepted (the
    /// REST API calls this right after a key action; the watcher below
    /// catches `brine key`, another process).
    public func revokeUnaccepted() async {
        if let cluster {
            do { try await cluster.reloadKeys() } catch { logger.error("\(error)") }
            return
        }
        for id in await registry.revoke(keeping: Set(fileKeys.list(.accepted)), isAccepted: { [fileKeys] in fileKeys.status(of: $0) == .accepted }) {
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
            if stat(fileKeys.directory(.accepted), &info) == 0 {
                let changed = info.st_mtim
                if let last = seen, last.tv_sec != changed.tv_sec || last.tv_nsec != changed.tv_nsec {
                    await revokeUnaccepted()
                }
                seen = changed
            }
            try? await Task.sleep(nanoseconds: 500_000_000)
        }
    }
}

/// What the REST API asks of the master: minions, keys and jobs.
extension MasterDaemon {
    public var keyStore: any MinionKeys { keys }
    /// The master's own pair (`cluster.pem` in a cluster).
    public var keyFiles: KeyFiles { KeyFiles.master(opts) }

    /// Accepted minions with the grains they last reported (empty when not connected).
    public func minions() async throws -> [(id: String, grains: Value)] {
        var out: [(String, Value)] = []
        for id in try await keys.list(.accepted) { out.append((id, await registry.grains(id))) }
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
        let (stream, continuation) = AsyncStream<JobEvent>.makeStream()
        let request = PublishRequest(target: target, targetType: type, fun: fun, arguments: arguments, timeout: timeout)
        let caller = Caller(name: user, groups: PeerUser.groups(of: user), acl: acl)
        let publisher = self.publisher
        let job = Task { () async -> Refusal? in
            defer { continuation.finish() }
            do {
                try await publisher.publish(request, caller: caller, send: { for event in $0 { continuation.yield(event) } })
            } catch let refusal as Refusal {
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
            case .returned(let jobReturn):
                returns[jobReturn.id] = jobReturn.value
            default:
                continue
            }
        }
        if let refusal = await job.value {
            switch refusal.kind {
            case .notAuthorised: return .refused(refusal.description)
            case .invalid, .malformed: return .failed(refusal.description)
            }
        }
        // Whatever ended the stream, every expected minion is accounted for.
        return .returned(jid: jid, returns: returns, missing: expected.filter { returns[$0] == nil }.sorted())
    }
}
