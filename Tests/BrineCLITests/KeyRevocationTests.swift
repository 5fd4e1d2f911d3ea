import BrineCore
import Foundation
import Testing

/// Issue 15 (12): deleting or rejecting a key ends the minion's live
/// connection at once. Before, the connection stayed up and went on getting
/// files and pillar; the minion never came back to present its key again.
@Suite(.serialized) struct KeyRevocationTests {
    let root = tempDir()
    let port = testPort()

    var env: [String: String] { ["BRINE_CONFIG_DIR": root + "/etc"] }

    func configure() throws {
        for dir in ["etc", "m1"] { try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        try "interface: 127.0.0.1\nret_port: \(port)\nroot_dir: \(root)\n".write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        try "id: m1\nmaster: 127.0.0.1\nmaster_port: \(port)\nroot_dir: \(root)/m1\nacceptance_wait_time: 0.3\n"
            .write(toFile: root + "/m1/minion", atomically: true, encoding: .utf8)
    }

    /// A master and m1, its key accepted by hand, answering.
    func startAcceptedMinion() throws -> (master: Daemon, minion: Daemon) {
        try configure()
        let master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master.log")
        let minion = try Daemon(["minion", "-c", root + "/m1"], log: root + "/m1.log")
        #expect(try eventually { try brine(["key", "-l", "un"], environment: env).stdout.contains("m1") })
        _ = try brine(["key", "-y", "-a", "m1"], environment: env)
        #expect(try eventually { try brine(["m1", "test.ping"], environment: env).code == 0 }, "\(master.output)")
        return (master, minion)
    }

    @Test func aDeletedKeyLosesItsConnection() throws {
        let (master, minion) = try startAcceptedMinion()
        defer { master.stop(); minion.stop() }

        // The cache holds returns and pillar repositories: its owner's only (issue 15).
        let cacheMode = try FileManager.default.attributesOfItem(atPath: root + "/var/cache/brine/master")[.posixPermissions] as? Int
        #expect(cacheMode == 0o700)

        _ = try brine(["key", "-y", "-d", "m1"], environment: env)
        #expect(eventually(60) { master.output.contains("minion m1: key no longer accepted, connection closed") }, "\(master.output)")
        // Cut off, the minion comes back and its key waits again, as a new minion's would.
        #expect(try eventually(20) { try brine(["key", "-l", "un"], environment: env).stdout.contains("m1") }, "\(minion.output)")
        #expect(try brine(["m1", "test.ping"], environment: env).code == 2)
    }

    /// Issue 21: a return whose connection dropped is sent again on the next
    /// one. The connection is cut (key rejected) while the job runs; the key is
    /// accepted again; the minion's kept return reaches the job cache.
    @Test func aReturnCutOffByAReconnectArrivesAfterIt() throws {
        let (master, minion) = try startAcceptedMinion()
        defer { master.stop(); minion.stop() }

        // The job runs until told to end: the cut comes while it runs, however slow the machine.
        let started = root + "/job-started", release = root + "/job-release", script = root + "/job.sh"
        try "touch \(started)\nwhile [ ! -e \(release) ]; do sleep 0.1; done\necho released\n".write(toFile: script, atomically: true, encoding: .utf8)
        let job = try startBrine(["m1", "cmd.run", "sh \(script)", "--out", "txt", "-t", "120"], environment: env)
        #expect(eventually(60) { FileManager.default.fileExists(atPath: started) }, "\(master.output)")
        _ = try brine(["key", "-y", "-r", "m1", "--include-accepted"], environment: env)
        #expect(eventually(30) { master.output.contains("minion m1: key no longer accepted, connection closed") }, "\(master.output)")
        let cut = job.finish()
        #expect(cut.code == 1 && cut.stdout.contains("Minion did not return. [No response]"), "\(cut.stdout)")
        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        _ = try brine(["key", "-y", "-a", "m1", "--include-rejected"], environment: env)

        let jobs = try brine(["jobs", "list", "--out", "json"], environment: env)
        let jid = (try? JSON.decode(jobs.stdout, file: "jobs"))?.mapValue?.first { $0.value["Function"] == "cmd.run" }?.key ?? ""
        #expect(!jid.isEmpty)
        #expect(try eventually(60) { try brine(["jobs", "show", jid, "--out", "txt"], environment: env).stdout == "m1: released\n" },
                "\(master.output)")
    }
}
