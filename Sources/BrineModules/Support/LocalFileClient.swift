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
        return (try safeRelative(rest), env)
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

    /// The file on disk for a relative path, or nil.
    public func locate(_ relative: String, saltenv: String) -> String? {
        for root in roots[saltenv] ?? [] {
            let candidate = root + "/" + relative
            guard FileOps.isFile(candidate) else { continue }
            // Refuse symlinks that lead out of the root.
            let resolved = (candidate as NSString).resolvingSymlinksInPath
            let resolvedRoot = (root as NSString).resolvingSymlinksInPath
            guard resolved.hasPrefix(resolvedRoot + "/") else { continue }
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
                if FileOps.isFile(root + "/" + item), seen.insert(item).inserted { result.append(item) }
            }
        }
        return result.sorted()
    }
}
