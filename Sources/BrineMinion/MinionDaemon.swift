import BrineCore
import BrineModules
import BrineState
import BrineWire
import Foundation
import Logging
import NIOCore
import Synchronization

/// The minion: connects to the master, authenticates with its static key,
/// waits while its key is pending, then runs the jobs it is sent and
/// returns the results. Reconnects by itself with back-off.
public struct MinionDaemon: Sendable {
    public let opts: Config
    public let configDir: String
    /// Returns not yet acknowledged by the master, kept across reconnects.
    let outbox = ReturnOutbox()
    /// `process_count_max` jobs at once.
    let pool: JobPool
    let recentJobs: RecentJobs
    /// The connection's requests to the master, for jobs to use whenever they run.
    let link = MasterLink()
    /// Its sessions' send deadlines (a swarm's members share one), checked by one timer.
    var sendDeadlines = SendDeadlines()

    public init(opts: Config, configDir: String) {
        self.opts = opts
        self.configDir = configDir
        self.pool = JobPool(limit: JobPool.effectiveLimit(opts))
        self.recentJobs = RecentJobs(limit: opts.int("minion_jid_queue_hwm") ?? 100)
    }

    var id: String { opts.string("id") ?? CoreGrains.hostName() }
    var pkiDir: String { opts.string("pki_dir") ?? "/etc/brine/pki/minion" }
    var pinnedMasterKey: String { pkiDir + "/minion_master.pub" }

    static let logger = Logger.brine("brine.minion")
    /// Said before each message of a swarm member (one process, many ids).
    var logPrefix = ""

    /// A bench minion that serves `count` identities from one process
    /// (like Salt's minionswarm): ids `ID-0000…`, each with its own key under
    /// `pki_dir/swarm/`, each its own connection.
    public func runSwarm(count: Int) async throws {
        // The members install no handlers of their own: SIGTERM and SIGINT end the whole swarm, as they end one minion.
        let stop = Signals.onTermination {}
        defer { withExtendedLifetime(stop) {} }
        try await sendDeadlines.watching { try await runMembers(count: count) }
    }

    func runMembers(count: Int) async throws {
        let base = id
        let width = max(4, String(count - 1).count)
        try await withThrowingDiscardingTaskGroup { group in
            for index in 0..<count {
                let number = String(index)
                let memberID = base + "-" + String(repeating: "0", count: width - number.count) + number
                var memberOpts = opts
                memberOpts["id"] = .string(memberID)
                memberOpts["pki_dir"] = .string(pkiDir + "/swarm/" + memberID)
                memberOpts["pidfile"] = nil
                var member = MinionDaemon(opts: memberOpts, configDir: configDir)
                member.logPrefix = memberID + ": "
                member.sendDeadlines = sendDeadlines
                group.addTask { try await member.run(installSignals: false) }
            }
        }
    }

    public func run() async throws {
        try await sendDeadlines.watching { try await run(installSignals: true) }
    }

