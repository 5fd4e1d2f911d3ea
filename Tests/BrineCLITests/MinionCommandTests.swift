import Foundation
import Glibc
import Testing

/// `brine minion` runs in the lean `brine-minion` executable that is built
/// beside `brine`, with the same options, through every name.
@Suite(.serialized) struct MinionCommandTests {
    let root = tempDir()

    func writeMinionConfig(port: Int) throws {
        try FileManager.default.createDirectory(atPath: root + "/m", withIntermediateDirectories: true)
        try "id: lean1\nmaster: 127.0.0.1\nmaster_port: \(port)\nroot_dir: \(root)/m\nacceptance_wait_time: 1\n"
            .write(toFile: root + "/m/minion", atomically: true, encoding: .utf8)
    }

    @Test func optionsAndErrors() throws {
        try writeMinionConfig(port: 4506)
        for name in [nil, "salt-minion"] as [String?] {
            let help = try brine(name == nil ? ["minion", "--help"] : ["--help"], as: name)
            #expect(help.code == 0)
            #expect(help.stdout.hasPrefix("USAGE: brine minion [-c DIR]"))
            let bad = try brine(name == nil ? ["minion", "--bogus"] : ["--bogus"], as: name)
            #expect(bad.code == 64)
            #expect(bad.stderr == "Error: unknown option '--bogus' for the minion (see 'brine minion --help')\n")
        }
        let missing = try brine(["minion", "-c"])
        #expect(missing.code == 64 && missing.stderr.contains("missing value for '-c'"))
        let swarm = try brine(["minion", "--swarm", "0", "-c", root + "/m"])
        #expect(swarm.code == 64 && swarm.stderr.contains("--swarm needs a positive count"))
        let shown = try brine(["minion", "-c", root + "/m", "--show-config", "--out=json"])
        #expect(shown.code == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("\"id\": \"lean1\""))
        #expect(shown.stdout.contains("\"pki_dir\": \"\(root)/m/etc/brine/pki/minion\"") || shown.stdout.contains("\"pki_dir\": \"\(root)/m/"))
        let badOut = try brine(["minion", "--show-config", "--out", "xml", "-c", root + "/m"])
        #expect(badOut.code == 64 && badOut.stderr.contains("--out must be yaml or json"))
    }

    /// `-d` detaches: the pidfile names a `brine-minion` process (not `brine`),
    /// which removes its pidfile on SIGTERM.
    @Test func daemonRunsTheLeanExecutable() throws {
        try writeMinionConfig(port: testPort())
        let started = try brine(["minion", "-c", root + "/m", "-d"])
        #expect(started.code == 0, "\(started.stderr)")
        let pidfile = root + "/m/var/run/brine-minion.pid"
        #expect(eventually { FileManager.default.fileExists(atPath: pidfile) })
        let pid = Int32((try String(contentsOfFile: pidfile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(pid > 0)
        defer { kill(pid, SIGKILL) }
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
        let binDir = URL(fileURLWithPath: brineBinary).resolvingSymlinksInPath().deletingLastPathComponent().path
        #expect(exe == binDir + "/brine-minion")
        kill(pid, SIGTERM)
        #expect(eventually { !FileManager.default.fileExists(atPath: pidfile) })
    }

    /// Without `brine-minion` beside it, `brine-full minion` runs the minion in-process
    /// (as in containers, which only get `brine-full` mounted): a hard link of
    /// `brine-full` alone in another directory of the same file system.
    @Test func runsInProcessWithoutTheLeanExecutable() throws {
        try writeMinionConfig(port: testPort())
        // brine-full alone (`brine` hands the minion to brine-minion, else to brine-full).
        let real = URL(fileURLWithPath: brineBinary + "-full").resolvingSymlinksInPath().path
        let dir = (real as NSString).deletingLastPathComponent + "/../minion-fallback-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let alone = dir + "/brine-full"
        #expect(link(real, alone) == 0, "hard link: \(errno)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: alone)
        process.arguments = ["minion", "-c", root + "/m", "-d"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let pidfile = root + "/m/var/run/brine-minion.pid"
        #expect(eventually { FileManager.default.fileExists(atPath: pidfile) })
        let pid = Int32((try String(contentsOfFile: pidfile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        defer { kill(pid, SIGKILL) }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") == URL(fileURLWithPath: alone).standardized.path)
        kill(pid, SIGTERM)
        #expect(eventually { !FileManager.default.fileExists(atPath: pidfile) })
    }
}
