import BrineCore
import BrineModules
import Foundation
import Synchronization
import OrderedCollections

/// What a build step will do and what it reads, computed inside a
/// throwaway container of the base image (so templates see the image's
/// grains, and any `salt[...]` call a template makes runs there, never on
/// the build host). The host hashes it into the step's cache key.
/// (`brine build-plan`; it runs in the container, so it lives beside the
/// state engine, not in the host's container code.)
public enum BuildPlanner {
    /// One entry per step: `sls` names, or nil for the highstate.
    public static func plan(steps: [[String]?], opts: Config, configDir: String, pillar: Value) throws -> Value {
        var planned: [Value] = []
        var pillarDigest = ""
        for names in steps {
            var context = try LocalContext.make(opts: opts, configDir: configDir, pillarOverride: pillar)
            let tracker = TrackingFileClient(LocalFileClient(config: opts))
            context.fileClient = tracker
            context.isDirectCall = false
            if pillarDigest.isEmpty { pillarDigest = try Hashing.hexDigest(Array(JSON.encode(try context.pillar(), indent: nil).utf8)) }
            let result: Value
            if let names {
                result = try context.loader.call("state.show_low_sls", CallArguments(positional: [.string(names.joined(separator: ","))]),
                                                 context: context)
            } else {
                result = try context.loader.call("state.show_lowstate", CallArguments(), context: context)
            }
            let failed = context.outcome.retcode != 0
            let chunks = failed ? [] : (result.listValue ?? [])
            for chunk in chunks { tracker.readSources(of: chunk) }
            planned.append([
                "sls": names.map { .list($0.map(Value.string)) } ?? .null,
                "lowstate": .list(chunks),
                "files": .map(tracker.digests()),
                "errors": failed ? result : [],
            ])
        }
        return ["pillar": .string(pillarDigest), "steps": .list(planned)]
    }
}

/// A file client that remembers every `salt://` file it served (SLS files,
/// imported templates, sources) with the digest of its content.
final class TrackingFileClient: FileClient, Sendable {
    private let inner: LocalFileClient
    private let served = Mutex<[String: String]>([:])

    init(_ inner: LocalFileClient) { self.inner = inner }

    func cache(_ url: String, saltenv: String) throws -> String? {
        let path = try inner.cache(url, saltenv: saltenv)
        let key = "\(saltenv):\(url)"
        let digest = path.flatMap { try? Hashing.fileDigest($0) } ?? "missing"
        served.withLock { $0[key] = digest }
        return path
    }

    func listFiles(saltenv: String) throws -> [String] {
        try inner.listFiles(saltenv: saltenv)
    }

    /// Reads the `salt://` files a state will fetch when it runs: `source`
    /// and `sources` of file, cmd.script and pkg states, and every file
    /// below a `file.recurse` source directory.
    func readSources(of chunk: Value) {
        let env = chunk["__env__"]?.stringValue ?? "base"
        var urls: [String] = []
        for key in ["source", "sources", "template_source"] {
            collectURLs(chunk[key], into: &urls)
        }
        for url in urls {
            if chunk["state"]?.stringValue == "file", chunk["fun"]?.stringValue == "recurse" {
                let prefix = String(url.dropFirst("salt://".count).split(separator: "?").first ?? "")
                let below = prefix.hasSuffix("/") ? prefix : prefix + "/"
                for file in (try? listFiles(saltenv: env)) ?? [] where file.hasPrefix(below) {
                    _ = try? cache("salt://" + file, saltenv: env)
                }
            } else {
                _ = try? cache(url, saltenv: env)
            }
        }
    }

    private func collectURLs(_ value: Value?, into urls: inout [String]) {
        switch value {
        case .string(let s) where s.hasPrefix("salt://"): urls.append(s)
        case .list(let items): for item in items { collectURLs(item, into: &urls) }
        case .map(let map): for item in map.values { collectURLs(item, into: &urls) }
        default: break
        }
    }

    func digests() -> OrderedDictionary<String, Value> {
        let table = served.withLock { $0 }
        return OrderedDictionary(uniqueKeysWithValues: table.sorted { $0.key < $1.key }.map { ($0.key, Value.string($0.value)) })
    }
}
