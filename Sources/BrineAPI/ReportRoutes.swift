import BrineCore
import BrineMaster
import Foundation
import Hummingbird

/// Statistics (`/api/stats`), Prometheus (`/metrics`) and the fleet page (`/`).
struct ReportRoutes: Sendable {
    let jobs: JobCache
    /// The job cache's state runs, or the cluster's.
    let runs: any StateRunStore
    let monitor: any MonitorStore

    func add(to router: Router<MasterRequestContext>) {
        router.get("api/stats") { request, _ in
            do {
                let period = try FleetStats.parsePeriod(request.uri.queryParameters.get("since") ?? "7d")
                return Answer.json(try await runs.stats(since: Date().timeIntervalSince1970 - period, limit: 10).asValue)
            } catch let error as BrineError {
                return Answer.error(error.message, status: .badRequest)
            }
        }
        router.get("metrics") { _, _ in
            Answer.text(try await PrometheusExport.render(jobs: jobs, runs: runs, monitor: monitor), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/") { _, _ in
            Answer.text(try await FleetPage.render(runs: runs, monitor: monitor), contentType: "text/html; charset=utf-8")
        }
    }
}

/// The fleet at a glance: one row per minion, one cell per recent state
/// run coloured failed / changed / ok; then each check's recent polls.
enum FleetPage {
    static let runs = 12

    static func render(runs store: any StateRunStore, monitor: any MonitorStore) async throws -> String {
        let grid = try await store.recentRuns(perMinion: runs)
        let checks = try await monitor.checks().sorted { $0.name < $1.name }
        var html = """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Brine fleet</title>
            <style>
            body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
            h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
            table { border-collapse: collapse; } td, th { padding: 4px 8px; text-align: left; }
            td.cell { width: 22px; height: 22px; padding: 0; border: 2px solid #fff; }
            .failed { background: #d9534f; } .changed { background: #f0ad4e; } .ok { background: #5cb85c; }
            .up { background: #5cb85c; } .down { background: #d9534f; } .none { background: #ddd; }
            .legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; }
            </style></head><body>
            <h1>Brine fleet</h1>
            <p class="legend">State runs, newest first:<span class="failed"></span>failed<span class="changed"></span>changed<span class="ok"></span>ok</p>
            <table id="runs"><tr><th>minion</th><th>last run</th><th colspan="\(runs)">runs</th></tr>

            """
        for (minion, list) in grid {
            let last = list.first
            html += "<tr><td>\(escape(minion))</td><td>\(last.map { "\($0.succeeded) ok, \($0.changed) changed, \($0.failed) failed, \(String(format: "%.1f", $0.durationMS / 1000)) s" } ?? "")</td>"
            for run in list {
                html += "<td class=\"cell \(run.outcome)\" title=\"\(escape(run.jid)) \(escape(run.fun)): \(run.changed) changed, \(run.failed) failed\"></td>"
            }
            html += String(repeating: "<td class=\"cell none\"></td>", count: runs - list.count) + "</tr>\n"
        }
        if grid.isEmpty { html += "<tr><td colspan=\"\(runs + 2)\">No state runs in the job cache yet.</td></tr>\n" }
        html += "</table>\n<h2>Checks</h2>\n<table id=\"checks\"><tr><th>check</th><th>url</th><th>state</th><th>qos</th><th colspan=\"\(runs)\">polls</th></tr>\n"
        for check in checks {
            let pings = try await monitor.pings(check: check.id, limit: runs)
            let state = check.isPaused ? "paused" : check.isUp.map { $0 ? "up" : "down" } ?? "not polled"
            let qos = check.asValue["qos"]?.doubleValue.map { String(format: "%.2f %%", $0) } ?? ""
            html += "<tr><td>\(escape(check.name))</td><td>\(escape(check.url))</td><td>\(state)</td><td>\(qos)</td>"
            for ping in pings {
                html += "<td class=\"cell \(ping.isUp ? "up" : "down")\" title=\"\(Int(ping.timeMS)) ms \(escape(ping.error ?? ""))\"></td>"
            }
            html += String(repeating: "<td class=\"cell none\"></td>", count: runs - pings.count) + "</tr>\n"
        }
        if checks.isEmpty { html += "<tr><td colspan=\"\(runs + 4)\">No checks.</td></tr>\n" }
        return html + "</table>\n</body></html>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
