import BrineCore
import BrineModules
import Foundation
import Glibc
import Testing

/// A PostgreSQL server of the test's own (initdb in a temporary directory,
/// 127.0.0.1, fsync off) with a database `brine` owned by an ordinary role
/// `brine` (no superuser: what the cluster needs).
struct ClusterPostgres {
    static var binaries: String? {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted()
        return versions.last.map { "/usr/lib/postgresql/\($0)/bin" }
    }

    static var usable: Bool {
        geteuid() == 0 && getpwnam("postgres") != nil && binaries.map { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") } == true
    }

    let dir = "/tmp/brine-cluster-pg-\(UUID().uuidString.prefix(8))"
    let port = testPort()
    var url: String { "postgresql://brine:cluster%20pw@127.0.0.1:\(port)/brine?sslmode=disable" }


    /// A shell line, its output in a file: the server pg_ctl starts keeps
    /// what it inherited open, so neither a pipe nor Foundation's Process
    /// (which waits on the child's descriptors) would ever see the end.
    func run(_ line: String) -> (code: Int32, output: String) {
        let output = dir + ".out"
        defer { unlink(output) }
        let result = try? ProcessRunner().run(Command(["/bin/sh", "-c", "cd / && (\(line)) > \(output) 2>&1 < /dev/null"]))
        return (Int32(result?.retcode ?? -1), (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    /// Makes the cluster (once), then starts it; `hba`: pg_hba.conf's lines
    /// instead of initdb's, `options`: more `-c name=value` settings.
    func start(hba: String? = nil, options: String = "") throws {
        let bin = try #require(Self.binaries)
        if !FileManager.default.fileExists(atPath: dir + "/data") {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let made = run("chown postgres: \(dir) && chmod 700 \(dir) && runuser -u postgres -- \(bin)/initdb -D \(dir)/data --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8")
            #expect(made.code == 0, "\(made.output)")
            if let hba { try hba.write(toFile: dir + "/data/pg_hba.conf", atomically: true, encoding: .utf8) }
        }
        let started = run("runuser -u postgres -- \(bin)/pg_ctl -D \(dir)/data -l \(dir)/log -w -o \"-k \(dir) -p \(port) -c listen_addresses=127.0.0.1 -c fsync=off \(options)\" start")
        #expect(started.code == 0, "\(started.output)")
    }

    /// Starts the server and makes the `brine` database: what a test of the cluster needs first.
    func startWithDatabase() throws {
        try start()
        createDatabase()
    }

    func createDatabase() {
        let made = run("""
            runuser -u postgres -- psql -h \(dir) -p \(port) -d postgres -v ON_ERROR_STOP=1 -c "CREATE ROLE brine LOGIN PASSWORD 'cluster pw'" -c "CREATE DATABASE brine OWNER brine"
            """)
        #expect(made.code == 0, "\(made.output)")
    }

    /// One statement in the cluster's database, as its superuser.
    func sql(_ statement: String) -> (code: Int32, output: String) {
        run("runuser -u postgres -- psql -h \(dir) -p \(port) -d brine -v ON_ERROR_STOP=1 -c \"\(statement)\"")
    }

    func stop(_ mode: String = "fast") {
        if let bin = Self.binaries { _ = run("runuser -u postgres -- \(bin)/pg_ctl -D \(dir)/data -m \(mode) -w stop") }
    }

    func remove() {
        stop("immediate")
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Issue 19: three masters sharing keys, jobs and returns through a real
/// PostgreSQL (`cluster_database`), real minion processes.
@Suite(.serialized, .enabled(if: ClusterPostgres.usable || ProcessInfo.processInfo.environment["BRINE_REQUIRE_POSTGRES"] == "1"))
struct ClusterTests {
    let root = tempDir()
    let names = ["a", "b", "c"]
    let ports = [testPort(), testPort(), testPort()]
    let httpPorts = [testPort(), testPort(), testPort()]

    func port(_ name: String) -> Int { ports[names.firstIndex(of: name) ?? 0] }

    /// The master's HTTP port (its monitor API).
    func api(_ name: String) -> String { "http://127.0.0.1:\(httpPorts[names.firstIndex(of: name) ?? 0])" }

    func configure(_ database: ClusterPostgres, extra: String = "") throws {
        for name in names {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            try """
                interface: 127.0.0.1
                ret_port: \(port(name))
                root_dir: \(root)/\(name)
                cluster_id: test
                cluster_pki_dir: \(root)/cluster
                cluster_database: \(database.url)
                master_id: \(name)
                log_level: info
                monitor:
                  enabled: true
                  port: \(httpPorts[names.firstIndex(of: name) ?? 0])
                \(extra)
                """.write(toFile: root + "/\(name)/master", atomically: true, encoding: .utf8)
        }
    }

    func minionConfig(_ id: String, masters: [String]) throws {
        try FileManager.default.createDirectory(atPath: root + "/" + id, withIntermediateDirectories: true)
        try """
            id: \(id)
            master: [\(masters.map { "127.0.0.1:\(port($0))" }.joined(separator: ", "))]
            master_type: failover
            root_dir: \(root)/\(id)
            acceptance_wait_time: 0.5
            acceptance_wait_time_max: 1

            """.write(toFile: root + "/\(id)/minion", atomically: true, encoding: .utf8)
    }

    /// Starts A, then (once it made the cluster's key pair) B and C.
    func startMasters() throws -> [String: Daemon] {
        var masters: [String: Daemon] = [:]
        do {
            masters["a"] = try Daemon(["master", "-c", root + "/a"], log: root + "/a.log")
            #expect(eventually(20) { FileManager.default.fileExists(atPath: root + "/cluster/cluster.pub") }, "\(masters["a"]?.output ?? "")")
            masters["b"] = try Daemon(["master", "-c", root + "/b"], log: root + "/b.log")
            masters["c"] = try Daemon(["master", "-c", root + "/c"], log: root + "/c.log")
        } catch {
            for daemon in masters.values { daemon.stop() }
            throw error
        }
        return masters
    }

    func on(_ master: String, _ words: [String]) throws -> Run {
        try brine(words, environment: ["BRINE_CONFIG_DIR": root + "/" + master])
    }

    func ping(from master: String, _ target: String, _ extra: [String] = []) throws -> Run {
        try on(master, [target, "test.ping", "--out", "txt", "-t", "5"] + extra)
    }

    @Test func threeMastersShareKeysJobsAndReturns() throws {
        let database = ClusterPostgres()
        defer {
            database.remove()
            try? FileManager.default.removeItem(atPath: root)
        }
        try database.startWithDatabase()
        try configure(database)
        let masters = try startMasters()
        defer { for daemon in masters.values { daemon.stop() } }
        func logs() -> String { names.map { "--- \($0)\n" + (masters[$0]?.output ?? "") }.joined(separator: "\n") }

        try minionConfig("m1", masters: ["b", "c"])
        try minionConfig("m2", masters: ["c", "a"])
        var minions: [String: Daemon] = [:]
        defer { for daemon in minions.values { daemon.stop() } }
        for id in ["m1", "m2"] { minions[id] = try Daemon(["minion", "-c", root + "/" + id], log: root + "/\(id).log") }

        // Keys are the cluster's: both wait, as seen from A, though they reached B and C.
        #expect(try eventually(30) { try on("a", ["key", "-l", "un"]).stdout == "Unaccepted Keys:\nm1\nm2\n" }, "\(logs())")
        // Accepted on B for the minion on C, and on A for the minion on B.
        #expect(try on("b", ["key", "-y", "-a", "m2"]).stdout.contains("Key for minion m2 accepted."))
        #expect(try on("a", ["key", "-y", "-a", "m1"]).stdout.contains("Key for minion m1 accepted."))
        #expect(try on("c", ["key", "-l", "acc"]).stdout == "Accepted Keys:\nm1\nm2\n")

        // A job from A reaches the minions on B and C, and their returns come back to A's client.
        #expect(try eventually(30) { Set(try ping(from: "a", "*").stdout.split(separator: "\n")) == ["m1: True", "m2: True"] }, "\(logs())")
        // In batches of one (`-b 1`): each batch reaches the master that has its minion.
        #expect(try eventually(60) {
            Set(try ping(from: "a", "*", ["-b", "1"]).stdout.split(separator: "\n").filter { $0.hasSuffix(": True") }) == ["m1: True", "m2: True"]
        }, "\(logs())")
        // A live master of a version before jobs went by batch (no protocol in its heartbeat) is told about.
        let older = database.sql("INSERT INTO brine_masters (name, seen, tree_digest) VALUES ('older', now() + interval '1 hour', '')")
        #expect(older.code == 0, "\(older.output)")
        #expect(eventually(60) { logs().contains("cluster: master older runs an older Brine") }, "\(logs())")
        // Grains recorded by C target m2 from B.
        #expect(try eventually(60) { try on("b", ["-G", "id:m2", "test.ping", "--out", "txt", "-t", "5"]).stdout == "m2: True\n" }, "\(logs())")
        // State runs are the cluster's: published on A for minions on B and C, counted by
        // `brine stats` on C and in /metrics on B (a master that published none of them).
        let applied = try on("a", ["*", "state.single", "test.succeed_with_changes", "name=counted", "--out", "txt", "-t", "30"])
        #expect(applied.code == 0, "\(applied.stdout)\(applied.stderr)")
        var stats: Value = .null
        #expect(try eventually(60) {
            stats = try JSON.decode(try on("c", ["stats", "--out", "json"]).stdout)
            return Set(stats["minions"]?.mapValue?.keys ?? []) == ["m1", "m2"]
        }, "\(stats)\n\(logs())")
        #expect(stats["minions"]?["m2"]?["last_run"]?["changed"] == .int(1), "\(stats)")
        #expect(stats["most_changing"]?[0]?["id"] == "counted", "\(stats)")
        let metrics = try HTTPClient.request("GET", api("b") + "/metrics").body
        #expect(metrics.contains("brine_state_runs_total{minion=\"m1\"} 1\nbrine_state_runs_total{minion=\"m2\"} 1\n"), "\(metrics)")
        // Every master's job cache is the cluster's.
        let listed = try on("c", ["jobs", "list", "--out", "json"])
        #expect(listed.stdout.contains("\"Function\": \"test.ping\""), "\(listed.stdout)")

        // The monitor's checks are the cluster's: made on A, seen on C, polled by one master at a time.
        let created = try HTTPClient.request("PUT", api("a") + "/api/checks", json: ["url": .string(api("c") + "/api/checks/count"), "interval": 0.5]).json()
        let checkID = created["_id"]?.stringValue ?? ""
        #expect(!checkID.isEmpty, "\(created)")
        #expect(try HTTPClient.request("GET", api("c") + "/api/checks/\(checkID)").json()["url"]?.stringValue == api("c") + "/api/checks/count")
        func pollCount() throws -> Int { try HTTPClient.request("GET", api("b") + "/api/pings?check=\(checkID)").json().listValue?.count ?? 0 }
        #expect(try eventually(60) { try pollCount() >= 4 }, "\(logs())")
        let pollers = names.filter { masters[$0]?.output.contains("cluster: this master runs monitor") == true }
        #expect(pollers.count == 1, "\(logs())")
        #expect(try HTTPClient.request("GET", api("b") + "/api/checks/\(checkID)").json()["isUp"] == .bool(true))
        // Hostile requests get answers and reach no query: a NUL (PostgreSQL's text refuses it) in a field or an id.
        #expect(try HTTPClient.request("PUT", api("a") + "/api/checks", json: ["url": "http://127.0.0.1/\u{0}x"]).status == 400)
        #expect(try HTTPClient.request("PUT", api("a") + "/api/checks", json: ["url": "http://127.0.0.1/", "name": "a\u{0}b"]).status == 400)
        #expect(try HTTPClient.request("GET", api("a") + "/api/checks/%00").status == 404)
        #expect(try HTTPClient.request("POST", api("a") + "/api/checks/%00", json: ["name": "x"]).status == 404)
        #expect(try HTTPClient.request("GET", api("a") + "/api/pings?check=%00").json() == .list([]))
        #expect(try HTTPClient.request("GET", api("a") + "/api/checks").json().listValue?.count == 1)

        // A job for a minion connected nowhere waits for it: delivered when it comes back.
        minions["m2"]?.stop()
        #expect(try eventually(60) { try ping(from: "a", "m2").stdout.contains("Not connected") }, "\(logs())")
        let marker = root + "/delivered-later"
        let sent = try on("a", ["m2", "cmd.run", "touch \(marker)", "-t", "2"])
        #expect(sent.stdout.contains("Not connected"), "\(sent.stdout)")
        #expect(!FileManager.default.fileExists(atPath: marker))
        // Any master's job cache says why m2 did not return.
        let waiting = try on("c", ["jobs", "list", "--out", "json"]).stdout
        let jid = try #require(try JSON.decode(waiting).mapValue?.first { $0.value["Function"] == .string("cmd.run") }?.key, "\(waiting)")
        let shown = try on("c", ["jobs", "show", jid, "--out", "txt"]).stdout
        #expect(shown.contains("m2: Minion did not return. [Not connected]"), "\(shown)")
        minions["m2"] = try Daemon(["minion", "-c", root + "/m2"], log: root + "/m2b.log")
        #expect(eventually(30) { FileManager.default.fileExists(atPath: marker) }, "\(logs())\n\(minions["m2"]?.output ?? "")")

        // SIGKILL of B: its minion answers through C.
        if let b = masters["b"] {
            kill(b.process.processIdentifier, SIGKILL)
            b.process.waitUntilExit()
        }
        #expect(try eventually(40) { try ping(from: "a", "m1").stdout == "m1: True\n" }, "\(logs())\n\(minions["m1"]?.output ?? "")")

        // The database down: a publish fails with a clear error; back up, the masters catch up and serve.
        let logLengthsBeforeRestart = masters.mapValues { $0.output.count }
        database.stop()
        let refused = try ping(from: "a", "m1")
        #expect(refused.code != 0 && refused.stderr.contains("cluster database"), "\(refused.stdout)\(refused.stderr)")
        try database.start()
        #expect(try eventually(40) { Set(try ping(from: "a", "*").stdout.split(separator: "\n")) == ["m1: True", "m2: True"] }, "\(logs())")

        // Deleted on C: closed wherever it is connected.
        #expect(try on("c", ["key", "-y", "-d", "m2"]).stdout.contains("Key for minion m2 deleted."))
        #expect(eventually(60) { logs().contains("minion m2: key no longer accepted, connection closed") }, "\(logs())")
        #expect(try ping(from: "a", "*").stdout == "m1: True\n")

        // The monitor's poller moves when its master dies (SIGKILL): the other live master takes it over.
        // The restart dropped every lock: the master that took it since holds it now.
        let runsMonitor = "cluster: this master runs monitor"
        func logged(_ name: String, since offset: Int) -> Bool { masters[name].map { String($0.output.dropFirst(offset)).contains(runsMonitor) } ?? false }
        func holders() -> [String] { ["a", "c"].filter { logged($0, since: logLengthsBeforeRestart[$0] ?? 0) } }
        #expect(eventually(20) { holders().count == 1 }, "\(logs())")
        guard let poller = holders().first, let daemon = masters[poller] else {
            Issue.record("no live master runs the monitor\n\(logs())")
            return
        }
        let survivor = poller == "a" ? "c" : "a"
        let survivorLogLength = masters[survivor]?.output.count ?? 0
        // Every poll so far made three years old: the poller that takes over drops them (ping_history, three
        // months by default), and the check's counters still count them.
        func upCount() throws -> Int {
            let metrics = try HTTPClient.request("GET", api(survivor) + "/metrics").body
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("brine_check_pings_total{") && $0.contains("result=\"up\"}") }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? -1
        }
        let aged = database.sql("UPDATE brine_pings SET timestamp = extract(epoch FROM now()) - 3 * 365 * 86400")
        #expect(aged.code == 0, "\(aged.output)")
        let counted = try upCount()
        #expect(counted >= 4)
        kill(daemon.process.processIdentifier, SIGKILL)
        daemon.process.waitUntilExit()
        #expect(eventually(20) { logged(survivor, since: survivorLogLength) }, "\(logs())")
        #expect(eventually(60) { String(masters[survivor]?.output.dropFirst(survivorLogLength) ?? "").contains("ping(s) older than") },
                "\(logs())")
        #expect(try upCount() >= counted, "\(logs())")
        func lastTested() throws -> Value? { try HTTPClient.request("GET", api(survivor) + "/api/checks/\(checkID)").json()["lastTested"] }
        let before = try lastTested()
        #expect(try eventually(60) { try lastTested() != before }, "\(logs())")
    }

