import CBrineShims
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What every daemon does at start: drop root for the configured `user`
/// (logging is `SaltLog`'s, configured from the daemon's config).
public enum DaemonSupport {
    /// Started as root with `user: someone`: the account to become, or nil
    /// when there is nothing to drop (not root, or user is root).
    public static func targetUser(_ user: String?) throws(BrineError) -> (uid: uid_t, gid: gid_t, name: String)? {
        guard geteuid() == 0, let user, !user.isEmpty, user != "root" else { return nil }
        guard let pw = getpwnam(user) else {
            throw BrineError(.config, "user '\(user)' does not exist", hint: "create it or set 'user' to an existing account")
        }
        return (pw.pointee.pw_uid, pw.pointee.pw_gid, user)
    }

    /// Hands the daemon's paths (created here as root) to its user.
    public static func handOver(_ paths: [String], to uid: uid_t, _ gid: gid_t) {
        for path in paths where FileManager.default.fileExists(atPath: path) { chownTree(path, uid, gid) }
    }

    /// Hands a tree to the daemon's user without ever following a link:
    /// each directory is opened with `O_NOFOLLOW` relative to its parent's
    /// descriptor and its entries are changed with `fchownat(…,
    /// AT_SYMLINK_NOFOLLOW)`. A link planted in the tree (even while this
    /// runs) has itself changed, never what it points to.
    static func chownTree(_ path: String, _ uid: uid_t, _ gid: gid_t) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            lchown(path, uid, gid)
            return
        }
        chownDirectory(fd, uid, gid, depth: 0)
    }

    /// Takes ownership of `fd` (closes it).
    static func chownDirectory(_ fd: Int32, _ uid: uid_t, _ gid: gid_t, depth: Int) {
        fchown(fd, uid, gid)
        // The daemon's own directories are shallow; a deeper tree is not walked further.
        guard depth < 32, let listing = fdopendir(fd) else {
            close(fd)
            return
        }
        defer { closedir(listing) }
        while let entry = readdir(listing) {
            // The name's bytes as the kernel gave them (not every name is UTF-8).
            var name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            guard name != [0x2e], name != [0x2e, 0x2e] else { continue }
            name.append(0)
            name.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { cName in
                    guard let pointer = cName.baseAddress else { return }
                    let child = openat(fd, pointer, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    if child >= 0 {
                        chownDirectory(child, uid, gid, depth: depth + 1)
                    } else {
                        fchownat(fd, pointer, uid, gid, AT_SYMLINK_NOFOLLOW)
                    }
                }
            }
        }
    }
}

/// The effective user's name, for messages.
public enum CoreUser {
    public static var name: String {
        guard let pw = getpwuid(geteuid()) else { return String(geteuid()) }
        return String(cString: pw.pointee.pw_name)
    }
}

/// A directory only its owner may enter (keys, sockets, caches): parents
/// are made with the usual 0755 so that a daemon dropping to its `user`
/// can still reach its own leaf; only the leaf is 0700.
public enum PrivateDirectory {
    public static func make(_ path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        chmod(path, 0o700)
    }
}

extension DaemonSupport {
    /// The paths a daemon owns: `privateDirs` (made 0700: pki, cache) and
    /// `other` (the pidfile's directory, and `log_file` as the last entry).
    public typealias OwnedPaths = (privateDirs: [String], other: [String])

    /// Runs this same program again in a child when it must: detached for
    /// `-d`, and as `user` when started as root (the child never holds root,
    /// on any thread). Returns false when this process should serve itself;
    /// true when a detached child now serves (this process should exit 0).
    /// In the foreground as another user it waits for the child and exits
    /// with its status, passing SIGTERM/SIGINT on.
    public static func relaunchIfNeeded(daemon: Bool, user: String?, paths: OwnedPaths, logFile: String?) throws(BrineError) -> Bool {
        let target = try targetUser(user)
        guard daemon || target != nil else { return false }
        if let target {
            prepare(paths, logFile: logFile)
            handOver(paths.privateDirs + paths.other, to: target.uid, target.gid)
        }
        let arguments = CommandLine.arguments.filter { $0 != "-d" && $0 != "--daemon" }
        var environment = ProcessInfo.processInfo.environment
        if let target {
            environment["USER"] = target.name
            environment["LOGNAME"] = target.name
            if let pw = getpwnam(target.name) { environment["HOME"] = String(cString: pw.pointee.pw_dir) }
        }
        let pid = spawnSelf(arguments, environment, as: target, detach: daemon)
        guard pid > 0 else {
            throw BrineError(.execution, "cannot start the daemon: \(systemError(errno))")
        }
        if daemon { return true }
        exit(waitForwardingSignals(pid))
    }

    /// Creates the daemon's directories (and its log file) while still root.
    static func prepare(_ paths: OwnedPaths, logFile: String?) {
        for dir in paths.privateDirs { try? PrivateDirectory.make(dir) }
        for path in paths.other {
            if path == paths.other.last, logFile == path {
                try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                         withIntermediateDirectories: true)
                if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            } else {
                try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            }
        }
    }

    static func spawnSelf(_ arguments: [String], _ environment: [String: String],
                          as target: (uid: uid_t, gid: gid_t, name: String)?, detach: Bool) -> Int32 {
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        if let target { return brine_spawn_as_user("/proc/self/exe", argv, envp, target.uid, target.gid, detach ? 1 : 0) }
        return brine_spawn_detached("/proc/self/exe", argv, envp)
    }

    /// Waits for `child`, passing SIGTERM and SIGINT on; its exit status.
    static func waitForwardingSignals(_ child: pid_t) -> Int32 {
        let forward = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { kill(child, number) }
            source.resume()
            return source
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        withExtendedLifetime(forward) {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 1
    }
}
