import BrineCore
import BrineModules
import BrineState
import BrineWire
import Foundation
import OrderedCollections
import NIOCore
import NIOPosix

/// The master: accepts minion connections on `interface:ret_port` (Noise
/// XX, keys checked against the key store before anything else), and CLI
/// requests on a unix socket in `sock_dir`. Only accepted minions get jobs.
public struct MasterDaemon: Sendable {
    public let opts: Config
    let keys: KeyStore
    let registry = MinionRegistry()
    public let jobs: JobCache?
    let logger: DaemonSupport.Log

    /// `withJobCache: false` for clients that only need the paths.
    public init(opts: Config, withJobCache: Bool = false) throws {
        self.opts = opts
        self.keys = KeyStore(pkiDir: opts.string("pki_dir") ?? "/etc/brine/pki/master")
        self.jobs = withJobCache ? try JobCache(directory: MasterDaemon.jobCacheDirectory(opts)) : nil
        self.logger = DaemonSupport.Log(path: withJobCache ? opts.string("log_file") : nil, prefix: "master")
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
        do { try VCSPillar.refreshAll(opts) } catch { log("ext_pillar: \(error)") }
        let masterKey = try KeyFiles(directory: keys.pkiDir, name: "master").loadOrGenerate().pair
        try PrivateDirectory.make(opts.string("sock_dir") ?? "/var/run/brine/master")
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
        log("master listening on \(host):\(port), local socket \(socketPath) as user \(CoreUser.name)")
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask {
                try await minions.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { connections in
                        for try await connection in inbound {
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

    public func log(_ text: String) {
        logger(text)
    }

    // MARK: - Minions

    func handleMinion(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, masterKey: StaticKeyPair) async {
        var minionID: String? = nil
        do {
            // A peer that does not finish the handshake in time is dropped.
            let raw = channel.channel
            let deadline = Task {
                try await Task.sleep(nanoseconds: 10_000_000_000)
                raw.close(promise: nil)
            }
            try await channel.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                let state = HandshakeState(role: .responder, localStatic: masterKey.privateKey, prologue: brineWirePrologue)
                let (session, early) = try await WireSession.handshake(state, payload: [], inbound: &iterator, outbound: outbound)
                deadline.cancel()
                let hello = try MessagePack.decode(session.peerPayload)
                guard let id = hello["id"]?.stringValue else { throw BrineError(.msgpack, "handshake without a minion id") }
                let autosign = autosignGlobs()
                let admission = try keys.admit(id: id, key: session.remoteStaticPublicKey, autoAccept: opts.bool("auto_accept"),
                                               autosign: autosign)
                guard admission == .accepted else {
                    log("minion \(id): key \(admission)")
                    try await session.send(WireMessage.status("\(admission)").encoded())
                    return
                }
                try await session.send(WireMessage.status("accepted").encoded())
                minionID = id
                await registry.connect(id, session)
                log("minion \(id) connected")
                for message in early { try await handle(message, from: id) }
                while let buffer = try await iterator.next() {
                    for message in try session.receive(buffer) { try await handle(message, from: id) }
                }
                await registry.disconnect(id, session)
            }
        } catch {
            log("connection \(minionID ?? "?") closed: \(error)")
        }
        if let minionID { log("minion \(minionID) disconnected") }
    }

    func autosignGlobs() -> [String] {
        guard let file = opts.string("autosign_file"), !file.isEmpty,
            let text = try? String(contentsOfFile: file, encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    func handle(_ bytes: [UInt8], from id: String) async throws {
        switch try WireMessage.decode(bytes) {
        case .hello(_, let grains):
            await registry.setGrains(id, grains)
            await registry.setPillar(id, await serve(kind: "pillar", path: "", saltenv: "base", for: id))
        case .request(let rid, let kind, let path, let saltenv):
            let data = await serve(kind: kind, path: path, saltenv: saltenv, for: id)
            try await registry.session(id)?.send(WireMessage.reply(rid: rid, data: data).encoded())
        case .jobReturn(let jid, _, let value, let retcode):
            // The id is the authenticated one, never what the minion claims.
            // Cached first: a return that reached the master survives a crash.
            do {
                try jobs?.recordReturn(jid: jid, minion: id, value: value, retcode: retcode)
            } catch {
                log("job cache: \(error)")
            }
            await registry.deliver(.jobReturn(jid: jid, id: id, value: value, retcode: retcode))
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
            do {
                try VCSPillar.refreshAll(opts)
                return true
            } catch {
                log("refreshing the pillar's sources for \(id) failed: \(error)")
                return false
            }
        case "pillar":
            let grains = await registry.grains(id)
            do {
                return try PillarCompiler(config: opts, minionID: id, grains: grains).compile()
            } catch {
                log("pillar for \(id) failed: \(error)")
                return ["_errors": .list([.string(error.description)])]
            }
        default:
            return .null
        }
    }

    // MARK: - CLI

    func handleClient(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        try? await channel.executeThenClose { inbound, outbound in
            var decoder = FrameDecoder()
            let encoder = FrameEncoder()
            func send(_ message: WireMessage) async throws {
                try await outbound.write(ByteBuffer(bytes: try encoder.encode(message.encoded())))
            }
            var request: WireMessage? = nil
            for try await buffer in inbound {
                if let frame = try decoder.feed(buffer.readableBytesView).first {
                    request = try WireMessage.decode(frame)
                    break
                }
            }
            guard case .publish(let target, let type, let fun, let arguments, let timeout, let batch)? = request else {
                try await send(.failure("expected a publish request"))
                return
            }
            guard let user = await peerUser(channel.channel) else {
                try await send(.failure("not authorised: cannot tell which user is asking"))
                return
            }
            try await publish(target: target, type: type, fun: fun, arguments: arguments, timeout: timeout, batch: batch,
                              authorize: { await refusal(AccessControl.publisher(opts), user: user.name, groups: user.groups, fun: fun,
                                                         arguments: arguments, minions: $0) },
                              send: send)
        }
    }

    func expectedMinions(target: String, type: String) async throws -> [String] {
        var result: [String] = []
        let nodegroups = opts.nodegroups
        for id in keys.list(.accepted) {
            let matcher = Matcher(minionID: id, grains: await registry.grains(id), pillar: await registry.pillar(id),
                                  nodegroups: nodegroups)
            if try matcher.matches(target, type: type) { result.append(id) }
        }
        return result
    }

    /// `-b`: "10" minions or "25%" of the targeted ones at a time.
    static func batchSize(_ spec: String, of count: Int) -> Int {
        let text = spec.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return count }
        if text.hasSuffix("%"), let percent = Double(text.dropLast()) {
            return max(1, Int((Double(count) * percent / 100).rounded(.up)))
        }
        return max(1, Int(text) ?? count)
    }

    /// The unix socket peer's user (SO_PEERCRED): who the CLI runs as.
    func peerUser(_ channel: any Channel) async -> PeerUser? {
        guard let provider = channel as? any SocketOptionProvider,
            let credentials: PeerCredentials = try? await provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET),
                                                                                         name: SocketOptionName(SO_PEERCRED)).get()
        else { return nil }
        return PeerUser(uid: credentials.uid, gid: credentials.gid)
    }

    /// An ACL (`publisher_acl` for the socket's user, the eauth user's for
    /// the REST API) against the minions the target resolves to, matched on
    /// their cached grains; nil when allowed, else why not (logged).
    func refusal(_ acl: AccessControl, user: String, groups: [String], fun: String, arguments: CallArguments,
                 minions: [String]) async -> String?
    {
        var grains: [String: Value] = [:]
        for id in minions { grains[id] = await registry.grains(id) }
        let nodegroups = opts.nodegroups
        let decision = acl.check(user: user, groups: groups, fun: fun, arguments: arguments, minions: minions) { target, id in
            let matcher = Matcher(minionID: id, grains: grains[id] ?? ["id": .string(id)], pillar: .emptyMap, nodegroups: nodegroups)
            return (try? matcher.compound(target)) ?? false
        }
        guard case .denied(let reason) = decision else { return nil }
        log("refused a publish of \(fun) by \(user): \(reason)")
        return reason
    }

    /// - Parameter authorize: given the targeted minions, why the caller may
    ///   not publish (nil: allowed); asked before anything is sent.
    func publish(target: String, type: String, fun: String, arguments: CallArguments, timeout: Double, batch: String,
                 authorize: ([String]) async -> String?, send: (WireMessage) async throws -> Void) async throws
    {
        let expected: [String]
        do {
            expected = try await expectedMinions(target: target, type: type)
        } catch {
            try await send(.failure((error as? BrineError)?.description ?? "\(error)"))
            return
        }
        // Checked before anything is published: nothing reaches a minion.
        if let reason = await authorize(expected) {
            try await send(.failure("not authorised: \(reason)"))
            return
        }
        guard !expected.isEmpty else {
            try await send(.published(jid: "", minions: []))
            return
        }
        let jid = JID.make()
        let returns = await registry.waitForReturns(jid)
        try jobs?.record(JobCache.Job(jid: jid, fun: fun, arguments: .map(["arg": .list(arguments.positional), "kwarg": .map(arguments.keyword)]),
                                      target: target, targetType: type, minions: expected, started: Date().timeIntervalSince1970))
        try await send(.published(jid: jid, minions: expected))
        var notConnected: [String] = []
        var pending = Set<String>()
        var waiting = expected[...]
        let window = MasterDaemon.batchSize(batch, of: expected.count)
        // Sends the job to the next minions until `window` are running.
        func fill() async {
            while pending.count < window, let id = waiting.popFirst() {
                guard let session = await registry.session(id) else {
                    notConnected.append(id)
                    continue
                }
                do {
                    try await session.send(WireMessage.job(jid: jid, fun: fun, arguments: arguments).encoded())
                    pending.insert(id)
                } catch {
                    notConnected.append(id)
                }
            }
        }
        await fill()
        let timer = Task { [registry] in
            try? await Task.sleep(nanoseconds: UInt64(max(0.1, timeout) * 1_000_000_000))
            await registry.finish(jid)
        }
        if pending.isEmpty { await registry.finish(jid) }
        for await message in returns {
            guard case .jobReturn(_, let id, _, _) = message, pending.remove(id) != nil else { continue }
            try await send(message)
            await fill()
            if pending.isEmpty && waiting.isEmpty { await registry.finish(jid) }
        }
        timer.cancel()
        pending.formUnion(waiting)
        try await send(.done(jid: jid, notConnected: notConnected, noResponse: pending.sorted()))
    }
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
        let job = Task {
            defer { continuation.finish() }
            try? await publish(target: target, type: type, fun: fun, arguments: arguments, timeout: timeout, batch: "",
                               authorize: { minions in
                                   await refusal(acl, user: user, groups: PeerUser.groups(of: user), fun: fun, arguments: arguments,
                                                 minions: minions).map { "not authorised: \($0)" }
                               },
                               send: { continuation.yield($0) })
        }
        var jid = ""
        var returns = OrderedDictionary<String, Value>()
        for await message in stream {
            switch message {
            case .failure(let reason):
                return reason.hasPrefix("not authorised") ? .refused(reason) : .failed(reason)
            case .published(let id, let minions):
                jid = id
                if !wait || minions.isEmpty {
                    if minions.isEmpty { job.cancel() }
                    return .published(jid: id, minions: minions)
                }
            case .jobReturn(_, let id, let value, _):
                returns[id] = value
            case .done(_, let notConnected, let noResponse):
                return .returned(jid: jid, returns: returns, missing: (notConnected + noResponse).sorted())
            default:
                continue
            }
        }
        return .returned(jid: jid, returns: returns, missing: [])
    }
}
