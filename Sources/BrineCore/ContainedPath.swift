#if canImport(Glibc)
import Glibc
#endif

/// Paths that must stay inside a root (file server, pillar and state trees,
/// caches), checked on their real paths.
///
/// `NSString.resolvingSymlinksInPath` leaves relative links unresolved on
/// Linux, so `roots/mk.pem -> ../pki/master/master.pem` looked inside its
/// root. `realpath(3)` resolves every component, relative links included,
/// and the answer is compared with the root's own real path.
public enum ContainedPath {
    /// The real path of `path` when it exists and lies inside the real path of `root`; nil otherwise.
    public static func resolve(_ path: String, within root: String) -> String? {
        guard let real = realPath(path), let realRoot = realPath(root) else { return nil }
        let prefix = realRoot == "/" ? "/" : realRoot + "/"
        return real.hasPrefix(prefix) ? real : nil
    }

    /// `realpath(3)`: nil when the path (or a component) does not exist.
    public static func realPath(_ path: String) -> String? {
        guard !path.utf8.contains(0), let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
