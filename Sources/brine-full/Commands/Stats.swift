import ArgumentParser
import BrineCluster
import BrineCommandLine
import BrineCore
import BrineMaster
import Foundation
import Logging

/// `brine stats`: statistics over the state runs in the master's job cache
/// (the seed's salt-highstate-stats), and a Munin plugin mode. In a cluster
/// (`cluster_database`) the cluster's state runs: every master's minions.
struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Statistics over state runs: per minion, most failing, most changing and slowest states, per day.",
        discussion: """
            As a Munin plugin: brine stats munin config|fetch|autoconf (link a script running it into /etc/munin/plugins; \
            set BRINE_CONFIG_DIR in the plugin's environment). Minion groups are the master's nodegroups, plus 'all'.
            """
    )

    @OptionGroup var config: ConfigOptions
    @Option(name: .customLong("since"), help: "Period to cover: 30m, 12h, 7d, 2w.") var since = "7d"
    @Option(name: [.customLong("out"), .customLong("output")], help: "Output: text (default) or json.") var out: String?
    @Option(name: .customLong("limit"), help: "Entries per list.") var limit = 10
    @Argument(help: "munin, then config, fetch or autoconf.") var words: [String] = []

    func run() async throws {
        try await reportingErrors {
            let opts = try config.load(.master)
            if words.first == "munin" {
                try await munin(opts, mode: words.dropFirst().first ?? "fetch")
                return
            }
            guard words.isEmpty else { throw BrineError(.usage, "unknown argument '\(words[0])'", hint: "brine stats [--since 7d] [--out json] | brine stats munin config|fetch|autoconf") }
            let start = Date().timeIntervalSince1970 - (try FleetStats.parsePeriod(since))
            let stats = try await Self.withStore(opts) { [limit] in try await $0.stats(since: start, limit: limit) }
            switch out ?? "text" {
            case "json": print(JSON.encode(stats.asValue))
            case "text": print(Self.text(stats), terminator: "")
            default: throw BrineError(.usage, "unknown output '\(out ?? "")'", hint: "use text or json")
            }
        }
    }

    /// `body` on the job cache's state runs, or in a cluster the database's
    /// (read only: no schema statements, Munin runs this every five minutes).
    static func withStore(_ opts: Config, _ body: (any StateRunStore) async throws -> FleetStats) async throws -> FleetStats {
        if let database = try ClusterNode.database(opts, logger: Logger.brine("brine.stats")) {
            return try await database.withRunning(migrating: false) { try await body(ClusterStateRuns(database: $0)) }
        }
        return try await body(try JobCache(directory: MasterDaemon.jobCacheDirectory(opts)))
    }

    func munin(_ opts: Config, mode: String) async throws {
        let directory = MasterDaemon.jobCacheDirectory(opts)
        if mode == "autoconf" {
            let clustered = !(opts.string("cluster_database") ?? "").isEmpty
            print(clustered || FileManager.default.isReadableFile(atPath: directory + "/jobs.sqlite") ? "yes" : "no (no job cache at \(directory))")
            return
        }
        let stats = try await Self.withStore(opts) { try await $0.lastRuns() }
        let groups = opts.nodegroups
        switch mode {
        case "config": print("host_name \(opts.string("id") ?? CoreGrainsHost.name)\n" + MuninPlugin.config(stats, nodegroups: groups), terminator: "")
        case "fetch": print(MuninPlugin.fetch(stats, nodegroups: groups), terminator: "")
        default: throw BrineError(.usage, "unknown munin mode '\(mode)'", hint: "use config, fetch or autoconf")
        }
    }

    static func text(_ stats: FleetStats) -> String {
        let runs = stats.runsPerMinion.values.reduce(0) { $0 + $1.runs }
        var out = "State runs since \(stats.asValue["since"]?.pythonString ?? ""): \(runs) on \(stats.lastRuns.count) minion\(stats.lastRuns.count == 1 ? "" : "s")\n"
        guard runs > 0 else { return out }
        let width = max(6, stats.lastRuns.map(\.minion.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        out += "\n\(pad("minion", width))  last run             duration  ok   changed  failed  runs  failed runs\n"
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        for run in stats.lastRuns {
            let counts = stats.runsPerMinion[run.minion] ?? (0, 0)
            out += "\(pad(run.minion, width))  \(formatter.string(from: Date(timeIntervalSince1970: run.finished)))  "
                + "\(pad(String(format: "%.2f s", run.durationMS / 1000), 8))  \(pad(String(run.succeeded), 3))  \(pad(String(run.changed), 7))  "
                + "\(pad(String(run.failed), 6))  \(pad(String(counts.runs), 4))  \(counts.failed)\n"
        }
        func list(_ title: String, _ items: [FleetStats.StateCount]) {
            guard !items.isEmpty else { return }
            out += "\n\(title):\n"
            for item in items { out += "  \(item.count) of \(item.runs)  \(item.function) \(item.id)\(item.sls.isEmpty ? "" : " (\(item.sls))")\n" }
        }
        list("Most failing states", stats.mostFailing)
        list("Most changing states", stats.mostChanging)
        if !stats.slowest.isEmpty {
            out += "\nSlowest states (average):\n"
            for s in stats.slowest {
                out += "  \(String(format: "%.3f s", s.averageMS / 1000))  \(s.function) \(s.id)  (max \(String(format: "%.3f s", s.maximumMS / 1000)), \(s.runs) runs)\n"
            }
        }
        out += "\nPer day:\n"
        for day in stats.days {
            out += "  \(day.day)  \(day.runs) runs, \(day.failedRuns) with failures, \(day.changedStates) states changed, \(day.failedStates) failed\n"
        }
        return out
    }
}

enum CoreGrainsHost {
    static var name: String { ProcessInfo.processInfo.hostName }
}
