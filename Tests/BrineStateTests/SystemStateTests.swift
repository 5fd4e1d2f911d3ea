import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

let isRoot = geteuid() == 0

/// user, group, pkg and service states against the real system (root only:
/// they create users, install a package built here, run an init script).
@Suite(.serialized) struct SystemStateTests {
    let tree = Tree()

    func apply(_ text: String, _ extra: String...) throws -> Value {
        try tree.sls("s.sls", text)
        let ctx = try tree.context()
        return try ctx.loader.call("state.apply", CallArguments.parse(["s"] + extra), context: ctx)
    }

    @Test(.enabled(if: isRoot)) func usersAndGroups() throws {
        defer {
            tree.remove()
            _ = try? ProcessRunner().run(Command(["userdel", "-r", "brinetestuser"]))
            _ = try? ProcessRunner().run(Command(["groupdel", "brinetestgrp"]))
        }
        let sls = """
            grp:
              group.present:
                - name: brinetestgrp
            usr:
              user.present:
                - name: brinetestuser
                - shell: /bin/sh
                - home: /home/brinetestuser
                - groups:
                  - brinetestgrp
                - require:
                  - group: grp
            """
        let first = try apply(sls)
        #expect(first.ret("grp")?["comment"] == "New group brinetestgrp created")
        #expect(first.ret("usr")?["comment"] == "New user brinetestuser created")
        #expect(first.ret("usr")?["changes"]?["shell"] == "/bin/sh")
        #expect(first.ret("usr")?["changes"]?["groups"]?.listValue?.contains("brinetestgrp") == true)
        #expect(getpwnam("brinetestuser") != nil)
        let second = try apply(sls)
        #expect(second.ret("usr")?["comment"] == "User brinetestuser is present and up to date")
        let changed = try apply(sls.replacingOccurrences(of: "/bin/sh", with: "/bin/bash"))
        #expect(changed.ret("usr")?["changes"] == ["shell": "/bin/bash"])
        let removed = try apply("gone:\n  user.absent:\n    - name: brinetestuser\n    - purge: True\ngrpgone:\n  group.absent:\n    - name: brinetestgrp\n")
        #expect(removed.ret("gone")?["changes"] == ["brinetestuser": "removed"])
        #expect(getpwnam("brinetestuser") == nil)
        #expect(getgrnam("brinetestgrp") == nil)
    }

    @Test(.enabled(if: isRoot && !ServiceModule.usesSystemd)) func packageAndServiceWithWatch() throws {
        let name = "brine-test-daemon"
        defer {
            tree.remove()
            _ = try? ProcessRunner().run(Command(["/bin/sh", "-c",
                "[ -f /run/\(name).pid ] && kill $(cat /run/\(name).pid); rm -f /run/\(name).pid /run/\(name).log; for i in $(seq 240); do dpkg --purge \(name) 2>&1 | grep -q lock || break; sleep 0.5; done"]))
        }
        // A package holding an init script, built with dpkg-deb.
        let root = tree.root + "/pkg"
        try tree.write(root + "/DEBIAN/control", "Package: \(name)\nVersion: 1.0\nArchitecture: all\nMaintainer: Brine <brine@localhost>\nDescription: test daemon\n")
        try tree.write(root + "/etc/init.d/\(name)", """
            #!/bin/sh
            PID=/run/\(name).pid; LOG=/run/\(name).log
            running() { [ -f $PID ] && kill -0 "$(cat $PID)" 2>/dev/null; }
            launch() { setsid sleep 1000 >/dev/null 2>&1 & echo $! > $PID; }
            case "$1" in
              start) running || launch; echo start >> $LOG ;;
              stop) running && kill "$(cat $PID)"; rm -f $PID; echo stop >> $LOG ;;
              restart) running && kill "$(cat $PID)"; launch; echo restart >> $LOG ;;
              status) running ;;
            esac
            """)
        chmod(root + "/etc/init.d/\(name)", 0o755)
        let built = try ProcessRunner().run(Command(["dpkg-deb", "--build", "--root-owner-group", root, tree.root + "/d.deb"]))
        #expect(built.retcode == 0)
        try? FileManager.default.removeItem(atPath: "/run/\(name).log")
        try? FileManager.default.removeItem(atPath: "/run/\(name).pid")
        let sls = """
            daemon_pkg:
              pkg.installed:
                - name: \(name)
                - sources:
                  - \(name): \(tree.root)/d.deb
            daemon_conf:
              file.managed:
                - name: \(tree.target)/daemon.conf
                - contents: {{ pillar.get('level', 1) }}
            daemon:
              service.running:
                - name: \(name)
                - require:
                  - pkg: daemon_pkg
                - watch:
                  - file: daemon_conf
            """
        let first = try apply(sls)
        #expect(first.ret("daemon_pkg")?["changes"] == .map([name: ["old": "", "new": "1.0"]]))
        #expect(first.ret("daemon")?["comment"] == .string("Started service \(name)"))
        let second = try apply(sls)
        #expect(second.ret("daemon_pkg")?["comment"] == "All specified packages are already installed")
        #expect(second.ret("daemon")?["comment"] == .string("The service \(name) is already running"))
        try tree.sls("s.sls", sls.replacingOccurrences(of: "pillar.get('level', 1)", with: "2"))
        let ctx = try tree.context()
        let third = try ctx.loader.call("state.apply", CallArguments.parse(["s"]), context: ctx)
        #expect(third.ret("daemon")?["comment"] == "Service restarted")
        #expect(third.ret("daemon")?["changes"] == .map([name: true]))
        #expect(try String(contentsOfFile: "/run/\(name).log", encoding: .utf8) == "start\nrestart\n")
        let removed = try apply("stop:\n  service.dead:\n    - name: \(name)\nrm:\n  pkg.removed:\n    - name: \(name)\n    - require:\n      - service: stop\n")
        #expect(removed.ret("stop")?["comment"] == .string("Service \(name) was killed"))
        #expect(removed.ret("rm")?["changes"] == .map([name: ["old": "1.0", "new": ""]]))
    }

