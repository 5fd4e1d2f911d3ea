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

    @Test(.enabled(if: geteuid() == 0)) func wholeCrontabFromAFile() throws {
        let user = self.user + "f"
        try sh("useradd -M -s /usr/sbin/nologin \(user)")
        defer { tree.remove(); _ = try? sh("crontab -u \(user) -r; userdel \(user)") }
        try tree.sls("tab.txt", "# managed by a state\nMAILTO=\"\"\n*/5 * * * * /usr/bin/true {{ word }}\n")
        func state(_ word: String, replace: Bool = true) -> String {
            "tab:\n  cron.file:\n    - name: salt://tab.txt\n    - user: \(user)\n    - template: jinja\n    - replace: \(replace)\n    - context:\n        word: \(word)\n"
        }
        let preview = try apply(state("one"), "test=True")
        #expect(preview[0]["comment"] == "The following values are set to be changed:\ndiff: --- \n+++ \n@@ -1 +1,3 @@\n-\n+# managed by a state\n+MAILTO=\"\"\n+*/5 * * * * /usr/bin/true one\n\n")
        let written = try apply(state("one"))
        #expect(written[0]["comment"] == .string("Crontab for user \(user) was updated") && written[0]["changes"]?["diff"] != nil, "\(written)")
        #expect(try sh("crontab -u \(user) -l").hasSuffix("# managed by a state\nMAILTO=\"\"\n*/5 * * * * /usr/bin/true one\n"))
        #expect(try apply(state("one"))[0]["comment"] == .string("Crontab for user \(user) is in the correct state"))
        #expect(try apply(state("two"))[0]["changes"]?["diff"] == "--- \n+++ \n@@ -1,3 +1,3 @@\n # managed by a state\n MAILTO=\"\"\n-*/5 * * * * /usr/bin/true one\n+*/5 * * * * /usr/bin/true two\n")
        #expect(try apply(state("three", replace: false))[0]["comment"] == .string("User \(user) already has a crontab. No changes made"))
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
