import BrineCore
import BrineModules
import BrineWire
import Foundation
import Synchronization

/// Pairs requests to the master with their replies.
final class Requests: Sendable {
    private let state = Mutex<(next: Int, waiting: [Int: CheckedContinuation<Value, Never>])>((1, [:]))

    func register(_ continuation: CheckedContinuation<Value, Never>) -> Int {
        state.withLock { s in
            let rid = s.next
            s.next += 1
            s.waiting[rid] = continuation
            return rid
        }
    }

    func resolve(_ rid: Int, _ data: Value) {
        state.withLock { $0.waiting.removeValue(forKey: rid) }?.resume(returning: data)
    }

    /// The connection is gone: every waiting request gets null.
    func failAll() {
        let waiting = state.withLock { s in
            defer { s.waiting = [:] }
            return s.waiting
        }
        for (_, continuation) in waiting { continuation.resume(returning: .null) }
    }
}

/// `salt://` through the master's file server, cached under
/// `cachedir/files/<saltenv>/`. Called from job threads, so it blocks on
/// the network round trip; job threads are never the event loops.
struct RemoteFileClient: FileClient {
    let session: WireSession
    let requests: Requests
    let cacheDir: String
    let pillarCache = PillarCache()

    func ask(_ kind: FileRequest.Kind, path: String = "", saltenv: String) -> Value {
        let box = Mutex<Value>(.null)
        let done = DispatchSemaphore(value: 0)
        let session = self.session, requests = self.requests
        Task {
            let value = await withCheckedContinuation { continuation in
                let rid = requests.register(continuation)
                Task {
                    do {
                        try await session.send(MinionMessage.fileRequest(FileRequest(rid: rid, kind: kind, path: path, saltenv: saltenv)).encoded())
                    } catch {
                        requests.resolve(rid, .null)
                    }
                }
            }
            box.withLock { $0 = value }
            done.signal()
        }
        if done.wait(timeout: .now() + 60) == .timedOut { return .null }
        return box.withLock { $0 }
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

/// A minion's pillar, kept per connection until a refresh.
final class PillarCache: Sendable {
    let value = Mutex<Value?>(nil)
}
