import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// `cron.present`/`absent`/`env_present`/`env_absent` on a real crontab
/// (of a user made for the test, with a line of its own that must stay);
/// the crontab text and the answers are Salt 3008.4's for the same steps.
@Suite(.serialized) struct CronStateTests {
    let tree = Tree()
    let user = "brinecron\(getpid() % 10000)"

    @discardableResult
    func sh(_ line: String, stdin: String? = nil) throws -> String {
        let result = try ProcessRunner.runBlocking(Command(["/bin/sh", "-c", line], stdin: stdin))
        return result.stdout
    }

    func apply(_ text: String, _ extra: String...) throws -> [Value] {
        try tree.applyStates("c", text, extra)
    }

    @Test(.enabled(if: geteuid() == 0)) func jobsAndEnvironment() throws {
        try sh("useradd -M -s /usr/sbin/nologin \(user)")
        defer { tree.remove(); _ = try? sh("crontab -u \(user) -r; userdel \(user)") }
        try sh("crontab -u \(user) -", stdin: "# my own line\n17 * * * * /bin/true\n")
        let first = """
            job:
              cron.present:
                - name: /usr/bin/backup --all
                - user: \(user)
                - minute: 5
                - hour: 2
                - comment: nightly backup
            daily:
              cron.present:
                - name: /usr/bin/rotate
                - user: \(user)
                - special: '@daily'
            envline:
              cron.env_present:
                - name: MAILTO
                - value: ops@example.com
                - user: \(user)
            """
        #expect(try apply(first, "test=True").map { $0["comment"] } == ["Cron /usr/bin/backup --all is set to be added",
                                                                        "Cron /usr/bin/rotate is set to be added", "Cron env MAILTO is set to be added"])
        let added = try apply(first)
        #expect(added[0]["comment"] == .string("Cron /usr/bin/backup --all added to \(user)'s crontab"))
        #expect(added[0]["changes"] == [user: "/usr/bin/backup --all"])
        #expect(try sh("crontab -u \(user) -l") == """
            # my own line
            17 * * * * /bin/true
            # Lines below here are managed by Salt, do not edit
            MAILTO=ops@example.com
            # nightly backup SALT_CRON_IDENTIFIER:/usr/bin/backup --all
            5 2 * * * /usr/bin/backup --all
            # SALT_CRON_IDENTIFIER:/usr/bin/rotate
            @daily /usr/bin/rotate

            """)
        #expect(try apply(first).map { $0["comment"] } == ["Cron /usr/bin/backup --all already present", "Cron /usr/bin/rotate already present",
                                                           "Cron env MAILTO already present"])
        let second = """
            job:
              cron.present:
                - name: /usr/bin/backup --all
                - user: \(user)
                - minute: 10
                - hour: 2
                - commented: True
            gone:
              cron.absent:
                - name: /usr/bin/rotate
                - user: \(user)
                - special: '@daily'
            envgone:
              cron.env_absent:
                - name: MAILTO
                - user: \(user)
            """
        #expect(try apply(second, "test=True")[0]["comment"] == "Cron /usr/bin/backup --all is set to be updated")
        let changed = try apply(second)
        #expect(changed.map { $0["comment"] } == ["Cron /usr/bin/backup --all updated", .string("Cron /usr/bin/rotate removed from \(user)'s crontab"),
                                                  .string("Cron env MAILTO removed from \(user)'s crontab")])
        #expect(try sh("crontab -u \(user) -l") == """
            # my own line
            17 * * * * /bin/true
            # Lines below here are managed by Salt, do not edit
            # nightly backup SALT_CRON_IDENTIFIER:/usr/bin/backup --all
            #DISABLED#10 2 * * * /usr/bin/backup --all

            """)
        #expect(try apply(second)[1]["comment"] == "Cron /usr/bin/rotate already absent")
    }
}
