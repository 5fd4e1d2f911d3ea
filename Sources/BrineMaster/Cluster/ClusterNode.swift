import BrineCluster
import BrineCore
import BrineWire
import Crypto
import Foundation
import Logging

/// This master as one of a cluster (`cluster_database`): what the other
/// parts ask of the cluster, and what it does when the database says
/// something changed.
///
/// - Keys: a snapshot of the accepted keys (publishes and reconnect storms
///   read it, not the database), re-read per key on `k:ID` and whole on
///   every reconnect; a key no longer accepted closes its session here.
/// - Jobs: `j:JID` → this master reads the job's new batches and sends
///   them to their minions connected here; a minion that connects is sent
///   every unexpired job it is a target of and has not returned
///   (`ClusterJobBook` knows whom each job was sent to).
/// - Returns: checked against the job's batches, stored in batches
///   (`WorkQueue`); `r:JID` → the publisher of that job, if it is here,
///   reads the new returns and streams them.
/// - Hints are gathered (`WorkQueue`) and handled by one worker each: ten
///   hints for one job while one is handled are one more read, not ten.
/// - A heartbeat (every 5 s) with the digest of the file and pillar trees,
///   a warning when another live master's differs; `keep_jobs` cleanup on
///   one master at a time (an advisory lock).
public actor ClusterNode {
    public nonisolated let database: ClusterDatabase
    nonisolated let store: ClusterKeys
    let registry: MinionRegistry
    let logger: Logger
    nonisolated let opts: Config
    /// How long a job stays deliverable to minions that were not connected (seconds).
    nonisolated let jobTTL: Double

    private var accepted: [String: [UInt8]] = [:]
    /// Per job published here: from which transaction to read returns other masters stored (see `ClusterDatabase.returns`).
    private var windows: [String: Int64] = [:]
    private var digestsWarnedAbout: [String: String] = [:]
    private var olderMastersWarnedAbout: Set<String> = []
    private var book = ClusterJobBook()
    /// `prepare` is done: the tables exist, the keys are read.
    private(set) var isPrepared = false
    /// This master had a heartbeat row when it started: what it kept alone is not added (`ClusterAdoption`).
    var servedBefore = false

    /// Connections and disconnections, in the order they happened.
    nonisolated let presenceQueue = WorkQueue<(id: String, connected: Bool)>()
    nonisolated let dataQueue = WorkQueue<ClusterDatabase.MinionData>(weight: \.size)
    /// Keys to re-read, gathered: a storm of admissions is a few reads, not one per key.
    nonisolated let keyHintQueue = WorkQueue<String>()
    /// Jobs with batches to send to the minions here (`j:JID`, the sweep).
    nonisolated let jobHintQueue = WorkQueue<String>()
    /// Jobs published here with returns to read (`r:JID`).
    nonisolated let returnHintQueue = WorkQueue<String>()

    /// nil when `cluster_database` is not set.
    public static func configured(_ opts: Config, registry: MinionRegistry, logger: Logger) throws -> ClusterNode? {
        guard let database = try ClusterNode.database(opts, logger: logger) else { return nil }
        return ClusterNode(database: database, registry: registry, logger: logger, opts: opts)
    }

    /// The database of `cluster_database` (nil when unset), for `brine key` and `brine jobs` too.
    public static func database(_ opts: Config, logger: Logger) throws -> ClusterDatabase? {
        guard let text = opts.string("cluster_database"), !text.isEmpty else { return nil }
        let url = try DatabaseURL(text)
        let name = opts.string("master_id").flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(ProcessInfo.processInfo.hostName):\(opts.int("ret_port") ?? 4506)"
        return try ClusterDatabase(url: url, master: name, logger: logger)
    }

    init(database: ClusterDatabase, registry: MinionRegistry, logger: Logger, opts: Config) {
        self.database = database
        let store = ClusterKeys(database: database)
        self.store = store
        self.registry = registry
        self.logger = logger
        self.opts = opts
        jobTTL = Double(max(1, opts.int("cluster_job_ttl") ?? 300))
    }

    /// Stores the returns of a batch that were sent for: `published` says
    /// which a publisher here waits for (sent by it); the others are checked
    /// against their jobs' batches (read when not known here). Returns what
    /// was stored now and how many were not expected (dropped).
    func store(_ returns: [ClusterDatabase.ReceivedReturn], published: [Bool]) async throws
        -> (stored: Set<ReturnKey>, refused: Set<ReturnKey>, unexpected: Int)
    {
        var jobs = book.known(Set(returns.map(\.key.jid)))
        var unknown = Set<String>()
        for (received, waited) in zip(returns, published) where !waited && jobs[received.key.jid]?.targets.contains(received.key.minion) != true {
            unknown.insert(received.key.jid)
        }
        if !unknown.isEmpty { jobs = try await read(Array(unknown), known: jobs) }
        let kept = zip(returns, published).filter { received, waited in
            waited || jobs[received.key.jid]?.targets.contains(received.key.minion) == true
        }.map(\.0)
        let outcome = try await Self.store(kept, in: database, logger: logger)
        return (outcome.stored, outcome.refused, returns.count - kept.count)
    }

    /// `known` with the batches of `jids` it lacks read now (all of a job
    /// not in it). The answer is made from what was read, not from the book
    /// after the read: other jobs learnt meanwhile may have pushed these out.
    private func read(_ jids: [String], known: [String: ClusterJobBook.Job]) async throws -> [String: ClusterJobBook.Job] {
        let wanted = jids.map { ($0, known[$0]?.seq ?? -1) }
        let read = try await database.batches(wanted)
        var jobs = known
        for (jid, after) in wanted {
            guard let batches = read[jid] else { continue }
            if var job = jobs[jid] {
                job.add(batches)
                jobs[jid] = job
            } else {
                jobs[jid] = ClusterJobBook.Job(batches)
            }
            book.learn(batches, readAfter: after)
        }
        return jobs
    }

    /// One bad return (a value PostgreSQL refuses) must not sink its whole
    /// batch: when the batch fails, each is stored alone; the error is
    /// thrown only when none could be (the database is away).
    /// The ones it refused are named (left unacknowledged: their minions send
    /// them again), not taken for duplicates.
    static func store(_ returns: [ClusterDatabase.ReceivedReturn], in database: ClusterDatabase, logger: Logger) async throws
        -> (stored: Set<ReturnKey>, refused: Set<ReturnKey>)
    {
        do {
            return (try await database.recordReturns(returns), [])
        } catch {
            guard returns.count > 1 else { throw error }
            var stored = Set<ReturnKey>(), refused = Set<ReturnKey>()
            for single in returns {
                do {
                    stored.formUnion(try await database.recordReturns([single]))
                } catch let refusal {
                    refused.insert(single.key)
                    logger.error("\(refusal); the return of \(LogText.escape(single.key.minion)) for \(single.key.jid) is left to it to send again")
                }
            }
            if refused.count == returns.count { throw error }
            return (stored, refused)
        }
    }

    /// The keys as the master sees them: the accepted ones from the snapshot.
    public nonisolated var keys: any MinionKeys { CachedClusterKeys(node: self) }

    // MARK: Start and run

    /// Before minions are served: the tables exist, this master's old
    /// connections are forgotten, the key snapshot is read. Needs the
    /// database's pool running (`database.run()`); gives up after 15 s
    /// with a clear error.
    func prepare(adoptingFrom local: KeyStore? = nil) async throws {
        try await connect(within: 15)
        do {
            try await withTimeout(15) { [database] in
                try await database.migrate()
                try await database.forgetConnections()
            }
            servedBefore = try await withTimeout(15) { [database] in try await database.hasServed() }
            if let local { try await adoptKeys(of: local) }
            try await reloadKeys()
            // Jobs already out were sent by the masters their minions had; the minions that
            // connect here get the ones they did not return (`sendMissed`), not every one again.
            let unexpired = try await withTimeout(15) { [database] in try await database.unexpiredJobs() }
            for job in unexpired { book.dispatched(job.jid, through: job.lastSeq, expires: job.expires) }
        } catch is TimeoutError {
            throw BrineError(.config, "cluster database \(database.url.redacted) did not answer within 15 s",
                             hint: "check that PostgreSQL runs there and cluster_database's user, password and database")
        }
        logger.info("cluster \(opts.string("cluster_id") ?? ""): master \(database.master) on \(database.url.redacted)")
        isPrepared = true
    }

    /// Returns once `prepare` is done (the tables exist), or when cancelled.
    func untilPrepared() async {
        while !isPrepared, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(100)) }
    }

    /// Waits for one connection (a PostgreSQL starting with the masters),
    /// at most `seconds`; then fails with the last reason given (refused,
    /// pg_hba.conf, TLS, password), which the master prints as it stops.
    func connect(within seconds: Double) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            do {
                return try await database.checkConnection()
            } catch {
                guard Date() < deadline, !Task.isCancelled else {
                    throw BrineError(.config, "\(error)", hint: "check that PostgreSQL runs there and cluster_database's user, password, database and sslmode")
                }
                logger.warning("\(error); trying again")
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Listens, beats, writes what the queues gather and cleans up until cancelled.
    func serve() async {
        await withDiscardingTaskGroup { tasks in
            tasks.addTask { await self.database.listen { await self.handle($0) } }
            tasks.addTask { await self.presenceQueue.work { await self.recordPresence($0) } }
            tasks.addTask { await self.dataQueue.work { batch in _ = await self.untilWritten { try await self.database.setData(batch) } } }
            tasks.addTask {
                await self.keyHintQueue.work { hinted in
                    let ids = Set(hinted)
                    do { await self.update(ids, to: try await self.store.accepted(among: Array(ids))) } catch { self.logger.error("\(error)") }
                }
            }
            tasks.addTask {
                await self.jobHintQueue.work { jids in
                    for jid in Self.unique(jids) {
                        do { try await self.dispatchNewBatches(jid) } catch { self.logger.error("\(error)") }
                    }
                }
            }
            tasks.addTask {
                await self.returnHintQueue.work { jids in
                    for jid in Self.unique(jids) {
                        do { try await self.readReturns(jid) } catch { self.logger.error("\(error)") }
                    }
                }
            }
            tasks.addTask { await self.beat() }
            tasks.addTask {
                await self.database.singleton("keep_jobs") {
                    while !Task.isCancelled {
                        do { try await self.database.expire(olderThanHours: self.opts.int("keep_jobs") ?? 24) } catch {
                            self.logger.error("\(error)")
                        }
                        try? await Task.sleep(for: .seconds(3600))
                    }
                }
            }
        }
    }

    func handle(_ event: ClusterEvent) async {
        do {
            switch event {
            case .key(let id): keyHintQueue.append(id)
            case .job(let jid): jobHintQueue.append(jid)
            case .returns(let jid): returnHintQueue.append(jid)
            case .caughtUp: try await catchUp()
            }
        } catch {
            logger.error("\(error)")
        }
    }

    /// After every (re)connect: whatever notifications were missed.
    func catchUp() async throws {
        try await reloadKeys()
        // Through the queue, behind any disconnection already in it: the order holds.
        for id in await registry.connectedIDs { minionConnected(id) }
        try await sweep()
    }

    /// Every few seconds, and after a reconnect: batches not sent to the
    /// minions here yet (a hint lost to a database error) and returns of
    /// jobs published here; what concerns expired jobs is forgotten.
    func sweep() async throws {
        // One clock for both: a job that expires between them is neither queued nor forgotten.
        let now = Date().timeIntervalSince1970
        for job in try await database.unexpiredJobs(at: now) where book.dispatched[job.jid] ?? -1 < job.lastSeq { jobHintQueue.append(job.jid) }
        book.forgetExpired(now: now)
        for jid in windows.keys { returnHintQueue.append(jid) }
    }

    /// Each jid once, in the order first given.
    static func unique(_ jids: [String]) -> [String] {
        var seen = Set<String>()
        return jids.filter { seen.insert($0).inserted }
    }

    // MARK: Keys

    func reloadKeys() async throws {
        var snapshot: [String: [UInt8]] = [:]
        for entry in try await store.all() where entry.status == .accepted { snapshot[entry.id] = entry.key }
        accepted = snapshot
        await revokeUnaccepted()
    }

    func reloadKey(_ id: String) async throws {
        await update([id], to: try await store.accepted(among: [id]))
    }

    /// The snapshot for these ids, as just read; sessions of ids no longer accepted are closed.
    func update(_ ids: Set<String>, to current: [String: [UInt8]]) async {
        var gone: [String] = []
        for id in ids {
            accepted[id] = current[id]
            if current[id] == nil { gone.append(id) }
        }
        guard !gone.isEmpty else { return }
        revoked(await registry.revoke(gone))
    }

    func revokeUnaccepted() async {
        let snapshot = accepted
        revoked(await registry.revoke(keeping: Set(snapshot.keys), isAccepted: { snapshot[$0] != nil }))
    }

    /// Sessions just closed for keys no longer accepted: logged, and no longer this master's in the database.
    private func revoked(_ ids: [String]) {
        for id in ids { logger.warning("minion \(LogText.escape(id)): key no longer accepted, connection closed") }
        for id in ids { minionDisconnected(id) }
    }

    var acceptedIDs: [String] { accepted.keys.sorted() }

    func acceptedKey(_ id: String) -> [UInt8]? { accepted[id] }

    // MARK: Jobs

    /// Sends a job's batches not sent here yet to their minions connected
    /// here (one worker: `jobHintQueue`). The minions a publisher here sent
    /// a batch to are left out.
    func dispatchNewBatches(_ jid: String) async throws {
        let after = book.dispatched[jid] ?? -1
        // An expired job is sent to no one (a late hint; what was sent of it may be forgotten here).
        guard let read = try await database.batches([(jid, after)])[jid], read.expires > Date().timeIntervalSince1970 else { return }
        book.learn(read, readAfter: after)
        var dispatches: [ClusterDatabase.Dispatch] = []
        for batch in read.batches {
            let sentHere = book.takeSentByPublisher(.init(jid: jid, seq: batch.seq))
            dispatches.append(.init(jid: jid, minions: sentHere.isEmpty ? batch.minions : batch.minions.filter { !sentHere.contains($0) },
                                    payload: read.payload))
            book.dispatched(jid, through: batch.seq, expires: read.expires)
        }
        await send(dispatches)
    }

    /// A publisher here is about to record a batch (`ClusterDatabase.deliver`)
    /// and sends it to `local` itself.
    func publishing(jid: String, seq: Int, local: [String], expires: Double) {
        book.publishing(.init(jid: jid, seq: seq), local: Set(local), expires: expires)
    }

    /// The batch could not be recorded (or not known to be): true when its
    /// publisher is to send it to no one (whoever gets it sends it to all);
    /// false when this master's own hint already took it (it was recorded
    /// after all, and sent to all but the publisher's minions).
    func publishingFailed(jid: String, seq: Int) -> Bool {
        book.withdrawPublishing(.init(jid: jid, seq: seq))
    }

    /// Minions just recorded as connected here: the unexpired jobs they are
    /// targets of and have not returned.
    func sendMissed(to arrived: [String]) async throws {
        guard !arrived.isEmpty else { return }
        let unexpired = try await database.unexpiredJobs()
        let known = book.known(Set(unexpired.map(\.jid)))
        let jobs = try await read(unexpired.filter { (known[$0.jid]?.seq ?? -1) < $0.lastSeq }.map(\.jid), known: known)
        var candidates: [ReturnKey] = []
        for (jid, job) in jobs {
            for id in arrived where job.targets.contains(id) { candidates.append(ReturnKey(jid: jid, minion: id)) }
        }
        let returned = try await database.returned(candidates)
        var missed: [String: [String]] = [:]
        for candidate in candidates where !returned.contains(candidate) { missed[candidate.jid, default: []].append(candidate.minion) }
        let dispatches = missed.compactMap { jid, minions in
            jobs[jid].map { ClusterDatabase.Dispatch(jid: jid, minions: minions, payload: $0.payload) }
        }
        for job in dispatches { logger.info("job \(job.jid): sent to \(job.minions.count) minion(s) that connected since it was published") }
        await send(dispatches)
    }

    /// A minion admitted here: queued to be recorded as connected here
    /// (then it is sent the jobs it missed, `recordPresence`). The
    /// database away does not hold up the minion's session: the write waits
    /// in the queue (`untilWritten`).
    nonisolated func minionConnected(_ id: String) {
        if !presenceQueue.append((id, true)) { logger.error("cluster database: minion \(id)'s connection not recorded (queue full)") }
    }

    nonisolated func minionDisconnected(_ id: String) {
        if !presenceQueue.append((id, false)) { logger.error("cluster database: minion \(id)'s disconnection not recorded (queue full)") }
    }

    nonisolated func minionData(_ id: String, grains: Value, pillar: Value) {
        if !dataQueue.append(ClusterDatabase.MinionData(id: id, grains: grains, pillar: pillar)) {
            logger.error("cluster database: minion \(id)'s grains not recorded (queue full)")
        }
    }

    /// Records a batch of connections and disconnections, and sends the
    /// minions that arrived the unexpired jobs they have not returned.
    nonisolated func recordPresence(_ events: [(id: String, connected: Bool)]) async {
        guard let arrived = await untilWritten({ try await database.presence(events) }) else { return }
        _ = await untilWritten { try await self.sendMissed(to: arrived) }
    }

    /// Writes one batch again and again (0.5 s doubling to 5 s) while the
    /// database is away, so that returns, connections and grains land in
    /// order and none is lost to a restart; the queue behind it waits (and
    /// refuses past its bound). After two minutes the batch is given up:
    /// logged with `givenUp`, nil returned.
    nonisolated func untilWritten<T>(givenUp: String = "given up after two minutes", _ write: () async throws -> T) async -> T? {
        var delay = 0.5
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            do {
                return try await write()
            } catch {
                guard ContinuousClock.now < deadline, !Task.isCancelled else {
                    logger.error("\(error); \(givenUp)")
                    return nil
                }
                if delay == 0.5 { logger.warning("\(error); retrying") }
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                delay = min(delay * 2, 5)
            }
        }
    }

    nonisolated func send(_ jobs: [ClusterDatabase.Dispatch]) async {
        for job in jobs {
            for (_, session) in await registry.sessions(job.minions) {
                // A failed send: the minion gets it when it reconnects (unless it expired).
                _ = try? session?.enqueue(job.payload, deadline: Publisher.sendDeadline)
            }
        }
    }

    // MARK: Returns

    /// A publish here starts following its job's returns from other masters.
    func follow(_ jid: String) { windows[jid] = 0 }

    func unfollow(_ jid: String) { windows[jid] = nil }

    /// New returns of a job published here, received by other masters
    /// (some again: the publisher's `Delivery` keeps the first).
    func readReturns(_ jid: String) async throws {
        guard let window = windows[jid] else { return }
        let read = try await database.returns(jid: jid, from: window)
        if windows[jid] != nil { windows[jid] = max(windows[jid] ?? 0, read.next) }
        // In one hop to the registry: a fleet-wide job's read is thousands of returns.
        await registry.deliver(read.returns.map { JobReturn(jid: jid, id: $0.minion, value: $0.value, retcode: $0.retcode) })
    }

    // MARK: Heartbeat

    /// Read off the actor: a large tree must not hold up admissions and hints.
    nonisolated static func digestOfTrees(_ opts: Config) async -> String {
        await Task.detached { TreeDigest.of(opts) }.value
    }

    func beat() async {
        let opts = self.opts
        var digest = await Self.digestOfTrees(opts)
        var beats = 0
        while !Task.isCancelled {
            beats += 1
            if beats % 60 == 0 { digest = await Self.digestOfTrees(opts) }
            do { try await sweep() } catch { logger.error("\(error)") }
            do {
                let others = try await database.heartbeat(treeDigest: digest)
                for (name, other) in others where other.protocol == nil && !olderMastersWarnedAbout.contains(name) {
                    olderMastersWarnedAbout.insert(name)
                    logger.error("cluster: master \(LogText.escape(name)) runs an older Brine, which passes jobs through per-minion deliveries: jobs do not pass between it and this master; upgrade every master of the cluster")
                }
                for (name, other) in others where other.digest != digest && digestsWarnedAbout[name] != other.digest + digest {
                    let theirs = other.digest
                    digestsWarnedAbout[name] = theirs + digest
                    logger.warning("cluster: master \(LogText.escape(name))'s file_roots/pillar_roots differ from this master's (digest \(theirs.prefix(12)) here \(digest.prefix(12))): deploy the same trees on every master")
                }
            } catch {
                logger.error("\(error)")
            }
            try? await Task.sleep(for: .seconds(5))
        }
    }
}

