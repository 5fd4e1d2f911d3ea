import BrineCore
import Glibc
import Foundation
import Testing

/// A daemon started for a test, with its output in a log file.
final class Daemon {
    let process = Process()
    let log: String

    init(_ arguments: [String], log: String, environment: [String: String] = [:]) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: brineBinary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let handle = FileHandle(forWritingAtPath: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
}

/// Polls until `check` is true or `seconds` pass.
func eventually(_ seconds: Double = 20, _ check: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try check() { return true }
        Thread.sleep(forTimeInterval: 0.2)
    }
    return try check()
}

/// The first seed entry end to end: a master on 127.0.0.1 as this user,
/// two containers' minions `jessie1` and `53bf7d8db530`, their keys waiting,
/// accepted with `-y -a`, then `salt '*' test.ping` answers True for both.
@Suite(.serialized) struct MasterMinionTests {
    let root = tempDir()
    let port = testPort()

    func writeConfigs() throws {
        let user = String(validatingCString: getpwuid(geteuid()).pointee.pw_name) ?? "root"
        try FileManager.default.createDirectory(atPath: root + "/etc/salt", withIntermediateDirectories: true)
        try """
            interface: 127.0.0.1
            user: \(user)
            ret_port: \(port)
            root_dir: \(root)/
            pidfile: var/run/salt-master.pid
            pki_dir: etc/salt/pki/master
            cachedir: var/cache/salt/master
            sock_dir: var/run/salt/master
            file_roots:
              base:
                - \(root)/states
            pillar_roots:
              base:
                - \(root)/pillar
            """.write(toFile: root + "/etc/salt/master", atomically: true, encoding: .utf8)
        for (id, dir) in [("jessie1", "m1"), ("53bf7d8db530", "m2"), ("jessie1", "impostor"), ("stranger", "stranger")] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
            try "id: \(id)\nmaster: 127.0.0.1\nmaster_port: \(port)\nroot_dir: \(root)/\(dir)\npki_dir: pki\ncachedir: cache\nacceptance_wait_time: 0.3\n"
                .write(toFile: root + "/\(dir)/minion", atomically: true, encoding: .utf8)
        }
        // States and pillar live on the master only; minions fetch them.
        for dir in ["states/web", "pillar"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        try "base:\n  '*':\n    - common\n  'jessie1':\n    - secret1\n  '53bf*':\n    - secret2\n"
            .write(toFile: root + "/pillar/top.sls", atomically: true, encoding: .utf8)
        try "web:\n  root: \(root)/www\n".write(toFile: root + "/pillar/common.sls", atomically: true, encoding: .utf8)
        try "secret: for-jessie\n".write(toFile: root + "/pillar/secret1.sls", atomically: true, encoding: .utf8)
        try "secret: for-53bf\n".write(toFile: root + "/pillar/secret2.sls", atomically: true, encoding: .utf8)
        try """
            {% from 'web/map.jinja' import web with context %}
            index:
              file.managed:
                - name: {{ pillar['web']['root'] }}/{{ grains['id'] }}/index.html
                - source: salt://web/index.html.j2
                - template: jinja
                - makedirs: True
                - context:
                    title: {{ web.title }}
            """.write(toFile: root + "/states/web/init.sls", atomically: true, encoding: .utf8)
        try "{% set web = {'title': 'Hello'} %}\n".write(toFile: root + "/states/web/map.jinja", atomically: true, encoding: .utf8)
        try "<h1>{{ title }} from {{ grains['id'] }}</h1>\n".write(toFile: root + "/states/web/index.html.j2", atomically: true, encoding: .utf8)
    }

    var env: [String: String] { ["SALT_CONFIG_DIR": root + "/etc/salt"] }

    @Test func seedSequence() throws {
        try writeConfigs()
        let master = try Daemon(["master"], log: root + "/master.log", environment: env)
        defer { master.stop() }
        #expect(eventually { FileManager.default.fileExists(atPath: root + "/var/run/salt/master/brine-master.sock") }, "\(master.output)")
        #expect(FileManager.default.fileExists(atPath: root + "/var/run/salt-master.pid"))
        let jessie = try Daemon(["minion", "-c", root + "/m1", "-l", "info"], log: root + "/m1.log")
        defer { jessie.stop() }
        let other = try Daemon(["minion", "-c", root + "/m2"], log: root + "/m2.log")
        defer { other.stop() }

        #expect(try eventually { try brine([], as: "salt-key", environment: env).stdout.contains("Unaccepted Keys:\n53bf7d8db530\njessie1\n") },
                "\(master.output)")
        #expect(try brine([], as: "salt-key", environment: env).stdout == "Accepted Keys:\nDenied Keys:\nUnaccepted Keys:\n53bf7d8db530\njessie1\nRejected Keys:\n")
        // A minion pins its master's key on first contact, before its own key is accepted.
        #expect(eventually { FileManager.default.fileExists(atPath: root + "/m1/pki/minion_master.pub") })
        // Before acceptance nothing is sent.
        let early = try brine(["*", "test.ping"], as: "salt", environment: env)
        #expect(early.stdout == "No minions matched the target. No command was sent, no jid was assigned.\n")
        #expect(early.code == 2)

