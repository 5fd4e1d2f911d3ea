import BrineCore
import BrineModules
import Foundation
import Testing

/// Real HTTP servers on 127.0.0.1 for the monitor to poll: `/` answers 200,
/// `/slow` after 400 ms, `/error` 500 (Python's http.server, started and
/// stopped by the test).
final class WebServers {
    let port = testPort()
    let closedPort = testPort()
    let daemon: Process

    init(directory: String) throws {
        let script = directory + "/server.py"
        try """
            import http.server, sys, time
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    if self.path.startswith('/slow'):
                        time.sleep(0.4)
                    code = 500 if self.path.startswith('/error') else 200
                    self.send_response(code)
                    self.send_header('Content-Length', '2')
                    self.end_headers()
                    self.wfile.write(b'ok')
                def log_message(self, *args):
                    pass
            http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()
            """.write(toFile: script, atomically: true, encoding: .utf8)
        daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        daemon.arguments = [script, String(port)]
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        _ = eventually(60) { (try? HTTPClient.request("GET", "http://127.0.0.1:\(port)/", timeout: 1))?.status == 200 }
    }

    /// SIGKILL: the test runner's threads block SIGTERM, and a child
    /// started from one inherits that mask.
    func stop() {
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
    }
}

/// A master with its monitor enabled, on random loopback ports.
struct MonitorMaster {
    let root = tempDir()
    let retPort = testPort()
    let httpPort = testPort()
    var api: String { "http://127.0.0.1:\(httpPort)" }
    var env: [String: String] { ["BRINE_CONFIG_DIR": root + "/etc"] }

    func write(extra: String = "") throws {
        for dir in ["etc", "states", "pillar", "minion"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        try """
            interface: 127.0.0.1
            ret_port: \(retPort)
            root_dir: \(root)/
            monitor:
              enabled: true
              port: \(httpPort)
            file_roots:
              base: [\(root)/states]
            pillar_roots:
              base: [\(root)/pillar]
            \(extra)
            """.write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        // A masterless minion that keeps its checks in this master's monitor.
        try """
            file_client: local
            root_dir: \(root)/minion
            file_roots:
              base: [\(root)/states]
            pillar_roots:
              base: [\(root)/pillar]
            monitor:
              url: \(api)
            """.write(toFile: root + "/minion/minion", atomically: true, encoding: .utf8)
    }

    func start() throws -> Daemon {
        let master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master.log")
        #expect(eventually { (try? HTTPClient.request("GET", api + "/api/checks/count", timeout: 1))?.status == 200 }, "\(master.output)")
        return master
    }

    func call(_ words: [String]) throws -> Run {
        try brine(["call", "--local", "-c", root + "/minion"] + words)
    }

    func get(_ path: String) throws -> Value {
        try HTTPClient.request("GET", api + path).json()
    }

    func checks() throws -> [Value] { try get("/api/checks").listValue ?? [] }

    func check(_ url: String) throws -> Value? { try checks().first { $0["url"]?.stringValue == url } }
}

@Suite(.serialized) struct MonitorTests {
    let master = MonitorMaster()

    /// The seed's SLS: a check per `apache:sites` domain and per `uptime:urls` URL.
    func writeSeedTree(_ web: WebServers) throws {
        try """
            {% for domain in salt['pillar.get']('apache:sites').keys() %}
            uptime {{ domain }} (http):
              uptime.monitored:
                - name : http://{{ domain }}
            {% endfor %}

            {% for url in salt['pillar.get']('uptime:urls') %}
            uptime {{ url }}:
              uptime.monitored:
                - name : {{ url }}
            {% endfor %}
            """.write(toFile: master.root + "/states/uptime.sls", atomically: true, encoding: .utf8)
        try "base:\n  '*':\n    - sites\n".write(toFile: master.root + "/pillar/top.sls", atomically: true, encoding: .utf8)
        try """
            apache:
              sites:
                127.0.0.1:\(web.port):
                  DocumentRoot: /var/www
            uptime:
              urls:
                - http://127.0.0.1:\(web.port)/error
                - http://127.0.0.1:\(web.closedPort)/
            """.write(toFile: master.root + "/pillar/sites.sls", atomically: true, encoding: .utf8)
    }

