import BrineCore
import BrineModules
import Foundation
import Testing

/// ext_pillar from real git and Mercurial repositories made by the tests:
/// branches are environments, each with its own top.sls; nothing changes
/// until saltutil.refresh_pillar fetches again.
@Suite(.serialized) struct VCSPillarTests {
    let root = tempDir()

    static var hasGit: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/git") }
    static var hasHg: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/hg") }

    func sh(_ command: String, in dir: String) throws -> Run {
        let env = ["PATH": "/usr/bin:/bin", "HOME": root, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost",
                   "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@localhost", "HGUSER": "t <t@localhost>", "HGPLAIN": "1"]
        let result = try ProcessRunner().run(Command(["/bin/sh", "-c", command], cwd: dir, environment: env, timeout: 60, mergeStderr: true))
        #expect(result.retcode == 0, "\(command): \(result.stdout)")
        return Run(stdout: result.stdout, stderr: "", code: Int32(result.retcode))
    }

    func write(_ files: [String: String], in dir: String) throws {
        for (path, text) in files {
            try FileManager.default.createDirectory(atPath: (dir + "/" + path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: dir + "/" + path, atomically: true, encoding: .utf8)
        }
    }

    func call(_ words: [String]) throws -> Run {
        try brine(["call", "--local", "-c", root + "/etc", "--id", "web1"] + words)
    }

    func pillar() throws -> Value {
        try JSON.decode(try call(["pillar.items", "unmask=True", "--out", "json"]).stdout)["local"] ?? .null
    }

    @Test(.enabled(if: VCSPillarTests.hasGit)) func gitBranchesAreEnvironments() throws {
        let repo = root + "/pillar.git"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        _ = try sh("git init -q -b master .", in: repo)
        try write(["top.sls": "base:\n  'web*':\n    - web\n", "web.sls": "web:\n  port: 8080\n  from: git\n"], in: repo)
        _ = try sh("git add -A && git commit -qm base", in: repo)
        _ = try sh("git checkout -q -b dev", in: repo)
        try write(["top.sls": "dev:\n  '*':\n    - extra\n", "extra.sls": "web:\n  debug: true\n"], in: repo)
        _ = try sh("git add -A && git commit -qm dev && git checkout -q master", in: repo)
        try write(["etc/minion": """
            file_client: local
            root_dir: \(root)/
            pillar_roots:
              base: [\(root)/pillar]
            ext_pillar:
              - git:
                - __env__ file://\(repo)
            """, "pillar/top.sls": "base:\n  '*':\n    - local\n", "pillar/local.sls": "web:\n  port: 80\n  owner: local\n"], in: root)

        // pillar_roots first, then the repository's branches merged over it.
        let merged = try pillar()
        let web = merged["web"]?.mapValue ?? [:]
        #expect(web["port"] == 8080 && web["owner"] == "local" && web["from"] == "git" && web["debug"] == true && web.count == 4, "\(merged)")

        // A new commit is not seen until the pillar is refreshed.
        try write(["web.sls": "web:\n  port: 9090\n  from: git\n"], in: repo)
        _ = try sh("git commit -qam bump", in: repo)
        #expect(try pillar()["web"]?["port"] == 8080)
        #expect(try call(["saltutil.refresh_pillar"]).stdout == "local:\n    True\n")
        #expect(try pillar()["web"]?["port"] == 9090)

        // ext_pillar_first and the overwrite strategy.
        try write(["etc/minion": (try String(contentsOfFile: root + "/etc/minion", encoding: .utf8)) + "\next_pillar_first: True\n"], in: root)
        #expect(try pillar()["web"]?["port"] == 80)
        try write(["etc/minion": (try String(contentsOfFile: root + "/etc/minion", encoding: .utf8)) + "pillar_source_merging_strategy: overwrite\n"], in: root)
        #expect(try pillar()["web"] == ["port": 80, "owner": "local"])

        // A repository that cannot be fetched is a clear error.
        try write(["etc/minion": "file_client: local\nroot_dir: \(root)/other\next_pillar:\n  - git:\n    - master file://\(root)/nowhere.git\n"], in: root)
        let broken = try call(["pillar.items"])
        #expect(broken.code != 0 && broken.stderr.contains("ext_pillar git file://\(root)/nowhere.git: git clone failed"), "\(broken.stderr)")
    }

    @Test(.enabled(if: VCSPillarTests.hasHg || ProcessInfo.processInfo.environment["BRINE_REQUIRE_HG"] == "1"))
    func mercurialDefaultBranchIsBase() throws {
        let repo = root + "/pillar-hg"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        _ = try sh("hg init .", in: repo)
        try write(["top.sls": "base:\n  '*':\n    - common\n", "common.sls": "motd: from mercurial\n"], in: repo)
        _ = try sh("hg add -q . && hg commit -q -m base", in: repo)
        _ = try sh("hg branch -q qa", in: repo)
        try write(["top.sls": "qa:\n  '*':\n    - qa\n", "qa.sls": "qa: true\n"], in: repo)
        _ = try sh("hg add -q . && hg commit -q -m qa && hg update -q default", in: repo)
        try write(["etc/minion": "file_client: local\nroot_dir: \(root)/\next_pillar:\n  - hg:\n    - default \(repo)\n    - qa \(repo)\n"], in: root)
        let items = try pillar()
        #expect(items == ["motd": "from mercurial", "qa": true], "\(items)")

        try write(["common.sls": "motd: changed\n"], in: repo)
        _ = try sh("hg commit -q -m change", in: repo)
        #expect(try pillar()["motd"] == "from mercurial")
        _ = try call(["saltutil.refresh_pillar"])
        #expect(try pillar()["motd"] == "changed")
    }

    @Test(.enabled(if: VCSPillarTests.hasGit)) func theMasterServesItAndRefreshesOnRequest() throws {
        let repo = root + "/pillar.git"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        _ = try sh("git init -q -b main .", in: repo)
        try write(["top.sls": "base:\n  'm1':\n    - secret\n", "secret.sls": "secret: v1\n"], in: repo)
        _ = try sh("git add -A && git commit -qm one", in: repo)
        let port = testPort()
        try write(["etc/master": """
            interface: 127.0.0.1
            ret_port: \(port)
            root_dir: \(root)/
            auto_accept: True
            ext_pillar:
              - git:
                - main \(repo)
            """, "m1/minion": "id: m1\nmaster: 127.0.0.1\nmaster_port: \(port)\nroot_dir: \(root)/m1\nacceptance_wait_time: 0.3\n",
                   "m2/minion": "id: m2\nmaster: 127.0.0.1\nmaster_port: \(port)\nroot_dir: \(root)/m2\nacceptance_wait_time: 0.3\n"], in: root)
        let master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master.log")
        defer { master.stop() }
        let m1 = try Daemon(["minion", "-c", root + "/m1"], log: root + "/m1.log")
        defer { m1.stop() }
        let m2 = try Daemon(["minion", "-c", root + "/m2"], log: root + "/m2.log")
        defer { m2.stop() }
        let env = ["BRINE_CONFIG_DIR": root + "/etc"]
        #expect(try eventually { try brine(["*", "test.ping", "--out", "txt"], environment: env).stdout.split(separator: "\n").count == 2 })
        #expect(try brine(["*", "pillar.get", "secret", "unmask=True", "--out", "json", "--static"], environment: env).stdout
            .contains("\"m1\": \"v1\""))
        #expect(try brine(["m2", "pillar.get", "secret", "unmask=True"], environment: env).stdout == "m2:\n")

        try write(["secret.sls": "secret: v2\n"], in: repo)
        _ = try sh("git commit -qam two", in: repo)
        #expect(try brine(["m1", "pillar.get", "secret", "unmask=True"], environment: env).stdout == "m1:\n    v1\n")
        #expect(try brine(["m1", "saltutil.refresh_pillar"], environment: env).stdout == "m1:\n    True\n")
        #expect(try brine(["m1", "pillar.get", "secret", "unmask=True"], environment: env).stdout == "m1:\n    v2\n")
    }
}
