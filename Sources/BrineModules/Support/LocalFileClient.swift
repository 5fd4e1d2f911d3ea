import BrineCore
import Foundation

/// `salt://` resolved through `file_roots` on this machine (masterless
/// mode, and the master's own file server): the first root holding the
/// path wins, as in Salt.
public struct LocalFileClient: FileClient {
    public var roots: [String: [String]]

    public init(roots: [String: [String]]) {
        self.roots = roots
    }

    public init(config: Config, key: String = "file_roots") {
        var table: [String: [String]] = [:]
        for (env, dirs) in config.roots(key) { table[env] = dirs }
        self.roots = table
    }

    /// Splits `salt://path?saltenv=env` into a safe relative path and env.
    public static func parse(_ url: String, saltenv: String) throws(BrineError) -> (path: String, saltenv: String) {
        var rest = url.hasPrefix("salt://") ? String(url.dropFirst(7)) : url
        var env = saltenv
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == "saltenv" || kv[0] == "env" { env = String(kv[1]) }
            }
            rest = String(rest[..<q])
        }
        return (try safeRelative(rest), try validSaltenv(env))
    }

    /// A saltenv names a directory (on the minion, `cachedir/files/<saltenv>`):
    /// one path component, nothing that climbs or hides. From the network,
    /// so checked on both sides.
    public static func validSaltenv(_ env: String) throws(BrineError) -> String {
        guard !env.isEmpty, env.utf8.count <= 255, env != ".", env != "..", !env.contains("/"),
            env.unicodeScalars.allSatisfy({ LogText.isSafe($0) && $0 != " " })
        else {
            throw BrineError(.permission, "invalid saltenv '\(LogText.escape(env))'", hint: "a saltenv is one name such as base or dev")
        }
        return env
    }

    /// A relative path with no `..`, no leading `/`, no NUL: paths from
    /// templates or the network never leave the roots.
    public static func safeRelative(_ path: String) throws(BrineError) -> String {
        let parts = path.split(separator: "/").filter { $0 != "." }
        guard !path.contains("\0"), !parts.contains("..") else {
            throw BrineError(.permission, "path '\(path)' leaves the file roots")
        }
        return parts.joined(separator: "/")
    }

    /// The file on disk for a relative path, or nil. Its real path (every
    /// symlink resolved, relative ones included) must lie inside the root's
    /// real path: a link that leads out of its root is not there.
    public func locate(_ relative: String, saltenv: String) -> String? {
        for root in roots[saltenv] ?? [] {
            let candidate = root + "/" + relative
            guard FileOps.isFile(candidate), ContainedPath.resolve(candidate, within: root) != nil else { continue }
            return candidate
        }
        return nil
    }

    public func cache(_ url: String, saltenv: String) throws -> String? {
        let (path, env) = try LocalFileClient.parse(url, saltenv: saltenv)
        return locate(path, saltenv: env)
    }

    public func listFiles(saltenv: String) throws -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for root in roots[saltenv] ?? [] {
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            while let item = walker.nextObject() as? String {
                guard FileOps.isFile(root + "/" + item), ContainedPath.resolve(root + "/" + item, within: root) != nil else { continue }
                if seen.insert(item).inserted { result.append(item) }
            }
        }
        return result.sorted()
    }
}