    @Test func theSeedsStatesKeepChecksThatThePollerPolls() throws {
        try master.write()
        let web = try WebServers(directory: master.root)
        defer { web.stop() }
        let daemon = try master.start()
        defer { daemon.stop() }
        try writeSeedTree(web)

        let first = try master.call(["state.apply", "uptime"])
        #expect(first.code == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("Succeeded: 3 (changed=3)"), "\(first.stdout)")
        #expect(first.stdout.contains("Successfully added the URL http://127.0.0.1:\(web.port) to the monitor"))
        let urls = Set(try master.checks().compactMap { $0["url"]?.stringValue })
        #expect(urls == ["http://127.0.0.1:\(web.port)", "http://127.0.0.1:\(web.port)/error", "http://127.0.0.1:\(web.closedPort)/"])

        let second = try master.call(["state.apply", "uptime"])
        #expect(second.stdout.contains("Succeeded: 3\n"), "\(second.stdout)")
        #expect(second.stdout.contains("is already monitored"))

        // Unlike Salt's uptime state, a changed interval updates the check.
        let changed = try master.call(["state.single", "uptime.monitored", "name=http://127.0.0.1:\(web.port)", "interval=1", "--out", "json"])
        let ret = try JSON.decode(changed.stdout)["local"]?.mapValue?.values.first
        #expect(ret?["changes"] == ["interval": ["old": 60, "new": 1]], "\(changed.stdout)")
        #expect(try master.check("http://127.0.0.1:\(web.port)")?["interval"] == 1000)
        for url in ["http://127.0.0.1:\(web.port)/error", "http://127.0.0.1:\(web.closedPort)/"] {
            #expect(try master.call(["state.single", "monitor.http_present", "name=\(url)", "interval=1"]).code == 0)
        }
        let test = try master.call(["state.single", "monitor.http_present", "name=http://127.0.0.1:\(web.port)", "interval=2", "test=True"])
        #expect(test.stdout.contains("is going to be updated"), "\(test.stdout)")
        #expect(try master.check("http://127.0.0.1:\(web.port)")?["interval"] == 1000)

        // The poller: up, wrong status, nothing listening.
        #expect(eventually(60) { (try? master.checks())?.allSatisfy { $0["isUp"] != .null } == true }, "\(daemon.output)")
        #expect(try master.check("http://127.0.0.1:\(web.port)")?["isUp"] == true)
        let error = try master.check("http://127.0.0.1:\(web.port)/error")
        #expect(error?["isUp"] == false)
        let pings = try master.get("/api/checks/\(error?["_id"]?.stringValue ?? "")/pings").listValue ?? []
        #expect(pings.first?["status"] == 500 && pings.first?["error"] == "HTTP 500", "\(pings)")
        let closed = try master.check("http://127.0.0.1:\(web.closedPort)/")
        #expect(closed?["isUp"] == false)
        #expect(try master.get("/api/checks/count") == ["up": 1, "down": 2, "paused": 0, "total": 3])

        // absent removes the check and its pings.
        let absent = try master.call(["state.single", "monitor.absent", "name=http://127.0.0.1:\(web.closedPort)/"])
        #expect(absent.stdout.contains("Removed the check"), "\(absent.stdout)")
        #expect(try master.check("http://127.0.0.1:\(web.closedPort)/") == nil)
        #expect(try master.call(["state.single", "monitor.absent", "name=http://127.0.0.1:\(web.closedPort)/"]).stdout.contains("is not monitored"))
    }

