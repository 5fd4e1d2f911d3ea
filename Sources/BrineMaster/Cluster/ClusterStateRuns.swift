import BrineCluster
import BrineCore
import OrderedCollections
import PostgresNIO

/// The cluster's state runs (`brine_state_runs`, `brine_state_results`,
/// written by the master that stored each return): `brine stats`,
/// `/metrics` and the fleet page on any master show every minion's runs,
/// whichever master published them. The same figures as `JobCache`'s.
public struct ClusterStateRuns: StateRunStore {
    let database: ClusterDatabase

    public init(database: ClusterDatabase) {
        self.database = database
    }

    public func stats(since: Double, limit: Int) async throws -> FleetStats {
        do {
            let lastRuns = try await database.rows("""
                SELECT DISTINCT ON (minion) \(unescaped: Self.runColumns) FROM brine_state_runs
                WHERE finished >= \(since) ORDER BY minion, finished DESC
                """).map(Self.run)
            var perMinion: [String: (runs: Int, failed: Int)] = [:]
            for row in try await database.rows("""
                SELECT minion, count(*), count(*) FILTER (WHERE failed > 0) FROM brine_state_runs WHERE finished >= \(since) GROUP BY minion
                """) {
                let (minion, runs, failed) = try row.decode((String, Int, Int).self)
                perMinion[minion] = (runs, failed)
            }
            let mostFailing = try await counts("s.result = false", since: since, limit: limit)
            let mostChanging = try await counts("s.changed", since: since, limit: limit)
            let slowest = try await database.rows("""
                SELECT s.function, s.state_id, avg(s.duration_ms), max(s.duration_ms), count(*)
                FROM brine_state_results s JOIN brine_state_runs r ON s.jid = r.jid AND s.minion = r.minion
                WHERE r.finished >= \(since) GROUP BY s.function, s.state_id ORDER BY avg(s.duration_ms) DESC, s.state_id LIMIT \(limit)
                """).map { row in
                let (function, id, average, maximum, runs) = try row.decode((String, String, Double, Double, Int).self)
                return FleetStats.SlowState(function: function, id: id, averageMS: average, maximumMS: maximum, runs: runs)
            }
            let days = try await database.rows("""
                SELECT to_char(to_timestamp(finished) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*),
                       count(*) FILTER (WHERE failed > 0), sum(changed)::int8, sum(failed)::int8
                FROM brine_state_runs WHERE finished >= \(since) GROUP BY day ORDER BY day
                """).map { row in
                let (day, runs, failedRuns, changed, failed) = try row.decode((String, Int, Int, Int, Int).self)
                return FleetStats.Day(day: day, runs: runs, failedRuns: failedRuns, changedStates: changed, failedStates: failed)
            }
            return FleetStats(since: since, lastRuns: lastRuns, runsPerMinion: perMinion, mostFailing: mostFailing,
                              mostChanging: mostChanging, slowest: slowest, days: days)
        } catch {
            throw ClusterError("reading state runs", error)
        }
    }

    /// States by how often `condition` held for them, most often first.
    private func counts(_ condition: String, since: Double, limit: Int) async throws -> [FleetStats.StateCount] {
        try await database.rows("""
            SELECT s.function, s.state_id, min(s.sls), count(*) FILTER (WHERE \(unescaped: condition)) AS n, count(*)
            FROM brine_state_results s JOIN brine_state_runs r ON s.jid = r.jid AND s.minion = r.minion
            WHERE r.finished >= \(since) GROUP BY s.function, s.state_id
            HAVING count(*) FILTER (WHERE \(unescaped: condition)) > 0 ORDER BY n DESC, s.state_id LIMIT \(limit)
            """).map { row in
            let (function, id, sls, count, runs) = try row.decode((String, String, String, Int, Int).self)
            return FleetStats.StateCount(function: function, id: id, sls: sls, count: count, runs: runs)
        }
    }

    public func recentRuns(perMinion: Int) async throws -> OrderedDictionary<String, [FleetStats.Run]> {
        do {
            var grid = OrderedDictionary<String, [FleetStats.Run]>()
            for row in try await database.rows("""
                SELECT \(unescaped: Self.runColumns) FROM (
                    SELECT *, row_number() OVER (PARTITION BY minion ORDER BY finished DESC) AS n FROM brine_state_runs) recent
                WHERE n <= \(perMinion) ORDER BY minion, finished DESC
                """) {
                let run = try Self.run(row)
                grid[run.minion, default: []].append(run)
            }
            return grid
        } catch {
            throw ClusterError("reading state runs", error)
        }
    }

    static let runColumns = "jid, minion, fun, finished, duration_ms, succeeded, changed, failed"

    static func run(_ row: PostgresRow) throws -> FleetStats.Run {
        let (jid, minion, fun, finished, duration, succeeded, changed, failed) = try row.decode((String, String, String, Double, Double, Int, Int, Int).self)
        return FleetStats.Run(jid: jid, minion: minion, fun: fun, finished: finished, durationMS: duration, succeeded: succeeded,
                              changed: changed, failed: failed)
    }
}
