#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Low-level reading and writing of key files with POSIX calls, because the
/// guarantees matter here: a private key must never exist on disk, even for a
/// moment, with a mode more open than requested, and a crash mid-write must not
/// leave a truncated key in place of a good one.
enum KeyFileIO {
    /// Key files are tiny; anything bigger is not ours and is not read whole.
    static let maximumFileSize = 64 * 1024

    /// Writes `text` to `path` with exactly `mode`: a temporary file in the same
    /// directory, created with O_EXCL and that mode, fsync'd, then renamed over
    /// `path` (atomic on POSIX), then the directory fsync'd. With `exclusive`
    /// the temporary file is linked to `path` instead, which fails when `path`
    /// exists (`alreadyExists`): of processes making the same key at once,
    /// exactly one places its own.
    static func writeAtomically(_ text: String, to path: String, mode: UInt32, exclusive: Bool = false) throws(KeyFileError) {
        let directory = parentDirectory(of: path)
        let temporary = "\(directory)/.\(baseName(of: path)).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode_t(mode))
        guard fd >= 0 else { throw .writeFailed(path: path, reason: "create \(temporary): \(errnoText())") }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do throws(KeyFileError) {
            // The umask can only remove bits; fchmod makes the mode exact (e.g. 0400).
            guard fchmod(fd, mode_t(mode)) == 0 else { throw .writeFailed(path: path, reason: "chmod: \(errnoText())") }
            let bytes = Array(text.utf8)
            var written = 0
            while written < bytes.count {
                let result = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if result < 0 {
                    if errno == EINTR { continue }
                    throw .writeFailed(path: path, reason: "write: \(errnoText())")
                }
                written += result
            }
            guard fsync(fd) == 0 else { throw .writeFailed(path: path, reason: "fsync: \(errnoText())") }
            closed = true
            guard close(fd) == 0 else { throw .writeFailed(path: path, reason: "close: \(errnoText())") }
            if exclusive {
                try placeExclusively(temporary, at: path)
            } else {
                guard rename(temporary, path) == 0 else { throw .writeFailed(path: path, reason: "rename: \(errnoText())") }
            }
        } catch {
            unlink(temporary)
            throw error
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Reads a key file. With `requirePrivate`, refuses a file that group or
    /// others can access, or that is not a regular file.
    static func readText(_ path: String, requirePrivate: Bool) throws(KeyFileError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw .missing(path: path) }
            throw .unreadable(path: path, reason: errnoText())
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: "stat: \(errnoText())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path: path, reason: "not a regular file") }
        if requirePrivate && (info.st_mode & 0o077) != 0 {
            throw .insecurePermissions(path: path, mode: UInt32(info.st_mode & 0o7777))
        }
        guard Int(info.st_size) <= maximumFileSize else {
            throw .malformed(path: path, reason: "file is \(info.st_size) bytes; a key file is under 200")
        }
        var bytes = [UInt8](repeating: 0, count: maximumFileSize + 1)
        var total = 0
        while total < bytes.count {
            let result = bytes[total...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: "read: \(errnoText())")
            }
            if result == 0 { break }
            total += result
        }
        guard total <= maximumFileSize else {
            throw .malformed(path: path, reason: "file grew past \(maximumFileSize) bytes while reading")
        }
        guard let text = String(validating: bytes[..<total], as: UTF8.self) else {
            throw .malformed(path: path, reason: "not UTF-8 text (binary data?)")
        }
        return text
    }

    /// Whether anything (file, link, directory) exists at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Creates `path` (one level) with `mode` if missing.
    static func ensureDirectory(_ path: String, mode: UInt32) throws(KeyFileError) {
        if mkdir(path, mode_t(mode)) != 0 && errno != EEXIST {
            throw .writeFailed(path: path, reason: "mkdir: \(errnoText())")
        }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Links `temporary` to `path` (then drops the temporary name); `alreadyExists`
    /// when `path` is there. A filesystem without hard links (some FUSE and SMB
    /// mounts) gets a rename after a last look: a narrower window than none.
    private static func placeExclusively(_ temporary: String, at path: String) throws(KeyFileError) {
        if link(temporary, path) == 0 {
            unlink(temporary)
            return
        }
        let failure = errno
        guard failure != EEXIST else { throw .alreadyExists(path: path) }
        guard [EPERM, ENOTSUP, EXDEV, ENOSYS].contains(failure) else {
            throw .writeFailed(path: path, reason: "link: \(String(cString: strerror(failure)))")
        }
        guard !exists(path) else { throw .alreadyExists(path: path) }
        guard rename(temporary, path) == 0 else { throw .writeFailed(path: path, reason: "rename: \(errnoText())") }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