        #expect(try brine(["-y", "-a", "53bf7d8db530"], as: "salt-key", environment: env).stdout
            == "The following keys are going to be accepted:\nUnaccepted Keys:\n53bf7d8db530\nKey for minion 53bf7d8db530 accepted.\n")
        #expect(try brine(["-y", "-a", "jessie1"], as: "salt-key", environment: env).code == 0)

        var ping = Run(stdout: "", stderr: "", code: -1)
        #expect(try eventually {
            ping = try brine(["*", "test.ping"], as: "salt", environment: env)
            return ping.code == 0
        }, "\(ping.stdout)\(ping.stderr)\n\(master.output)")
        #expect(ping.stdout.contains("jessie1:\n    True\n"))
        #expect(ping.stdout.contains("53bf7d8db530:\n    True\n"))
        #expect(ping.stdout.split(separator: "\n").count == 4)

        let batched = try brine(["*", "test.ping", "-b", "1"], as: "salt", environment: env)
        #expect(batched.stdout.split(separator: "\n").count == 4 && batched.code == 0)
        let async = try brine(["*", "test.ping", "--async"], as: "salt", environment: env)
        #expect(async.stdout.range(of: #"^Executed command with job ID: [0-9]{20}\n$"#, options: .regularExpression) != nil)

        let listed = try brine(["-L", "jessie1", "cmd.run", "echo out; echo err >&2"], as: "salt", environment: env)
        #expect(listed.stdout == "jessie1:\n    out\n    err\n")
        let json = try brine(["-E", "^jess", "test.echo", "hi", "--out=json"], as: "salt", environment: env)
        #expect(json.stdout == "{\n    \"jessie1\": \"hi\"\n}\n")
        let unknown = try brine(["jessie1", "test.nosuch"], as: "salt", environment: env)
        #expect(unknown.stdout == "jessie1:\n    'test.nosuch' is not available.\n")
        #expect(unknown.code == 1)
        #expect(unknown.stderr == "ERROR: Minions returned with non-zero exit code\n")

        // States run on the minions with files and pillar served by the master.
        let applied = try brine(["*", "state.apply", "web"], as: "salt", environment: env)
        #expect(applied.code == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("Summary for jessie1\n------------\nSucceeded: 1 (changed=1)"))
        #expect(applied.stdout.contains("Summary for 53bf7d8db530\n"))
        #expect((try? String(contentsOfFile: root + "/www/jessie1/index.html", encoding: .utf8)) == "<h1>Hello from jessie1</h1>\n")
        #expect((try? String(contentsOfFile: root + "/www/53bf7d8db530/index.html", encoding: .utf8)) == "<h1>Hello from 53bf7d8db530</h1>\n")
        // The minion keeps its copy of a source while the master's digest matches, and fetches it again when not.
        let cached = root + "/m1/cache/files/base/web/index.html.j2"
        func inode(_ path: String) -> UInt64? { (try? FileManager.default.attributesOfItem(atPath: path))?[.systemFileNumber] as? UInt64 }
        let before = inode(cached)
        #expect(before != nil)
        #expect(try brine(["jessie1", "state.apply", "web"], as: "salt", environment: env).stdout.contains("Succeeded: 1\n"))
        #expect(inode(cached) == before)
        try "<h2>{{ title }} again</h2>\n".write(toFile: root + "/states/web/index.html.j2", atomically: true, encoding: .utf8)
        #expect(try brine(["jessie1", "state.apply", "web"], as: "salt", environment: env).stdout.contains("Succeeded: 1 (changed=1)"))
        #expect(inode(cached) != before)
        #expect((try? String(contentsOfFile: root + "/www/jessie1/index.html", encoding: .utf8)) == "<h2>Hello again</h2>\n")
        // Each minion sees only its own pillar; the file server stays inside file_roots.
        let secrets = try brine(["*", "pillar.get", "secret", "unmask=True", "--out=json"], as: "salt", environment: env)
        #expect(secrets.stdout.contains("\"jessie1\": \"for-jessie\""))
        #expect(secrets.stdout.contains("\"53bf7d8db530\": \"for-53bf\""))
        // Grain and pillar targets use what the master cached for each minion.
        #expect(try brine(["-I", "secret:for-53bf", "test.ping"], as: "salt", environment: env).stdout == "53bf7d8db530:\n    True\n")
        #expect(try brine(["-C", "G@id:jess* and not I@secret:for-53bf", "test.ping"], as: "salt", environment: env).stdout == "jessie1:\n    True\n")
        let escape = try brine(["jessie1", "cp.get_file_str", "salt://../etc/salt/master"], as: "salt", environment: env)
        // Refused on the minion already; the master's file server checks the path again itself.
        #expect(escape.stdout == "jessie1:\n    ERROR executing 'cp.get_file_str': path '../etc/salt/master' leaves the file roots\n")

        // A second minion claiming jessie1 with another key is denied and gets nothing;
        // the real jessie1 keeps working.
        let impostor = try Daemon(["minion", "-c", root + "/impostor", "-l", "info"], log: root + "/impostor.log")
        defer { impostor.stop() }
        #expect(try eventually { try brine(["-l", "den"], as: "salt-key", environment: env).stdout == "Denied Keys:\njessie1\n" })
        #expect(jessie.output.contains("[INFO    ] authenticated with the master at 127.0.0.1:"), "\(jessie.output)")
        #expect(!impostor.output.contains("authenticated"))
        #expect(try brine(["jessie1", "test.ping"], as: "salt", environment: env).stdout == "jessie1:\n    True\n")
        impostor.stop()

        // A minion that pinned another master's key stops at the handshake: its key never reaches this master.
        try FileManager.default.createDirectory(atPath: root + "/stranger/pki", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: root + "/m1/pki/minion.pub", toPath: root + "/stranger/pki/minion_master.pub")
        let stranger = try Daemon(["minion", "-c", root + "/stranger"], log: root + "/stranger.log")
        defer { stranger.stop() }
        #expect(eventually { stranger.output.contains("does not match the pinned key") }, "\(stranger.output)")
        #expect(!stranger.output.contains("authenticated"))
        #expect(try !brine([], as: "salt-key", environment: env).stdout.contains("stranger"))
        stranger.stop()

        // A stopped minion is named at the end, and the exit code says so.
        other.stop()
        var down = Run(stdout: "", stderr: "", code: -1)
        #expect(try eventually {
            down = try brine(["*", "test.ping", "-t", "2"], as: "salt", environment: env)
            return down.stdout.contains("53bf7d8db530:\n    Minion did not return. [Not connected]\n    The minions may not have all finished running")
        }, "\(down.stdout)")
        #expect(down.stdout.hasPrefix("jessie1:\n    True\n"))
        #expect(down.code == 1)
    }
}