    /// `hold` on pkg.installed: the hold's answer joins the install's, as Salt 3008.4 words it.
    @Test(.enabled(if: isRoot)) func packageHeldOnInstall() throws {
        let name = "brine-test-held"
        defer {
            tree.remove()
            _ = try? ProcessRunner().run(Command(["/bin/sh", "-c",
                "echo '\(name) install' | dpkg --set-selections; for i in $(seq 240); do dpkg --purge \(name) 2>&1 | grep -q lock || break; sleep 0.5; done"]))
        }
        let root = tree.root + "/pkg"
        try tree.write(root + "/DEBIAN/control", "Package: \(name)\nVersion: 1.0\nArchitecture: all\nMaintainer: Brine <brine@localhost>\nDescription: held\n")
        try tree.write(root + "/usr/share/doc/\(name)/note", "held\n")
        #expect(try ProcessRunner().run(Command(["dpkg-deb", "--build", "--root-owner-group", root, tree.root + "/h.deb"])).retcode == 0)
        func sls(_ hold: Bool) -> String {
            "p:\n  pkg.installed:\n    - name: \(name)\n    - hold: \(hold ? "True" : "False")\n    - sources:\n      - \(name): \(tree.root)/h.deb\n"
        }
        let first = try apply(sls(true))
        #expect(first.ret("p")?["comment"] == .string("The following packages were installed/updated: \(name)\nPackage \(name) is now being held."))
        #expect(first.ret("p")?["changes"] == .map([name: ["old": "install", "new": "1.0\nhold"]]), "\(String(describing: first.ret("p")))")
        let again = try apply(sls(true))
        #expect(again.ret("p")?["comment"] == .string("All specified packages are already installed.\nPackage \(name) is already set to be held."))
        let preview = try apply(sls(false), "test=True")
        #expect(preview.ret("p")?["comment"] == .string("All specified packages are already installed.\nPackage \(name) is set not to be held.") && preview.ret("p")?["result"] == .null)
        let lifted = try apply(sls(false))
        #expect(lifted.ret("p")?["changes"] == .map([name: ["old": "hold", "new": "install"]]))
        #expect(try ProcessRunner().run(Command(["dpkg", "--get-selections", name])).stdout.hasSuffix("install\n"))
    }

    @Test func refreshHappensOncePerRun() {
        let facts = RunFacts()
        #expect(facts.claimRefresh())
        #expect(!facts.claimRefresh())
        #expect(!facts.claimRefresh())
    }
}