    func run(installSignals: Bool) async throws {
        try PrivateDirectory.make(pkiDir)
        let pair = try KeyFiles(directory: pkiDir, name: "minion").loadOrGenerate().pair
        let context = try LocalContext.make(opts: opts, configDir: configDir)
        let pidfile = opts.string("pidfile")
        let stop = installSignals ? Signals.onTermination { if let pidfile { unlink(pidfile) } } : []
        defer { withExtendedLifetime(stop) {} }
        if let pidfile {
            try? FileManager.default.createDirectory(atPath: (pidfile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? AtomicFile.write("\(getpid())\n", to: pidfile)
        }
        let masters = try MasterList(opts)
        let firstWait = max(0.1, opts.double("acceptance_wait_time") ?? 10)
        var wait = firstWait
        let maxWait = opts.double("acceptance_wait_time_max").flatMap { $0 > 0 ? $0 : nil } ?? wait
        // Failover: the masters are tried in turn; the back-off waits only after all have been tried.
        var index = 0
        var triedInTurn = 0
        while !Task.isCancelled {
            let master = masters.addresses[index]
            let started = Date()
            // A connection that lasted was a working one: back-off and turn start again. One that
            // ends at once counts as a failed attempt (no tight loop when every master drops it).
            func steady() -> Bool { Date().timeIntervalSince(started) >= Self.steadySession }
            do {
                let ended = try await session(pair: pair, context: context, master: master, primary: masters.addresses[0])
                if ended == .failback {
                    Self.logger.warning("\(logPrefix)the first master \(masters.addresses[0]) is back: moving to it")
                    (index, triedInTurn, wait) = (0, 0, firstWait)
                    continue
                }
                if steady() { (triedInTurn, wait) = (0, firstWait) }
                if masters.addresses.count > 1 {
                    Self.logger.warning("\(logPrefix)lost the master at \(master)\(ended == .masterGone ? " (not answering)" : ""); trying the next")
                }
            } catch let error as Pending {
                Self.logger.warning("\(logPrefix)key \(error.status) on the master at \(master); waiting \(wait)s")
                try? await Task.sleep(nanoseconds: BoundedNumber.nanoseconds(wait))
                wait = min(maxWait, wait * 2)
                continue
            } catch {
                if steady() { (triedInTurn, wait) = (0, firstWait) }
                Self.logger.warning("\(logPrefix)connection to the master at \(master) failed: \(error)")
            }
            if masters.addresses.count > 1 {
                index = (index + 1) % masters.addresses.count
                triedInTurn += 1
                if triedInTurn < masters.addresses.count { continue }
                triedInTurn = 0
            }
            try? await Task.sleep(nanoseconds: BoundedNumber.nanoseconds(wait))
            wait = min(maxWait, wait * 2)
        }
    }

    /// Seconds a connection must last to count as a working one.
    static let steadySession: TimeInterval = 5

    struct Pending: Error {
        let status: KeyAdmission
    }

    func pin() -> RemoteKeyPin? {
        if let key = try? KeyFiles.readPublicKey(at: pinnedMasterKey) { return .key(key) }
        if let finger = opts.string("master_finger"), !finger.isEmpty { return .fingerprint(finger) }
        return nil
    }

    /// One connection to `master`, until it ends: nil when the master
    /// closed it, else why this side did (`MasterWatch`).
    func session(pair: StaticKeyPair, context: ExecutionContext, master: MasterList.Address,
                 primary: MasterList.Address) async throws -> MasterWatch.Reason? {
        let state = HandshakeState(role: .initiator, localStatic: pair.privateKey, prologue: brineWirePrologue, pin: pin())
        // `acks`: this minion understands return acknowledgements (older ones drop unknown messages).
        let hello = MessagePack.encode(["id": .string(id), "acks": true])
        let deadlines = sendDeadlines
        let (channel, connection) = try await WireBootstrap.connect(host: master.host, port: master.port) { channel in
            channel.eventLoop.makeCompletedFuture {
                let handler = MasterConnection(handshake: state, hello: hello, deadlines: deadlines, eventLoop: channel.eventLoop)
                do {
                    try channel.pipeline.syncOperations.addHandler(handler)
                } catch {
                    handler.abandon(error)
                    throw error
                }
                return (channel, Connected(handler, channel: channel))
            }
        }
        defer { channel.close(promise: nil) }
        return try await withTaskCancellationHandler {
            try await serve(channel: channel, connection: connection, context: context, master: master, primary: primary)
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// The connection's handler and the promises it keeps, for the task that made it.
    struct Connected: Sendable {
        let handler: NIOLoopBound<MasterConnection>
        let admission: EventLoopFuture<MasterConnection.Admission>
        let finished: EventLoopFuture<Void>

        init(_ handler: MasterConnection, channel: any Channel) {
            self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
            admission = handler.admission.futureResult
            finished = handler.finished.futureResult
        }
    }

    /// Once connected: the admission, the hello, then the master's messages
    /// handled on the connection's event loop until it ends.
    private func serve(channel: any Channel, connection: Connected, context: ExecutionContext,
                       master: MasterList.Address, primary: MasterList.Address) async throws -> MasterWatch.Reason? {
        let admission = try await connection.admission.get()
        let session = admission.session
        if !FileManager.default.fileExists(atPath: pinnedMasterKey) {
            // First contact, whatever the master's word on our key: its key is pinned from now on.
            try KeyFiles.writePublicKey(session.remoteStaticPublicKey, to: pinnedMasterKey)
        }
        guard admission.word == .accepted else { throw Pending(status: admission.word) }
        Self.logger.info("\(logPrefix)authenticated with the master at \(master.host):\(master.port)")
        try await session.send(MinionMessage.hello(id: id, grains: (try? context.grains()) ?? .emptyMap).encoded())
        // Returns the last connection could not deliver (or whose
        // acknowledgement it did not see) go first: the master drops duplicates.
        outbox.attach(session)
        defer { outbox.detach(session) }
        // Jobs reach the master through whichever connection is up when they ask,
        // not the one they came on (a queued job may start after a reconnect).
        let requests = FileRequests(session: session)
        link.attach(requests)
        defer {
            link.detach(requests)
            requests.failAll()
        }
        let watch = MasterWatch(opts, current: master, primary: primary)
        // Bound to this connection: cancelled when it ends, whichever way.
        let outcome = MasterWatch.Outcome()
        let watching = Task { await watch.watch(channel, outcome: outcome) }
        defer { watching.cancel() }
        let handle = handler(requests: requests, jobContext: remoteContext(context))
        let bound = connection.handler
        channel.eventLoop.execute { bound.value.serve(handle) }
        do {
            try await connection.finished.get()
        } catch {
            // Closed by the watch: its reason, not the read's error.
            if let reason = outcome.reason.withLock({ $0 }) { return reason }
            throw error
        }
        return outcome.reason.withLock { $0 }
    }

    /// What the connection does with each message from the master, on its
    /// event loop: a job goes to a job thread, in line before the next
    /// message is read (jobs start in the order they came).
    private func handler(requests: FileRequests, jobContext: ExecutionContext) -> MasterConnection.Handle {
        let (id, outbox, pool, recentJobs, logPrefix) = (self.id, self.outbox, self.pool, self.recentJobs, self.logPrefix)
        return { message in
            switch message {
            case .reply(let rid, let data):
                requests.resolve(rid, data)
            case .returnAck(let jid):
                outbox.acknowledge(jid)
            case .job(let job):
                guard recentJobs.isNew(job.jid) else {
                    Self.logger.debug("\(logPrefix)jid \(job.jid) already received: ignored")
                    return
                }
                var perJob = jobContext
                if let client = perJob.fileClient as? RemoteFileClient { perJob.pillarSource = Lazy { client.cachedPillar() } }
                pool.run(jid: job.jid, logger: Self.logger) { [perJob] in
                    let (value, retcode) = MinionDaemon.execute(job.fun, job.arguments, perJob)
                    // Kept until the master acknowledges it, and sent on whichever connection
                    // is up by then: a job outlives the connection it came on.
                    outbox.keep(jid: job.jid, MinionMessage.jobReturn(JobReturn(jid: job.jid, id: id, value: value, retcode: retcode)).encoded())
                }
            case .admission:
                return
            }
        }
    }

    /// With `file_client: remote` (the default), files and pillar come from
    /// the master; `local` keeps this machine's file_roots and pillar_roots.
    func remoteContext(_ base: ExecutionContext) -> ExecutionContext {
        guard opts.string("file_client") != "local" else { return base }
        var context = base
        let client = RemoteFileClient(link: link, cacheDir: opts.string("cachedir") ?? "/var/cache/brine/minion")
        context.fileClient = client
        context.pillarSource = Lazy { client.cachedPillar() }
        return context
    }

    /// Runs one job, on the job thread it was given (`JobPool`): its return
    /// and retcode, or Salt's words for a function that is missing or failed.
    static func execute(_ fun: String, _ arguments: CallArguments, _ base: ExecutionContext) -> (BrineCore.Value, Int) {
        var context = base
        context.outcome = Outcome()
        do {
            let value = try context.loader.call(fun, arguments, context: context)
            return (value, context.outcome.retcode)
        } catch let error as BrineError where error.kind == .notAvailable {
            return (.string("'\(fun)' is not available."), 1)
        } catch {
            let text = (error as? BrineError)?.description ?? "\(error)"
            return (.string("ERROR executing '\(fun)': \(text)"), 1)
        }
    }
}

/// A minion's job returns until the master says it stored them, and the
/// connection they go out on (the current one, not the one the job came on).
final class ReturnOutbox: Sendable {
    /// Most returns kept; the oldest go first past it (a master gone for days).
    static let capacity = 1000

    struct State {
        var pending: [(jid: String, message: [UInt8])] = []
        var session: WireSession?
    }

    private let state = Mutex(State())

    /// Keeps a return and sends it now if a connection is up.
    func keep(jid: String, _ message: [UInt8]) {
        let session = state.withLock { state in
            state.pending.append((jid, message))
            if state.pending.count > Self.capacity { state.pending.removeFirst(state.pending.count - Self.capacity) }
            return state.session
        }
        session?.sendQuietly(message)
    }

    func acknowledge(_ jid: String) {
        state.withLock { state in state.pending.removeAll { $0.jid == jid } }
    }

    /// A new connection: everything not yet acknowledged goes out on it.
    func attach(_ session: WireSession) {
        let pending = state.withLock { state in
            state.session = session
            return state.pending.map(\.message)
        }
        for message in pending { session.sendQuietly(message) }
    }

    func detach(_ session: WireSession) {
        state.withLock { state in
            if state.session === session { state.session = nil }
        }
    }
}

extension WireSession {
    /// Sends without waiting; a failure means the connection is going away,
    /// and whatever matters is resent on the next one.
    func sendQuietly(_ message: [UInt8]) {
        _ = try? enqueue(message)
    }
}
