import BrineCore
import Foundation

/// POSIX file facts and changes shared by the `file` execution and state
/// modules: owners by name, modes in Salt's `0644` form, reading text.
public enum FileOps {
    public static func lstatInfo(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    public static func statInfo(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    public static func isFile(_ path: String) -> Bool {
        statInfo(path).map { $0.st_mode & S_IFMT == S_IFREG } ?? false
    }

    public static func isDirectory(_ path: String) -> Bool {
        statInfo(path).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
    }

    public static func isLink(_ path: String) -> Bool {
        lstatInfo(path).map { $0.st_mode & S_IFMT == S_IFLNK } ?? false
    }

    public static func exists(_ path: String) -> Bool { lstatInfo(path) != nil }

    /// `0644` as Salt prints modes (`normalize_mode`): at least four digits.
    public static func modeString(_ mode: mode_t) -> String {
        let octal = String(mode & 0o7777, radix: 8)
        return octal.count >= 4 ? octal : String(repeating: "0", count: 4 - octal.count) + octal
    }

    /// Parses a mode as users write it: `644`, `0644`, `"0o644"`, 420 (an
    /// int from YAML `0644` is already 644 decimal digits, per Salt).
    public static func parseMode(_ value: Value) throws(BrineError) -> mode_t? {
        var text: String
        switch value {
        case .null: return nil
        case .int(let i): text = String(i)
        case .string(let s): text = s
        default: throw BrineError(.arguments, "invalid mode \(value.pythonRepr)", hint: "write modes like 0644")
        }
        if text.hasPrefix("0o") { text.removeFirst(2) }
        guard !text.isEmpty, let mode = mode_t(text, radix: 8), mode <= 0o7777 else {
            throw BrineError(.arguments, "invalid mode \(value.pythonRepr)", hint: "write modes like 0644")
        }
        return mode
    }

    public static func userName(_ uid: uid_t) -> String {
        guard let pw = getpwuid(uid) else { return String(uid) }
        return String(cString: pw.pointee.pw_name)
    }

    public static func groupName(_ gid: gid_t) -> String {
        guard let gr = getgrgid(gid) else { return String(gid) }
        return String(cString: gr.pointee.gr_name)
    }

    public static func uid(_ user: String) -> uid_t? {
        if let pw = getpwnam(user) { return pw.pointee.pw_uid }
        return uid_t(user)
    }

    public static func gid(_ group: String) -> gid_t? {
        if let gr = getgrnam(group) { return gr.pointee.gr_gid }
        return gid_t(group)
    }

    /// The path with every link resolved (realpath(3)); the path itself
    /// when it cannot be resolved.
    public static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Replaces `link` (a link or file, or nothing) with a symbolic link to
    /// `target` in one rename: no moment without it.
    public static func replaceWithSymlink(_ link: String, to target: String) throws(BrineError) {
        let scratch = link + ".brine-\(getpid())"
        unlink(scratch)
        guard symlink(target, scratch) == 0 else { throw BrineError(.io, "cannot create a link at \(scratch): \(systemError(errno))") }
        guard rename(scratch, link) == 0 else {
            let reason = systemError(errno)
            unlink(scratch)
            throw BrineError(.io, "cannot replace \(link): \(reason)")
        }
    }

    /// Runs `body` with a private (0600) temporary file holding `bytes`,
    /// removed afterwards (with `path + ".out"`, for a command's output):
    /// how values reach a program without appearing on its command line.
    public static func withScratchFile<T>(_ bytes: some Collection<UInt8>, _ body: (String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("brine-\(UUID().uuidString)").path
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: path + ".out")
        }
        try AtomicFile.write(bytes, to: path, mode: 0o600)
        return try body(path)
    }

    /// A file's text as Python's text mode reads it: `\r\n` and `\r` as `\n`
    /// (Salt's line-editing modules see CRLF files that way).
    public static func readUniversalText(_ path: String) throws(BrineError) -> String {
        universalNewlines(try readText(path))
    }

    public static func universalNewlines(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    }

    public static func readText(_ path: String) throws(BrineError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            if isDirectory(path) { throw BrineError(.io, "\(path) is a directory") }
            throw BrineError(.io, "\(path) does not exist or cannot be read")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Sets owner and group by name; nil leaves that part unchanged.
    public static func chown(_ path: String, user: String?, group: String?, followLinks: Bool = true) throws(BrineError) {
        var uidValue: uid_t = uid_t.max, gidValue: gid_t = gid_t.max
        if let user {
            guard let u = uid(user) else { throw BrineError(.execution, "User \(user) does not exist") }
            uidValue = u
        }
        if let group {
            guard let g = gid(group) else { throw BrineError(.execution, "Group \(group) does not exist") }
            gidValue = g
        }
        let rc = followLinks ? Glibc.chown(path, uidValue, gidValue) : lchown(path, uidValue, gidValue)
        guard rc == 0 else { throw BrineError(.io, "cannot chown \(path): \(systemError(errno))") }
    }

    public static func chmod(_ path: String, _ mode: mode_t) throws(BrineError) {
        guard Glibc.chmod(path, mode) == 0 else {
            throw BrineError(.io, "cannot chmod \(path): \(systemError(errno))")
        }
    }

    /// `mkdir -p`, then owner and mode on the directories it made.
    public static func makeDirectories(_ path: String, user: String? = nil, group: String? = nil, mode: mode_t? = nil)
        throws(BrineError) -> [String]
    {
        var made: [String] = []
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if isDirectory(current) { continue }
            guard mkdir(current, mode ?? 0o755) == 0 || errno == EEXIST else {
                throw BrineError(.io, "cannot create directory \(current): \(systemError(errno))")
            }
            made.append(current)
        }
        for dir in made {
            if user != nil || group != nil { try chown(dir, user: user, group: group) }
            if let mode { try chmod(dir, mode) }
        }
        return made
    }

    public static func expandUser(_ path: String) -> String {
        (path as NSString).expandingTildeInPath
    }

    /// Python's `posixpath.join`: an absolute part restarts the path.
    /// The directory part of a relative template or SLS path (`a/b.sls` →
    /// `a`, `b.sls` → ``), as Python's `os.path.dirname`. Foundation's
    /// `deletingLastPathComponent` traps on some one-character names on
    /// Linux (a pillar SLS named `p` crashed the compiler).
    public static func dirname(_ path: String) -> String {
        let bytes = path.utf8
        guard var end = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        while end > bytes.startIndex, bytes[bytes.index(before: end)] == UInt8(ascii: "/") { end = bytes.index(before: end) }
        return end == bytes.startIndex ? "/" : String(path[..<end])
    }

    /// The last path component (`salt://a/b.txt` → `b.txt`).
    public static func basename(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
    }

    public static func join(_ parts: [String]) -> String {
        var result = ""
        for part in parts {
            if part.hasPrefix("/") || result.isEmpty {
                result = part
            } else {
                result += (result.hasSuffix("/") ? "" : "/") + part
            }
        }
        return result
    }
}
