import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that a reader never sees half of one: the content goes
/// to a temporary file in the same directory, then is renamed over the
/// target. An existing file's mode and owner carry over.
///
/// No fsync: the guarantee is against a process dying mid-write and readers
/// racing the writer (what Salt's temp-file-and-move gives too), not against
/// power loss; an fsync per file made a 1000-file state run take a second.
public enum AtomicFile {
    public static func write(_ data: some Collection<UInt8>, to path: String, mode: mode_t? = nil) throws(BrineError) {
        // By bytes: Foundation's deletingLastPathComponent traps on some one-character names on Linux.
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let directory = slash.map { $0 == path.utf8.startIndex ? "/" : String(path[..<$0]) } ?? ""
        let base = slash.map { String(path[path.utf8.index(after: $0)...]) } ?? path
        let (fd, tempPath) = try createTemporary(near: "\(directory.isEmpty ? "." : directory)/.\(base).brine-", for: path)
        var ok = false
        defer {
            if !ok { unlink(tempPath) }
        }
        let bytes = Array(data)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let message = systemError(errno)
                close(fd)
                throw BrineError(.io, "cannot write \(path): \(message)")
            }
            offset += written
        }
        var existing = stat()
        if stat(path, &existing) == 0 {
            fchmod(fd, mode ?? (existing.st_mode & 0o7777))
            if geteuid() == 0 { fchown(fd, existing.st_uid, existing.st_gid) }
        } else if let mode {
            fchmod(fd, mode)
        }
        close(fd)
        guard rename(tempPath, path) == 0 else {
            // A file that is a mount point (a container's /etc/hosts or
            // resolv.conf, bind-mounted) cannot be renamed over: it is written
            // in place, as Salt's shutil.move falls back to copying.
            guard errno == EBUSY else { throw BrineError(.io, "cannot replace \(path): \(systemError(errno))") }
            try writeInPlace(bytes, to: path)
            return
        }
        ok = true
    }

    /// A new file `prefix` + six random characters, made with mode 0666 so
    /// that the kernel applies the process's umask (as for any new file).
    /// Not `mkstemp` (0600) followed by reading the umask: `umask` can only be
    /// read by setting it, and two threads doing that at once can leave the
    /// process's umask at 0 for good.
    static func createTemporary(near prefix: String, for path: String) throws(BrineError) -> (fd: Int32, path: String) {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        for _ in 0..<100 {
            let candidate = prefix + String((0..<6).map { _ in letters.randomElement() ?? "x" })
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 { return (fd, candidate) }
            guard errno == EEXIST || errno == EINTR else { break }
        }
        throw BrineError(.io, "cannot write \(path): \(systemError(errno))")
    }

    static func writeInPlace(_ bytes: [UInt8], to path: String) throws(BrineError) {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw BrineError(.io, "cannot write \(path): \(systemError(errno))") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw BrineError(.io, "cannot write \(path): \(systemError(errno))")
            }
            offset += written
        }
    }

    public static func write(_ text: String, to path: String, mode: mode_t? = nil) throws(BrineError) {
        try write(Array(text.utf8), to: path, mode: mode)
    }
}
