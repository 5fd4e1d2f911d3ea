import BrineCore
import Foundation
import Testing

/// AtomicFile replaces a file whole (temporary file + rename), and writes a
/// bind-mounted file in place: a container's /etc/hosts or resolv.conf is
/// one, and a rename over a mount point fails (EBUSY).
@Suite struct AtomicFileTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("brine-atomic-\(UUID().uuidString)").path

    @Test func replacesAndKeepsMode() throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/f"
        try AtomicFile.write("one\n", to: path, mode: 0o640)
        try AtomicFile.write("two\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two\n")
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["f"])
    }

    /// A new file gets the process's umask as any new file does, and
    /// writers on many threads at once never change that umask (reading it
    /// means setting it: two threads doing so could leave it at 0).
    @Test func newFilesFollowTheUmaskWhateverTheThreads() throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        func umaskNow() throws -> Int {
            let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Umask:") })
            return try #require(Int(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8))
        }
        let before = try umaskNow()
        DispatchQueue.concurrentPerform(iterations: 2000) { index in
            try? AtomicFile.write("\(index)\n", to: root + "/f\(index)")
        }
        #expect(try umaskNow() == before)
        for index in [0, 999, 1999] {
            #expect((try FileManager.default.attributesOfItem(atPath: root + "/f\(index)")[.posixPermissions] as? Int) == 0o666 & ~before)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).count == 2000)
    }

    @Test(.enabled(if: geteuid() == 0)) func writesABindMountedFileInPlace() throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let source = root + "/source", mounted = root + "/hosts"
        try "127.0.0.1 localhost\n".write(toFile: source, atomically: false, encoding: .utf8)
        try "".write(toFile: mounted, atomically: false, encoding: .utf8)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["--bind", source, mounted]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount --bind failed: this test needs a machine where root may mount")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [mounted]
            try? umount.run()
            umount.waitUntilExit()
        }
        try AtomicFile.write("127.0.0.1 localhost web\n", to: mounted)
        // Written through the mount: the source file has the new text, and no temporary file is left.
        #expect(try String(contentsOfFile: source, encoding: .utf8) == "127.0.0.1 localhost web\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == ["hosts", "source"])
    }
}