    @Test func slowAnswersAreUpButNotResponsiveAndThresholdsDelayDown() throws {
        try master.write()
        let web = try WebServers(directory: master.root)
        defer { web.stop() }
        let daemon = try master.start()
        defer { daemon.stop() }
        let slow = try master.call(["monitor.add", "http://127.0.0.1:\(web.port)/slow", "interval=0.5", "maxTime=100", "--out", "json"])
        #expect(slow.code == 0, "\(slow.stdout)\(slow.stderr)")
        let id = try JSON.decode(slow.stdout)["local"]?["_id"]?.stringValue ?? ""
        #expect(eventually(60) { ((try? master.get("/api/checks/\(id)/pings"))?.listValue?.count ?? 0) >= 2 })
        let ping = try master.get("/api/checks/\(id)/pings").listValue?.first
        #expect(ping?["isUp"] == true && ping?["isResponsive"] == false, "\(String(describing: ping))")
        #expect((ping?["time"]?.intValue ?? 0) >= 400)

        // Three failures in a row before the check is down.
        let flaky = try master.call(["monitor.add", "http://127.0.0.1:\(web.closedPort)/", "interval=0.3", "alertTreshold=3", "--out", "json"])
        let flakyID = try JSON.decode(flaky.stdout)["local"]?["_id"]?.stringValue ?? ""
        #expect(eventually(60) { (try? master.get("/api/checks/\(flakyID)"))?["errorCount"]?.intValue ?? 0 >= 1 })
        let early = try master.get("/api/checks/\(flakyID)")
        if (early["errorCount"]?.intValue ?? 0) < 3 { #expect(early["isUp"] == .null) }
        #expect(eventually(60) { (try? master.get("/api/checks/\(flakyID)"))?["isUp"] == false })
        #expect((try master.get("/api/checks/\(flakyID)")["errorCount"]?.intValue ?? 0) >= 3)

        // The module's other functions.
        #expect(try master.call(["monitor.status", "--out", "json"]).stdout.contains("\"http://127.0.0.1:\(web.port)/slow\": \"up\""))
        #expect(try master.call(["uptime.check_exists", "http://127.0.0.1:\(web.port)/slow"]).stdout == "local:\n    True\n")
        #expect(try master.call(["uptime.checks_list", "--out", "json"]).stdout.contains("/slow"))
        let duplicate = try master.call(["uptime.create", "http://127.0.0.1:\(web.port)/slow"])
        #expect(duplicate.code != 0 && duplicate.stderr.contains("Trying to create check that already exists"), "\(duplicate.stderr)")
        #expect(try master.call(["monitor.remove", flakyID]).stdout == "local:\n    True\n")
        #expect(try master.call(["monitor.get", flakyID]).stdout == "local:\n    None\n")
    }

    @Test func theRESTAPIFollowsTheUptimeApp() throws {
        try master.write()
        let daemon = try master.start()
        defer { daemon.stop() }
        let created = try HTTPClient.request("PUT", master.api + "/api/checks",
                                             json: ["url": "http://127.0.0.1:1/", "name": "nothing", "interval": 3600, "tags": "a, b"])
        #expect(created.status == 200)
        let check = try created.json()
        let id = check["_id"]?.stringValue ?? ""
        #expect(id.count == 24)
        #expect(check["interval"] == 3_600_000 && check["maxTime"] == 1500 && check["alertTreshold"] == 1)
        #expect(check["tags"] == ["a", "b"] && check["type"] == "http" && check["isPaused"] == false)
        #expect(try master.get("/api/checks/\(id)")["name"] == "nothing")
        #expect(try master.get("/api/checks?tag=a").listValue?.count == 1)
        #expect(try master.get("/api/checks?tag=z").listValue?.isEmpty == true)

        let updated = try HTTPClient.request("POST", master.api + "/api/checks/\(id)", json: ["maxTime": 200, "isPaused": true]).json()
        #expect(updated["maxTime"] == 200 && updated["isPaused"] == true)
        #expect(try master.get("/api/checks/count") == ["up": 0, "down": 0, "paused": 1, "total": 1])
        #expect(try HTTPClient.request("GET", master.api + "/api/checks/\(id)/pause").status == 303)
        #expect(try master.get("/api/checks/\(id)")["isPaused"] == false)

        // Errors: the uptime app's codes with {error}.
        let missing = try HTTPClient.request("GET", master.api + "/api/checks/000000000000000000000000")
        let missingBody = try missing.json()
        #expect(missing.status == 404 && missingBody["error"] == "No such check")
        let noURL = try HTTPClient.request("PUT", master.api + "/api/checks", json: ["name": "x"])
        #expect(noURL.status == 400 && noURL.body.contains("a check needs a url"))
        let badType = try HTTPClient.request("PUT", master.api + "/api/checks", json: ["url": "udp://127.0.0.1:53"])
        #expect(badType.status == 400)
        let badInterval = try HTTPClient.request("POST", master.api + "/api/checks/\(id)", json: ["interval": "often"])
        #expect(badInterval.status == 400 && badInterval.body.contains("'interval' must be a number"))

        // The CLI over the same API.
        let listed = try brine(["monitor", "list"], environment: master.env)
        // Polled by now (down: nothing listens on port 1), or not yet (pending).
        #expect(listed.stdout.hasPrefix("\(id)  "), "\(listed.stdout)\(listed.stderr)")
        #expect(listed.stdout.contains("\tnothing\thttp://127.0.0.1:1/\tevery 3600 s"), "\(listed.stdout)")
        #expect(try brine(["monitor", "pause", "nothing"], environment: master.env).stdout.contains("paused"))
        #expect(try master.get("/api/checks/\(id)")["isPaused"] == true)
        #expect(try brine(["monitor", "resume", id], environment: master.env).code == 0)
        #expect(try master.get("/api/checks/\(id)")["isPaused"] == false)
        let shown = try brine(["monitor", "show", "http://127.0.0.1:1/", "--out", "json"], environment: master.env)
        #expect(try JSON.decode(shown.stdout)["check"]?["_id"]?.stringValue == id)
        let unknown = try brine(["monitor", "show", "nope"], environment: master.env)
        #expect(unknown.code == 1 && unknown.stderr.contains("no check 'nope'"))

        #expect(try HTTPClient.request("DELETE", master.api + "/api/checks/\(id)").status == 200)
        #expect(try HTTPClient.request("DELETE", master.api + "/api/checks/\(id)").status == 404)
    }

    @Test func withoutTheMonitorTheCLISaysHowToEnableIt() throws {
        try FileManager.default.createDirectory(atPath: master.root + "/etc", withIntermediateDirectories: true)
        try "interface: 127.0.0.1\n".write(toFile: master.root + "/etc/master", atomically: true, encoding: .utf8)
        let listed = try brine(["monitor", "list"], environment: master.env)
        #expect(listed.code == 1 && listed.stderr.contains("the monitor is not enabled") && listed.stderr.contains("monitor: {enabled: true}"))
    }
}
