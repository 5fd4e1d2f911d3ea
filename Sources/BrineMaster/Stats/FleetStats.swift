import BrineCore
import Foundation
import GRDB
import OrderedCollections

/// Statistics over the state runs in the job cache (salt-highstate-stats):
/// which minions and states fail or change, how long they take, and how
/// that moves over time.
public struct FleetStats: Sendable {
    public struct Run: Sendable {
        public var jid: String
        public var minion: String
        public var fun: String
        public var finished: Double
        public var durationMS: Double
        public var succeeded: Int
        public var changed: Int
        public var failed: Int

        public var outcome: String { failed > 0 ? "failed" : changed > 0 ? "changed" : "ok" }
    }

    public struct StateCount: Sendable {
        public var function: String
        public var id: String
        public var sls: String
        public var count: Int
        public var runs: Int
    }

    public struct SlowState: Sendable {
        public var function: String
        public var id: String
        public var averageMS: Double
        public var maximumMS: Double
        public var runs: Int
    }

    public struct Day: Sendable {
        public var day: String
        public var runs: Int
        public var failedRuns: Int
        public var changedStates: Int
        public var failedStates: Int
    }

    public var since: Double
    /// Each minion's latest state run.
    public var lastRuns: [Run]
    public var runsPerMinion: [String: (runs: Int, failed: Int)]
    public var mostFailing: [StateCount]
    public var mostChanging: [StateCount]
    public var slowest: [SlowState]
    public var days: [Day]

    public var asValue: Value {
        var minions = OrderedDictionary<String, Value>()
        for run in lastRuns {
            let counts = runsPerMinion[run.minion] ?? (0, 0)
            minions[run.minion] = [
                "last_run": ["jid": .string(run.jid), "function": .string(run.fun), "finished": .string(FleetStats.isoTime(run.finished)),
                             "duration_ms": .float(run.durationMS), "succeeded": .int(run.succeeded), "changed": .int(run.changed),
                             "failed": .int(run.failed)],
                "runs": .int(counts.runs), "failed_runs": .int(counts.failed),
            ]
        }
        func counted(_ list: [StateCount]) -> Value {
            .list(list.map { ["function": .string($0.function), "id": .string($0.id), "sls": .string($0.sls), "count": .int($0.count),
                              "runs": .int($0.runs)] })
        }
        return [
            "since": .string(FleetStats.isoTime(since)), "minions": .map(minions),
            "most_failing": counted(mostFailing), "most_changing": counted(mostChanging),
            "slowest": .list(slowest.map { ["function": .string($0.function), "id": .string($0.id), "average_ms": .float(($0.averageMS * 1000).rounded() / 1000),
                                            "max_ms": .float($0.maximumMS), "runs": .int($0.runs)] }),
            "days": .list(days.map { ["day": .string($0.day), "runs": .int($0.runs), "failed_runs": .int($0.failedRuns),
                                      "changed_states": .int($0.changedStates), "failed_states": .int($0.failedStates)] }),
        ]
    }

    static func isoTime(_ t: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: t))
    }

    /// `7d`, `12h`, `30m`, `2w` → seconds.
    public static func parsePeriod(_ text: String) throws(BrineError) -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        guard let unit = text.last, let scale = units[unit], let amount = Double(text.dropLast()), amount >= 0 else {
            throw BrineError(.usage, "'\(text)' is not a period", hint: "use a number and a unit: 30m, 12h, 7d, 2w")
        }
        return amount * scale
    }
}

extension JobCache {
    /// Statistics over the state runs finished since `since` (epoch seconds).
    public func stats(since: Double, limit: Int = 10) throws -> FleetStats {
        try pool.read { db in
            let runRows = try Row.fetchAll(db, sql: """
                SELECT r.* FROM state_runs r JOIN (SELECT minion, MAX(finished) AS f FROM state_runs WHERE finished >= ? GROUP BY minion) l
                ON r.minion = l.minion AND r.finished = l.f ORDER BY r.minion
                """, arguments: [since])
            var perMinion: [String: (runs: Int, failed: Int)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT minion, COUNT(*) AS runs, SUM(failed > 0) AS failed FROM state_runs WHERE finished >= ? GROUP BY minion
                """, arguments: [since])
            {
                perMinion[row["minion"]] = (row["runs"], row["failed"])
            }
            /// States by how often `condition` held for them, most often first.
            func counts(_ condition: String) throws -> [FleetStats.StateCount] {
                try Row.fetchAll(db, sql: """
                    SELECT s.function, s.state_id, s.sls, SUM(\(condition)) AS n, COUNT(*) AS runs
                    FROM state_results s JOIN state_runs r ON s.jid = r.jid AND s.minion = r.minion
                    WHERE r.finished >= ? GROUP BY s.function, s.state_id HAVING n > 0 ORDER BY n DESC, s.state_id LIMIT ?
                    """, arguments: [since, limit]).map {
                    FleetStats.StateCount(function: $0["function"], id: $0["state_id"], sls: $0["sls"], count: $0["n"], runs: $0["runs"])
                }
            }
            let slowest = try Row.fetchAll(db, sql: """
                SELECT s.function, s.state_id, AVG(s.duration_ms) AS avg, MAX(s.duration_ms) AS max, COUNT(*) AS runs
                FROM state_results s JOIN state_runs r ON s.jid = r.jid AND s.minion = r.minion
                WHERE r.finished >= ? GROUP BY s.function, s.state_id ORDER BY avg DESC, s.state_id LIMIT ?
                """, arguments: [since, limit]).map {
                FleetStats.SlowState(function: $0["function"], id: $0["state_id"], averageMS: $0["avg"], maximumMS: $0["max"], runs: $0["runs"])
            }
            let days = try Row.fetchAll(db, sql: """
                SELECT date(finished, 'unixepoch') AS day, COUNT(*) AS runs, SUM(failed > 0) AS failed_runs,
                SUM(changed) AS changed, SUM(failed) AS failed FROM state_runs WHERE finished >= ? GROUP BY day ORDER BY day
                """, arguments: [since]).map {
                FleetStats.Day(day: $0["day"], runs: $0["runs"], failedRuns: $0["failed_runs"], changedStates: $0["changed"], failedStates: $0["failed"])
            }
            return FleetStats(since: since, lastRuns: runRows.map(Self.run), runsPerMinion: perMinion, mostFailing: try counts("s.result = 0"),
                              mostChanging: try counts("s.changed"), slowest: slowest, days: days)
        }
    }

    /// Each minion's latest `perMinion` state runs, newest first (the page's grid).
    public func recentRuns(perMinion: Int) throws -> OrderedDictionary<String, [FleetStats.Run]> {
        try pool.read { db in
            var grid = OrderedDictionary<String, [FleetStats.Run]>()
            for row in try Row.fetchAll(db, sql: """
                SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY minion ORDER BY finished DESC) AS n FROM state_runs)
                WHERE n <= ? ORDER BY minion, finished DESC
                """, arguments: [perMinion])
            {
                let run = Self.run(row)
                grid[run.minion, default: []].append(run)
            }
            return grid
        }
    }

    static func run(_ row: Row) -> FleetStats.Run {
        FleetStats.Run(jid: row["jid"], minion: row["minion"], fun: row["fun"], finished: row["finished"], durationMS: row["duration_ms"],
                       succeeded: row["succeeded"], changed: row["changed"], failed: row["failed"])
    }
}