/// Hostile bytes on the minion port close only that connection.
@Suite(.serialized) struct MasterRobustnessTests {
    let root = tempDir()
    let port = testPort()

    func rawSend(_ bytes: [UInt8]) -> Bool {
        guard let socket = try? RawSocket(port: port) else { return false }
        socket.setTimeout(5)
        socket.write(bytes)
        // The master answers garbage by closing: EOF or an error, no bytes.
        return socket.readAll(limit: 64).isEmpty
    }

    @Test func garbageClosesOnlyThatConnection() throws {
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "interface: 127.0.0.1\nret_port: \(port)\nroot_dir: \(root)\n".write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        let master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master.log")
        defer { master.stop() }
        let socketPath = root + "/var/run/brine/master/brine-master.sock"
        #expect(eventually { FileManager.default.fileExists(atPath: socketPath) }, "\(master.output)")
        #expect(rawSend([0xff, 0xff, 0xff, 0xff] + Array("oversized frame".utf8)))
        #expect(rawSend([0, 0, 0, 0]))
        #expect(rawSend([0, 0, 0, 5] + [UInt8](repeating: 7, count: 5)))  // shorter than a Noise ephemeral key
        #expect(master.process.isRunning)
        // Still serving: the CLI gets an answer.
        let answer = try brine(["*", "test.ping", "-c", root + "/etc"])
        #expect(answer.stdout == "No minions matched the target. No command was sent, no jid was assigned.\n")
        // SIGTERM: clean exit, socket and pidfile removed.
        master.stop()
        #expect(master.process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: socketPath))
        #expect(!FileManager.default.fileExists(atPath: root + "/var/run/brine-master.pid"))
    }
}

/// SIGKILL the master in the middle of a job, start it again: the minions
/// come back by themselves and the cache holds every return that arrived.
@Suite(.serialized) struct MasterCrashTests {
    let root = tempDir()
    let port = testPort()