    /// A master that served minions alone joins a cluster: its key becomes
    /// the cluster's (its minions pinned it), its accepted, pending and
    /// rejected keys and its monitor check the cluster's, once; what the
    /// cluster already said of an id wins; a key deleted in the cluster since
    /// stays deleted when it restarts, also when its marker file is gone (the
    /// database knows it served the cluster before).
    @Test func aMasterThatServedAloneBringsItsMinionsIntoTheCluster() throws {
        let database = ClusterPostgres()
        defer {
            database.remove()
            try? FileManager.default.removeItem(atPath: root)
        }
        try database.startWithDatabase()
        try FileManager.default.createDirectory(atPath: root + "/a", withIntermediateDirectories: true)
        try """
            interface: 127.0.0.1
            ret_port: \(port("a"))
            root_dir: \(root)/a
            log_level: info
            monitor:
              enabled: true
              port: \(httpPorts[0])

            """.write(toFile: root + "/a/master", atomically: true, encoding: .utf8)
        var alone: Daemon? = try Daemon(["master", "-c", root + "/a"], log: root + "/a-alone.log")
        defer { alone?.stop() }
        var minions: [String: Daemon] = [:]
        defer { for daemon in minions.values { daemon.stop() } }
        for id in ["m1", "m2", "m3", "m4"] {
            try minionConfig(id, masters: ["a"])
            minions[id] = try Daemon(["minion", "-c", root + "/" + id], log: root + "/\(id).log")
        }
        #expect(try eventually(30) { try on("a", ["key", "-l", "un"]).stdout == "Unaccepted Keys:\nm1\nm2\nm3\nm4\n" }, "\(alone?.output ?? "")")
        #expect(try on("a", ["key", "-y", "-a", "m1"]).code == 0)
        #expect(try on("a", ["key", "-y", "-a", "m3"]).code == 0)
        #expect(try on("a", ["key", "-y", "-r", "m2"]).code == 0)
        #expect(try eventually(30) { try ping(from: "a", "m1").stdout == "m1: True\n" }, "\(alone?.output ?? "")")
        let watched = api("a") + "/api/checks/count"
        let check = try HTTPClient.request("PUT", api("a") + "/api/checks", json: ["url": .string(watched), "interval": 60]).json()
        #expect(check["url"]?.stringValue == watched, "\(check)")
        alone?.stop()
        alone = nil

        // The cluster already has m3, under another key: its word is kept.
        try configure(database)
        #expect(try on("b", ["key", "-L"]).code == 0)  // makes the tables
        let other = database.sql("INSERT INTO brine_keys (id, state, key) VALUES ('m3', 'minions_rejected', decode(repeat('ab', 32), 'hex'))")
        #expect(other.code == 0, "\(other.output)")
        var masters = try startMasters()
        defer { for daemon in masters.values { daemon.stop() } }
        func logs() -> String { names.map { "--- \($0)\n" + (masters[$0]?.output ?? "") }.joined(separator: "\n") }

        // m1 still trusts A (the cluster's key is A's own) and answers a job from B.
        #expect(try eventually(40) { try ping(from: "b", "m1").stdout == "m1: True\n" }, "\(logs())\n\(minions["m1"]?.output ?? "")")
        #expect(try on("c", ["key", "-l", "acc"]).stdout == "Accepted Keys:\nm1\n")
        #expect(try on("c", ["key", "-l", "rej"]).stdout == "Rejected Keys:\nm2\nm3\n")
        #expect(try on("c", ["key", "-l", "un"]).stdout == "Unaccepted Keys:\nm4\n")
        #expect(masters["a"]?.output.contains("kept the cluster's section or key for m3") == true, "\(logs())")
        #expect(masters["a"]?.output.contains("added pki_dir's keys to the cluster's: 1 accepted, 1 pending, 1 rejected") == true, "\(logs())")
        // A's monitor check is the cluster's, once.
        #expect(try eventually(30) {
            try HTTPClient.request("GET", api("c") + "/api/checks").json().listValue?.compactMap { $0["url"]?.stringValue } == [watched]
        }, "\(logs())")

        // m1 gone and deleted in the cluster: a restart of A does not bring its key back.
        minions["m1"]?.stop()
        minions["m1"] = nil
        #expect(try on("c", ["key", "-y", "-d", "m1"]).stdout.contains("Key for minion m1 deleted."))
        masters["a"]?.stop()
        masters["a"] = try Daemon(["master", "-c", root + "/a"], log: root + "/a2.log")
        #expect(eventually(60) { masters["a"]?.output.contains("cluster test: master a on") == true }, "\(logs())")
        #expect(try !on("b", ["key", "-L"]).stdout.contains("m1"))
        #expect(masters["a"]?.output.contains("added pki_dir's keys") == false, "\(logs())")

        // Without its marker file and the database's record (as a master that joined before
        // this version): it served the cluster, so its pki_dir (as old as the day it joined) stays out.
        masters["a"]?.stop()
        try FileManager.default.removeItem(atPath: root + "/a/etc/brine/pki/master/cluster_keys_adopted")
        let forgotten = database.sql("DELETE FROM brine_adoptions")
        #expect(forgotten.code == 0, "\(forgotten.output)")
        masters["a"] = try Daemon(["master", "-c", root + "/a"], log: root + "/a3.log")
        #expect(eventually(60) { masters["a"]?.output.contains("cluster test: master a on") == true }, "\(logs())")
        #expect(masters["a"]?.output.contains("master a served this cluster before: pki_dir's keys are not added again") == true, "\(logs())")
        #expect(try !on("b", ["key", "-L"]).stdout.contains("m1"))
    }

    /// A fleet (a `--swarm` of 300 minions, each with the three masters in
    /// its own random order) spread over the cluster: a job from A is
    /// answered by every member, and still is after B is killed (its members
    /// move to A or C).
    @Test func aSwarmOverThreeMastersAnswersWholeThroughALostMaster() throws {
        let database = ClusterPostgres()
        defer {
            database.remove()
            try? FileManager.default.removeItem(atPath: root)
        }
        try database.startWithDatabase()
        try configure(database, extra: "auto_accept: True\n")
        var masters = try startMasters()
        defer { for daemon in masters.values { daemon.stop() } }
        func logs() -> String { names.map { "--- \($0)\n" + String(masters[$0]?.output.suffix(3000) ?? "") }.joined(separator: "\n") }

        let size = 300
        try minionConfig("s", masters: names)
        let config = try String(contentsOfFile: root + "/s/minion", encoding: .utf8)
        try (config + "random_master: True\n").write(toFile: root + "/s/minion", atomically: true, encoding: .utf8)
        let swarm = try Daemon(["minion", "-c", root + "/s", "--swarm", "\(size)"], log: root + "/s.log")
        defer { swarm.stop() }
        func answered() throws -> Int {
            try on("a", ["*", "test.ping", "--out", "txt", "-t", "10"]).stdout.split(separator: "\n").filter { $0.hasSuffix(": True") }.count
        }
        #expect(try eventually(90) { try answered() == size }, "\(logs())")
        // A state run's return with NUL in its state's names (PostgreSQL's text refuses NUL) is
        // stored, counted, and sinks nothing: the next job is answered whole.
        var hostile = try WireClient(port: port("a"), id: "hostile-state")
        let run = try startBrine(["-L", "hostile-state", "state.single", "test.succeed_with_changes", "name=x", "--out", "txt", "-t", "30"],
                                 environment: ["BRINE_CONFIG_DIR": root + "/a"], outputFile: root + "/hostile-run.txt")
        var jid: String?
        while jid == nil, let message = try hostile.receive() {
            if message["type"] == "job" { jid = message["jid"]?.stringValue }
        }
        let tag = "test_|-x\u{0}y_|-x\u{0}y_|-succeed_with_changes"
        let states: Value = .map([tag: ["result": true, "changes": ["n": 1], "__id__": "x\u{0}y", "__sls__": "s\u{0}", "duration": 1.5]])
        hostile.sendQuietly(MessagePack.encode(["type": "return", "jid": .string(jid ?? ""), "id": "hostile-state", "return": states, "retcode": 0]))
        let hostileRun = run.finish()
        #expect(hostileRun.stdout.contains("hostile-state:"), "\(hostileRun.stdout)")
        var counted: Value = .null
        #expect(try eventually(60) {
            counted = try JSON.decode(try on("b", ["stats", "--out", "json"]).stdout)
            return counted["minions"]?["hostile-state"]?["last_run"]?["changed"] == .int(1)
        }, "\(counted)")
        #expect(counted["most_changing"]?[0]?["id"] == .string("x\u{FFFD}y"), "\(counted)")
        #expect(try eventually(60) { try answered() == size }, "\(logs())")
        withExtendedLifetime(hostile) {}

        // Each master holds some of the fleet (the members' random orders spread it).
        for name in names {
            #expect(masters[name]?.output.contains("minion s-") == true, "\(name) holds no member\n\(logs())")
        }

        if let b = masters["b"] {
            kill(b.process.processIdentifier, SIGKILL)
            b.process.waitUntilExit()
        }
        masters["b"] = nil
        var last = 0
        #expect(try eventually(90) {
            last = try answered()
            return last == size
        }, "\(last) of \(size) answered after B was killed\n\(logs())")
    }
}
