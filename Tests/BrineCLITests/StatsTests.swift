import BrineCore
import BrineModules
import Foundation
import Testing

/// Statistics from real state runs: a master, three minions in two
/// nodegroups, the highstate applied three times; `brine stats`, Munin,
/// Prometheus and the fleet page must agree with the returns.
@Suite(.serialized) struct StatsTests {
    let master = MonitorMaster()

    func writeTree() throws {
        try master.write(extra: "auto_accept: True\nnodegroups:\n  web: 'L@web1,web2'\n  db: db*\n")
        try "base:\n  '*':\n    - common\n".write(toFile: master.root + "/states/top.sls", atomically: true, encoding: .utf8)
        try """
            always:
              cmd.run:
                - name: echo changed every time
            marker:
              file.managed:
                - name: \(master.root)/out/{{ grains['id'] }}.marker
                - makedirs: True
                - contents: applied
            {% if grains['id'] == 'db1' %}
            broken:
              cmd.run:
                - name: exit 3
            {% endif %}
            """.write(toFile: master.root + "/states/common.sls", atomically: true, encoding: .utf8)
        for id in ["web1", "web2", "db1"] {
            try FileManager.default.createDirectory(atPath: master.root + "/" + id, withIntermediateDirectories: true)
            try "id: \(id)\nmaster: 127.0.0.1\nmaster_port: \(master.retPort)\nroot_dir: \(master.root)/\(id)\nacceptance_wait_time: 0.3\n"
                .write(toFile: master.root + "/\(id)/minion", atomically: true, encoding: .utf8)
        }
    }

