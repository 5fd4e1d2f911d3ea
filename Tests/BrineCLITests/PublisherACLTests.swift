import BrineCore
import BrineModules
import Foundation
import Testing

/// publisher_acl over the master's socket: local users are who the
/// socket's peer credentials say; the master decides before publishing.
@Suite(.serialized, .enabled(if: geteuid() == 0)) struct PublisherACLTests {
    let root = tempDir()
    let port = testPort()
    let allowed = "brineacl\(Int.random(in: 1000...9999))"
    let stranger = "brineno\(Int.random(in: 1000...9999))"


    /// `brine ARGS` run as USER (runuser), with the test's master config.
    func brineAs(_ user: String, _ args: [String]) throws -> Run {
        let quoted = args.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        return try shell("runuser -u \(user) -- env BRINE_CONFIG_DIR=\(root)/etc \(brineBinary) \(quoted)")
    }

    @Test func onlyWhatTheACLAllowsIsPublished() throws {
        for user in [allowed, stranger] { _ = try shell("useradd -M -s /usr/sbin/nologin \(user)") }
        defer {
            for user in [allowed, stranger] { _ = try? shell("userdel \(user)") }
            try? FileManager.default.removeItem(atPath: root)
        }
        chmod(root, 0o755)
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/m1", withIntermediateDirectories: true)
        try """
            interface: 127.0.0.1
            ret_port: \(port)
            root_dir: \(root)/
            auto_accept: True
            publisher_acl:
              \(allowed):
                - test.ping
                - 'm*':
                  - grains.item
                - 'web*':
                  - test.version
            publisher_acl_blacklist:
              modules: [cmd.*]
            pillar_roots:
              base: [\(root)/pillar]
            """.write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/pillar", withIntermediateDirectories: true)
        try "base:\n  '*':\n    - secret\n".write(toFile: root + "/pillar/top.sls", atomically: true, encoding: .utf8)
        try "secret: 42\n".write(toFile: root + "/pillar/secret.sls", atomically: true, encoding: .utf8)
        try "id: m1\nmaster: 127.0.0.1\nmaster_port: \(port)\nroot_dir: \(root)/m1\nacceptance_wait_time: 0.3\n"
            .write(toFile: root + "/m1/minion", atomically: true, encoding: .utf8)
        let master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master.log")
        defer { master.stop() }
        let minion = try Daemon(["minion", "-c", root + "/m1"], log: root + "/m1.log")
        defer { minion.stop() }
        let env = ["BRINE_CONFIG_DIR": root + "/etc"]
        #expect(try eventually { try brine(["*", "test.ping"], environment: env).code == 0 }, "\(master.output)")

        let ping = try brineAs(allowed, ["*", "test.ping"])
        #expect(ping.code == 0 && ping.stdout == "m1:\n    True\n", "\(ping.stdout)")
        #expect(try brineAs(allowed, ["m1", "grains.item", "id"]).stdout.contains("m1"))

        let denied = try brineAs(allowed, ["*", "state.apply"])
        #expect(denied.code == 1 && denied.stdout.contains("not authorised: user \(allowed) may not run state.apply"), "\(denied.stdout)")
        let blacklisted = try brineAs(allowed, ["*", "cmd.run", "id"])
        #expect(blacklisted.code == 1 && blacklisted.stdout.contains("not authorised: cmd.run is blacklisted"), "\(blacklisted.stdout)")
        let unknown = try brineAs(stranger, ["*", "test.ping"])
        #expect(unknown.code == 1 && unknown.stdout.contains("not authorised: user \(stranger) has no publisher_acl entry"), "\(unknown.stdout)")

        // Pillar targets read only the pillar of minions the user may act on (issue 15, 9): m1's
        // secret cannot be learned by bisection; a right guess and a wrong one answer alike.
        let right = try brineAs(allowed, ["-I", "secret:42", "test.version"])
        let wrong = try brineAs(allowed, ["-I", "secret:41", "test.version"])
        #expect(right.code == 2 && right.stdout == wrong.stdout && right.code == wrong.code, "\(right.stdout) / \(wrong.stdout)")
        #expect(!right.stdout.contains("m1"))
        // The master's own user matches m1 by its pillar.
        #expect(try brine(["-I", "secret:42", "test.ping"], environment: env).stdout == "m1:\n    True\n")

        // Nothing refused was published: the job cache has no such job.
        let jobs = try brine(["jobs", "list", "--out", "json"], environment: env).stdout
        #expect(!jobs.contains("state.apply") && !jobs.contains("cmd.run"), "\(jobs)")
        #expect(master.output.contains("refused a publish of cmd.run by \(allowed)"))
        // The master's own user (root here) needs no rule.
        #expect(try brine(["*", "grains.item", "os"], environment: env).code == 0)
    }

    @Test func withoutAnACLOnlyTheMastersUserCanConnect() throws {
        _ = try shell("useradd -M -s /usr/sbin/nologin \(stranger)")
        defer {
            _ = try? shell("userdel \(stranger)")
            try? FileManager.default.removeItem(atPath: root)
        }
        chmod(root, 0o755)
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "interface: 127.0.0.1\nret_port: \(port)\nroot_dir: \(root)/\n".write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        let master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master.log")
        defer { master.stop() }
        #expect(eventually { FileManager.default.fileExists(atPath: root + "/var/run/brine/master/brine-master.sock") })
        let refused = try brineAs(stranger, ["*", "test.ping"])
        #expect(refused.code != 0 && refused.stdout.contains("only the master's user may publish"), "\(refused.stdout)")
    }
}