/// The master's keys in a cluster: reads of the accepted section and
/// re-admissions of known keys from the snapshot, every change in the database.
struct CachedClusterKeys: MinionKeys {
    let node: ClusterNode

    func list(_ status: KeyStore.Status) async throws -> [String] {
        status == .accepted ? await node.acceptedIDs : try await node.store.list(status)
    }

    func status(of id: String) async throws -> KeyStore.Status? {
        await node.acceptedKey(id) != nil ? .accepted : try await node.store.status(of: id)
    }

    func contains(_ id: String, in status: KeyStore.Status) async throws -> Bool {
        status == .accepted ? await node.acceptedKey(id) != nil : try await node.store.contains(id, in: status)
    }

    func publicKey(_ id: String, in status: KeyStore.Status) async throws -> Curve25519.KeyAgreement.PublicKey {
        try await node.store.publicKey(id, in: status)
    }

    func admit(id: String, key: Curve25519.KeyAgreement.PublicKey, autoAccept: Bool, autosign: [String], maximumPending: Int) async throws -> KeyAdmission {
        // A known key reconnecting: from the snapshot. Anything else: the database
        // (a new key's acceptance reaches the snapshot through its notification).
        if await node.acceptedKey(id) == Array(key.rawRepresentation) { return .accepted }
        return try await node.store.admit(id: id, key: key, autoAccept: autoAccept, autosign: autosign, maximumPending: maximumPending)
    }

    func move(_ id: String, from: KeyStore.Status, to: KeyStore.Status) async throws {
        try await node.store.move(id, from: from, to: to)
        try await node.reloadKey(id)
    }

    func delete(_ id: String, from status: KeyStore.Status) async throws {
        try await node.store.delete(id, from: status)
        try await node.reloadKey(id)
    }

    func preseed(id: String, key: Curve25519.KeyAgreement.PublicKey) async throws {
        try await node.store.preseed(id: id, key: key)
        try await node.reloadKey(id)
    }
}

extension ClusterNode {
    /// A database call a client waits on: 10 s at most (the pool would
    /// otherwise queue it for a minute while the database is away).
    nonisolated func answering<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await withTimeout(10, body)
        } catch is TimeoutError {
            throw BrineError(.io, "cluster database \(database.url.redacted) did not answer within 10 s (\(what))",
                             hint: "check that PostgreSQL runs and this master reaches it")
        }
    }
}