    /// "key.value N" lines of a Munin fetch, per multigraph.
    static func parseMunin(_ text: String) -> [String: [String: Double]] {
        var graphs: [String: [String: Double]] = [:]
        var current = ""
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 1).map(String.init)
            if words.first == "multigraph" { current = words.count > 1 ? words[1] : "" } else if words.count == 2, words[0].hasSuffix(".value") {
                graphs[current, default: [:]][String(words[0].dropLast(".value".count))] = Double(words[1])
            }
        }
        return graphs
    }

    @Test func statisticsMatchTheReturns() throws {
        try writeTree()
        let daemon = try master.start()
        defer { daemon.stop() }
        var minions: [Daemon] = []
        defer { for m in minions { m.stop() } }
        for id in ["web1", "web2", "db1"] { minions.append(try Daemon(["minion", "-c", master.root + "/" + id], log: master.root + "/\(id).log")) }
        #expect(eventually { (try? brine(["*", "test.ping", "--out", "txt"], environment: master.env))?.stdout.split(separator: "\n").count == 3 })

        var last: Value = .null
        for _ in 1...3 {
            let run = try brine(["*", "state.apply", "--out", "json", "--static"], environment: master.env)
            last = try JSON.decode(run.stdout)
        }
        // What the last returns say, per minion.
        for id in ["web1", "web2", "db1"] {
            #expect(last[id]?.mapValue?.count == (id == "db1" ? 3 : 2), "\(last)")
        }

        let json = try brine(["stats", "--out", "json"], environment: master.env)
        #expect(json.code == 0, "\(json.stderr)")
        let stats = try JSON.decode(json.stdout)
        for id in ["web1", "web2", "db1"] {
            let states = last[id]?.mapValue?.values.map { $0 } ?? []
            let expected: Value = [
                "succeeded": .int(states.filter { $0["result"] != false }.count),
                "changed": .int(states.filter { !($0["changes"]?.mapValue?.isEmpty ?? true) }.count),
                "failed": .int(states.filter { $0["result"] == false }.count),
            ]
            let lastRun = stats["minions"]?[id]?["last_run"]
            #expect(lastRun?["succeeded"] == expected["succeeded"] && lastRun?["changed"] == expected["changed"]
                    && lastRun?["failed"] == expected["failed"], "\(id): \(String(describing: lastRun)) vs \(expected)")
            #expect(stats["minions"]?[id]?["runs"] == 3)
            #expect(stats["minions"]?[id]?["failed_runs"] == (id == "db1" ? 3 : 0))
        }
        #expect(stats["most_failing"]?[0]?["id"] == "broken" && stats["most_failing"]?[0]?["count"] == 3)
        #expect(stats["most_changing"]?[0]?["id"] == "always" && stats["most_changing"]?[0]?["count"] == 9, "\(stats["most_changing"] ?? .null)")
        // The marker changed once per minion, on the first run only.
        #expect(stats["most_changing"]?.listValue?.first { $0["id"] == "marker" }?["count"] == 3)
        #expect(stats["days"]?[0]?["runs"] == 9 && stats["days"]?[0]?["failed_runs"] == 3)

        let text = try brine(["stats", "--since", "1h"], environment: master.env)
        #expect(text.stdout.hasPrefix("State runs since "), "\(text.stdout)")
        #expect(text.stdout.contains("9 on 3 minions"))
        #expect(text.stdout.contains("Most failing states:\n  3 of 3  cmd.run broken (common)\n"), "\(text.stdout)")
        #expect(try brine(["stats", "--since", "soon"], environment: master.env).stderr.contains("'soon' is not a period"))

        // Munin, parsed back.
        let config = try brine(["stats", "munin", "config"], environment: master.env).stdout
        #expect(config.contains("multigraph brine_states_all\n") && config.contains("multigraph brine_states_web\n")
                && config.contains("multigraph brine_states_db\n"), "\(config)")
        #expect(config.contains("db1_failed.label db1 failed\n"))
        let fetched = Self.parseMunin(try brine(["stats", "munin"], environment: master.env).stdout)
        #expect(fetched["brine_states_all"]?["db1_failed"] == 1)
        #expect(fetched["brine_states_all"]?["web1_changed"] == 1)
        #expect(Set(fetched["brine_states_web"]?.keys.map { $0 } ?? []) == ["web1_changed", "web1_failed", "web2_changed", "web2_failed"])
        #expect(Set(fetched["brine_states_db"]?.keys.map { $0 } ?? []) == ["db1_changed", "db1_failed"])
        #expect(fetched["brine_duration_all"]?["web2"] != nil)
        #expect(try brine(["stats", "munin", "autoconf"], environment: master.env).stdout == "yes\n")

        // Prometheus and the page, from the master's HTTP port.
        let metrics = try HTTPClient.request("GET", master.api + "/metrics").body
        #expect(metrics.contains("brine_states_failed{minion=\"db1\"} 1\n"), "\(metrics)")
        #expect(metrics.contains("brine_state_runs_total{minion=\"web2\"} 3\n"))
        #expect(metrics.contains("brine_state_runs_failed_total{minion=\"db1\"} 3\n"))
        let apiStats = try master.get("/api/stats?since=1d")
        #expect(apiStats["minions"]?["db1"]?["runs"] == 3)
        let page = try HTTPClient.request("GET", master.api + "/").body
        #expect(page.contains("<td>db1</td>") && page.contains("<td>web1</td>"))
        #expect(page.components(separatedBy: "class=\"cell failed\"").count - 1 == 3)
        #expect(page.components(separatedBy: "class=\"cell changed\"").count - 1 == 6)

        // Checks on the page too: the master's own port (up) and a closed one (down).
        for (name, url) in [("master metrics", master.api + "/metrics"), ("closed port", "http://127.0.0.1:1/")] {
            #expect(try HTTPClient.request("PUT", master.api + "/api/checks", json: ["url": .string(url), "name": .string(name), "interval": 0.2]).status == 200)
        }
        #expect(eventually { (try? master.get("/api/pings"))?.listValue?.count ?? 0 >= 12 })
        let withChecks = try HTTPClient.request("GET", master.api + "/").body
        #expect(withChecks.contains("<td>master metrics</td>") && withChecks.contains("class=\"cell down\"") && withChecks.contains("class=\"cell up\""))
        try renderInChromium(master.api + "/")
    }

    /// The page in headless Chromium (Debian's package): its DOM has the
    /// grid, and a screenshot is a real image. BRINE_UPDATE_SCREENSHOT=1
    /// refreshes docs/fleet-page.png.
    func renderInChromium(_ url: String) throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let chromium else {
            #expect(ProcessInfo.processInfo.environment["BRINE_REQUIRE_CHROMIUM"] != "1", "chromium is not installed (scripts/setup installs it)")
            return
        }
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]
        let dom = try ProcessRunner().run(Command([chromium] + flags + ["--dump-dom", url], timeout: 120))
        #expect(dom.stdout.contains("<h1>Brine fleet</h1>"), "\(dom.stdout.prefix(300))\(dom.stderr.suffix(500))")
        #expect(dom.stdout.contains("<td>db1</td>"))
        let shot = master.root + "/fleet.png"
        let taken = try ProcessRunner().run(Command([chromium] + flags + ["--window-size=1100,520", "--screenshot=\(shot)", url], cwd: master.root, timeout: 120))
        let png = FileManager.default.contents(atPath: shot) ?? Data()
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 5000, "\(taken.stderr.suffix(500))")
        if ProcessInfo.processInfo.environment["BRINE_UPDATE_SCREENSHOT"] == "1" {
            try? FileManager.default.createDirectory(atPath: packageRoot + "/docs", withIntermediateDirectories: true)
            try png.write(to: URL(fileURLWithPath: packageRoot + "/docs/fleet-page.png"))
        }
    }
}
