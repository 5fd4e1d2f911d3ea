import Foundation

/// The executables of a release sit side by side (`brine`, `brine-full`,
/// `brine-minion`); one hands a command to another by replacing itself.
public enum SiblingExecutable {
    /// The running executable's path (`/proc/self/exe`; without /proc, argv[0] as the shell found it).
    public static var current: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? searchPath(CommandLine.arguments.first ?? "brine")
    }

    /// `name` beside the running executable, when it is there and runnable.
    public static func path(_ name: String) -> String? {
        let path = (current as NSString).deletingLastPathComponent + "/" + name
        return access(path, X_OK) == 0 ? path : nil
    }

    /// Replaces this process with `path`; `argv0` nil: the path itself.
    /// Returns only by exiting with an error when the exec fails.
    public static func exec(_ path: String, arguments: [String], argv0: String? = nil) -> Never {
        let argv: [UnsafeMutablePointer<CChar>?] = ([argv0 ?? path] + arguments).map { strdup($0) } + [nil]
        execv(path, argv)
        printError("Error: cannot run \(path): \(String(cString: strerror(errno)))")
        exit(1)
    }

    /// Where a bare command name came from, as the shell found it.
    static func searchPath(_ name: String) -> String {
        guard !name.contains("/") else { return name }
        let directories = (getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 } ?? name
    }
}