    @Test func returnsSurviveSigkill() throws {
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/states", withIntermediateDirectories: true)
        try "interface: 127.0.0.1\nret_port: \(port)\nroot_dir: \(root)\nfile_roots:\n  base:\n    - \(root)/states\n"
            .write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        try "slow:\n  cmd.run:\n    - name: sleep {{ 0 if grains['id'] == 'fast' else 4 }}\n"
            .write(toFile: root + "/states/work.sls", atomically: true, encoding: .utf8)
        var minions: [Daemon] = []
        defer { minions.forEach { $0.stop() } }
        for id in ["fast", "slow"] {
            let dir = root + "/" + id
            try FileManager.default.createDirectory(atPath: dir + "/pki", withIntermediateDirectories: true)
            try "id: \(id)\nmaster: 127.0.0.1\nmaster_port: \(port)\nroot_dir: \(dir)\npki_dir: pki\nacceptance_wait_time: 0.2\nacceptance_wait_time_max: 0.5\n"
                .write(toFile: dir + "/minion", atomically: true, encoding: .utf8)
            // Pre-seeded keys: generated here, accepted before the minion ever connects.
            #expect(try brine(["key", "--gen-keys", "minion", "--gen-keys-dir", dir + "/pki"]).code == 0)
            try FileManager.default.createDirectory(atPath: root + "/etc/brine/pki/master/minions", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: dir + "/pki/minion.pub", toPath: root + "/etc/brine/pki/master/minions/" + id)
        }
        var master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master1.log")
        for id in ["fast", "slow"] { minions.append(try Daemon(["minion", "-c", root + "/" + id], log: root + "/\(id).log")) }
        let cli = ["-c", root + "/etc"]
        #expect(try eventually { try brine(["*", "test.ping"] + cli).code == 0 }, "\(master.output)")

        let job = try Daemon(["*", "state.apply", "work", "-t", "30"] + cli, log: root + "/job.log")
        defer { job.stop() }
        var jid = ""
        #expect(try eventually {
            let listed = try brine(["jobs", "list", "--out=json"] + cli).stdout
            guard let jobs = try? JSON.decode(listed).mapValue, let first = jobs.keys.first(where: { jobs[$0]?["Function"] == "state.apply" }) else { return false }
            jid = first
            return try brine(["jobs", "show", jid, "--out=json"] + cli).stdout.contains("\"fast\"")
        })
        kill(master.process.processIdentifier, SIGKILL)
        master.process.waitUntilExit()
        master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master2.log")
        defer { master.stop() }
        // Both minions reconnect on their own.
        #expect(try eventually(30) { try brine(["*", "test.ping"] + cli).stdout.split(separator: "\n").count == 4 }, "\(master.output)")
        let saved = try brine(["jobs", "show", jid, "--out=json"] + cli)
        let data = try JSON.decode(saved.stdout)
        #expect(data["fast"] != nil, "\(saved.stdout)")
    }
}

/// `-d` and `user`: started as root, the master detaches, writes its
/// pidfile, hands its directories to the configured user and runs as it.
@Suite(.serialized) struct MasterUserTests {
    let root = tempDir()

    @Test(.enabled(if: geteuid() == 0)) func daemonizesAndDropsRoot() throws {
        let port = testPort()
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "interface: 127.0.0.1\nret_port: \(port)\nuser: nobody\nroot_dir: \(root)\nlog_file: var/log/master\nlog_level_logfile: info\n"
            .write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        chmod(root, 0o755)
        let started = try brine(["master", "-c", root + "/etc", "-d"])
        #expect(started.code == 0)
        let pidfile = root + "/var/run/brine-master.pid"
        #expect(eventually { (try? String(contentsOfFile: root + "/var/log/master", encoding: .utf8))?.contains("as user nobody") == true })
        // Salt's log file line: time,ms [logger:line][LEVEL][pid] message.
        let logged = (try? String(contentsOfFile: root + "/var/log/master", encoding: .utf8)) ?? ""
        #expect(logged.contains(try Regex(#"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[brine\.master +:\d+ *\]\[INFO    \]\[\d+\] master listening on"#)), "\(logged)")
        let pid = Int32((try String(contentsOfFile: pidfile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(pid > 0)
        defer { kill(pid, SIGKILL) }
        // Every live thread runs as nobody (the async main thread parks itself
        // with pthread_exit, so the thread-group leader's entry is a zombie).
        let nobody = getpwnam("nobody").pointee.pw_uid
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        var live = 0
        for task in tasks {
            let status = try String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)
            if status.contains("State:\tZ") { continue }
            live += 1
            #expect(status.contains("Uid:\t\(nobody)\t\(nobody)\t\(nobody)\t\(nobody)"), "\(status)")
        }
        #expect(live > 0)
        let owner = try FileManager.default.attributesOfItem(atPath: root + "/etc/brine/pki/master/master.pem")[.ownerAccountName] as? String
        #expect(owner == "nobody")
        #expect(try brine(["key", "-L", "-c", root + "/etc"]).code == 0)
        kill(pid, SIGTERM)
        #expect(eventually { !FileManager.default.fileExists(atPath: pidfile) })
    }
}
