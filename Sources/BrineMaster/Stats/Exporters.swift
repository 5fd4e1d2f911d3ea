import BrineCore
import Foundation

/// Prometheus text exposition (version 0.0.4) of the fleet: per minion its
/// last state run, counters over the job cache, and every check.
public enum PrometheusExport {
    /// `runs`: the job cache's state runs, or the cluster's (every master's
    /// minions); the delivery counters are this master's job cache's.
    public static func render(jobs: JobCache, runs: any StateRunStore, monitor: any MonitorStore) async throws -> String {
        let stats = try await runs.lastRuns()
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                let labels = sample.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
                out += "\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(number(sample.value))\n"
            }
        }
        let last = stats.lastRuns
        family("brine_state_run_duration_seconds", "gauge", "Duration of the minion's last state run.",
               last.map { ([("minion", $0.minion)], $0.durationMS / 1000) })
        family("brine_state_run_timestamp_seconds", "gauge", "When the minion's last state run finished.",
               last.map { ([("minion", $0.minion)], $0.finished) })
        family("brine_states_changed", "gauge", "States that changed in the minion's last state run.",
               last.map { ([("minion", $0.minion)], Double($0.changed)) })
        family("brine_states_failed", "gauge", "States that failed in the minion's last state run.",
               last.map { ([("minion", $0.minion)], Double($0.failed)) })
        family("brine_state_runs_total", "counter", "State runs recorded in the job cache.",
               stats.runsPerMinion.sorted { $0.key < $1.key }.map { ([("minion", $0.key)], Double($0.value.runs)) })
        family("brine_state_runs_failed_total", "counter", "State runs with at least one failed state.",
               stats.runsPerMinion.sorted { $0.key < $1.key }.map { ([("minion", $0.key)], Double($0.value.failed)) })
        let delivery = try jobs.deliveryTotals()
        family("brine_job_minions_expected_total", "counter", "Minions the jobs in the job cache were published to.",
               [([], Double(delivery.expected))])
        family("brine_job_minions_returned_total", "counter", "Returns stored for the jobs in the job cache.",
               [([], Double(delivery.returned))])
        family("brine_job_minions_unreached_total", "counter",
               "Expected minions a job never reached: no connection when it went out, or a connection that could not take it.",
               delivery.unreached.sorted { $0.key < $1.key }.map { ([("reason", $0.key)], Double($0.value)) })
        let checks = try await monitor.checks().sorted { $0.name < $1.name }
        let pings = try await monitor.pingCounts()
        var lastPolls: [(labels: [(String, String)], value: Double)] = []
        for c in checks {
            if let last = try await monitor.pings(check: c.id, limit: 1).first { lastPolls.append(([("check", c.name), ("url", c.url)], last.timeMS / 1000)) }
        }
        family("brine_check_up", "gauge", "1 when the check is up, 0 when down (absent before its first poll).",
               checks.compactMap { c in c.isUp.map { ([("check", c.name), ("url", c.url)], $0 ? 1 : 0) } })
        family("brine_check_response_seconds", "gauge", "Response time of the check's last poll.",
               lastPolls)
        family("brine_check_pings_total", "counter", "Polls of the check, by result.",
               checks.flatMap { c in [([("check", c.name), ("url", c.url), ("result", "up")], Double(pings[c.id]?.up ?? 0)),
                                      ([("check", c.name), ("url", c.url), ("result", "down")], Double(pings[c.id]?.down ?? 0))] })
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}

/// A Munin plugin (`brine stats munin config|fetch|autoconf`), multigraph:
/// per minion group (the master's `nodegroups`, matched on minion ids;
/// every minion is also in `all`) the states changed and failed in each
/// minion's last state run, and its duration.
public enum MuninPlugin {
    public static func groups(minions: [String], nodegroups: [String: Value]) -> [(name: String, members: [String])] {
        var groups: [(String, [String])] = []
        for (name, target) in nodegroups.sorted(by: { $0.key < $1.key }) {
            let members = minions.filter { id in
                let matcher = Matcher(minionID: id, grains: ["id": .string(id)], pillar: .emptyMap, nodegroups: nodegroups)
                let expression = target.listValue.map { "L@" + $0.map(\.pythonString).joined(separator: ",") } ?? target.pythonString
                return (try? matcher.compound(expression)) ?? false
            }
            if !members.isEmpty { groups.append((name, members)) }
        }
        return [("all", minions)] + groups
    }

    static func field(_ s: String) -> String {
        let cleaned = String(s.map { $0.isLetter || $0.isNumber ? $0 : "_" })
        return cleaned.first.map { $0.isLetter || $0 == "_" } == true ? cleaned : "_" + cleaned
    }

    public static func config(_ stats: FleetStats, nodegroups: [String: Value]) -> String {
        var out = ""
        for group in groups(minions: stats.lastRuns.map(\.minion), nodegroups: nodegroups) {
            let g = field(group.name)
            out += "multigraph brine_states_\(g)\ngraph_title Brine states changed and failed (\(group.name))\n"
            out += "graph_vlabel states\ngraph_category brine\ngraph_info States in each minion's last state run.\n"
            for minion in group.members {
                let f = field(minion)
                out += "\(f)_changed.label \(minion) changed\n\(f)_changed.min 0\n"
                out += "\(f)_failed.label \(minion) failed\n\(f)_failed.min 0\n\(f)_failed.critical 0:0\n"
            }
            out += "multigraph brine_duration_\(g)\ngraph_title Brine state run duration (\(group.name))\n"
            out += "graph_vlabel seconds\ngraph_category brine\n"
            for minion in group.members { out += "\(field(minion)).label \(minion)\n\(field(minion)).min 0\n" }
        }
        return out
    }

    public static func fetch(_ stats: FleetStats, nodegroups: [String: Value]) -> String {
        let last = Dictionary(stats.lastRuns.map { ($0.minion, $0) }, uniquingKeysWith: { a, _ in a })
        var out = ""
        for group in groups(minions: stats.lastRuns.map(\.minion), nodegroups: nodegroups) {
            let g = field(group.name)
            out += "multigraph brine_states_\(g)\n"
            for minion in group.members {
                out += "\(field(minion))_changed.value \(last[minion]?.changed ?? 0)\n\(field(minion))_failed.value \(last[minion]?.failed ?? 0)\n"
            }
            out += "multigraph brine_duration_\(g)\n"
            for minion in group.members { out += "\(field(minion)).value \(String(format: "%.3f", (last[minion]?.durationMS ?? 0) / 1000))\n" }
        }
        return out
    }
}
