import BrineCore
import BrineModules
import BrineWire
import Foundation
import Synchronization

/// Requests to the master in flight on one connection, paired with their
/// replies by `rid`. Every request ends exactly once: with its reply, with
/// null when its deadline passes, its task is cancelled or the connection
/// goes; and it is forgotten then (a late reply is dropped).
final class FileRequests: Sendable {
    struct State {
        var next = 1
        var waiting: [Int: CheckedContinuation<Value, Never>] = [:]
        /// Issued, and answered before its waiter was registered.
        var early: [Int: Value] = [:]
        var issued = Set<Int>()
        /// The connection is gone: every new request ends at once.
        var closed = false
    }

    private let state = Mutex(State())
    let session: WireSession
    /// How long the master gets to answer one request.
    let deadline: Duration

    init(session: WireSession, deadline: Duration = .seconds(60)) {
        self.session = session
        self.deadline = deadline
    }

    /// Sends one request and waits for its reply.
    func ask(_ kind: FileRequest.Kind, path: String = "", saltenv: String) async -> Value {
        let rid = state.withLock { state in
            defer { state.next += 1 }
            state.issued.insert(state.next)
            return state.next
        }
        let timer = Task { [deadline] in
            try await Task.sleep(for: deadline)
            self.resolve(rid, .null)
        }
        defer { timer.cancel() }
        let message = MinionMessage.fileRequest(FileRequest(rid: rid, kind: kind, path: path, saltenv: saltenv)).encoded()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                self.register(rid, continuation)
                do {
                    try self.session.enqueue(message).whenFailure { _ in self.resolve(rid, .null) }
                } catch {
                    self.resolve(rid, .null)
                }
            }
        } onCancel: {
            self.resolve(rid, .null)
        }
    }

    private func register(_ rid: Int, _ continuation: CheckedContinuation<Value, Never>) {
        let ready: Value? = state.withLock { state in
            if let value = state.early.removeValue(forKey: rid) {
                state.issued.remove(rid)
                return value
            }
            if state.closed { return .null }
            state.waiting[rid] = continuation
            return nil
        }
        if let ready { continuation.resume(returning: ready) }
    }

    /// A reply arrived (or the request ended): its waiter gets it, once.
    func resolve(_ rid: Int, _ data: Value) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, Never>? in
            if let waiter = state.waiting.removeValue(forKey: rid) {
                state.issued.remove(rid)
                return waiter
            }
            // Answered before its waiter registered (kept for it); once closed, registering ends it anyway.
            if !state.closed, state.issued.contains(rid), state.early[rid] == nil { state.early[rid] = data }
            return nil
        }
        waiter?.resume(returning: data)
    }

    /// The connection is gone: every waiting request gets null, and so does every later one.
    func failAll() {
        let waiting = state.withLock { state in
            state.closed = true
            defer {
                state.waiting = [:]
                state.early = [:]
                state.issued = []
            }
            return state.waiting
        }
        for (_, continuation) in waiting { continuation.resume(returning: .null) }
    }

    /// How many requests are still waiting (tests: none is left behind).
    var waitingCount: Int { state.withLock { $0.waiting.count + $0.early.count } }
}

/// `salt://` through the master's file server, cached under
/// `cachedir/files/<saltenv>/`. Execution functions are synchronous and
/// run on a job's own thread, so `FileClient`'s calls wait for the reply
/// there (`JobThread.wait`), never on an event loop or the task pool.
struct RemoteFileClient: FileClient {
    let link: MasterLink
    let cacheDir: String
    let pillarCache = PillarCache()

    /// Null at once when no connection is up (as a file the master does not have).
    func ask(_ kind: FileRequest.Kind, path: String = "", saltenv: String) -> Value {
        guard let requests = link.current else { return .null }
        return JobThread.wait(deadline: requests.deadline + .seconds(5)) { await requests.ask(kind, path: path, saltenv: saltenv) }
    }

    /// A file already cached is fetched again only when the master's digest
    /// of it differs (Salt's file client does the same with `hash_file`).
    func cache(_ url: String, saltenv: String) throws -> String? {
        let (path, env) = try LocalFileClient.parse(url, saltenv: saltenv)
        let local = cacheDir + "/files/" + env + "/" + path
        if FileManager.default.fileExists(atPath: local), let cached = try? Hashing.fileDigest(local) {
            guard case .string(let digest) = ask(.hash, path: "salt://" + path, saltenv: env) else {
                try? FileManager.default.removeItem(atPath: local)
                return nil
            }
            if digest == cached { return local }
        }
        guard case .string(let encoded) = ask(.file, path: "salt://" + path, saltenv: env),
            let data = Data(base64Encoded: encoded)
        else { return nil }
        try? FileManager.default.createDirectory(atPath: (local as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        try AtomicFile.write(Array(data), to: local)
        return local
    }

    func listFiles(saltenv: String) throws -> [String] {
        (ask(.list, saltenv: saltenv).listValue ?? []).compactMap(\.stringValue)
    }

    /// The master fetches the pillar repositories again for everyone, and
    /// this minion forgets the pillar it kept.
    func refreshPillar(_ opts: Config) throws {
        guard case .bool(true) = ask(.pillarRefresh, saltenv: "base") else {
            throw BrineError(.execution, "the master could not refresh the pillar's sources (see its log)")
        }
        pillarCache.value.withLock { $0 = nil }
    }

    func pillar() -> Value {
        ask(.pillar, saltenv: "base")
    }

    /// The pillar kept in memory between jobs, as a Salt minion keeps it
    /// until `saltutil.refresh_pillar`.
    func cachedPillar() -> Value {
        if let kept = pillarCache.value.withLock({ $0 }) { return kept }
        let fresh = pillar()
        if !fresh.isNull { pillarCache.value.withLock { $0 = fresh } }
        return fresh
    }
}

/// The connection up now, for jobs that ask the master something whenever
/// they run (a job queued by `process_count_max` may start after a reconnect).
final class MasterLink: Sendable {
    private let requests = Mutex<FileRequests?>(nil)

    var current: FileRequests? { requests.withLock { $0 } }

    func attach(_ connection: FileRequests) {
        requests.withLock { $0 = connection }
    }

    func detach(_ connection: FileRequests) {
        requests.withLock { if $0 === connection { $0 = nil } }
    }
}

/// A minion's pillar, kept per connection until a refresh.
final class PillarCache: Sendable {
    let value = Mutex<Value?>(nil)
}
