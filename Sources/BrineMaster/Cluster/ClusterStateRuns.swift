import BrineCluster
import BrineCore
import OrderedCollections
import PostgresNIO

/// The cluster's state runs (`brine_state_runs`, `brine_state_results`,
/// written by the master that stored each return): `brine stats`,
/// `/metrics` and the fleet page on any master show every minion's runs,
/// whichever master published them. The same figures as `JobCache`'s: ties
/// on `finished` broken by jid, names ordered by bytes (`COLLATE "C"`, as
/// SQLite), every read of one answer in one snapshot.
public struct ClusterStateRuns: StateRunStore {
    let database: ClusterDatabase

    public init(database: ClusterDatabase) {
        self.database = database
    }

    public func stats(since: Double, limit: Int) async throws -> FleetStats {
        // SQLite's LIMIT -1 is no limit; PostgreSQL refuses a negative one.
        let limit = limit < 0 ? Int.max : limit
        var answer = try await reading { connection in
            var stats = try await summary(since: since, on: connection)
            stats.mostFailing = try await counts("s.result = false", since: since, limit: limit, on: connection)
            stats.mostChanging = try await counts("s.changed", since: since, limit: limit, on: connection)
            stats.slowest = try await database.rows("""
                SELECT s.function, s.state_id, avg(s.duration_ms), max(s.duration_ms), count(*)
                FROM brine_state_results s JOIN brine_state_runs r ON s.jid = r.jid AND s.minion = r.minion
                WHERE r.finished >= \(since) GROUP BY s.function, s.state_id
                ORDER BY avg(s.duration_ms) DESC, s.state_id COLLATE "C" LIMIT \(limit)
                """, on: connection).map { row in
                let (function, id, average, maximum, runs) = try row.decode((String, String, Double, Double, Int).self)
                return FleetStats.SlowState(function: function, id: id, averageMS: average, maximumMS: maximum, runs: runs)
            }
            stats.days = try await database.rows("""
                SELECT to_char(to_timestamp(finished) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*),
                       count(*) FILTER (WHERE failed > 0), sum(changed)::int8, sum(failed)::int8
                FROM brine_state_runs WHERE finished >= \(since) GROUP BY day ORDER BY day
                """, on: connection).map { row in
                let (day, runs, failedRuns, changed, failed) = try row.decode((String, Int, Int, Int, Int).self)
                return FleetStats.Day(day: day, runs: runs, failedRuns: failedRuns, changedStates: changed, failedStates: failed)
            }
            return stats
        }
        answer.since = since
        return answer
    }

    /// Only what `/metrics` and Munin read (each minion's last run and its
    /// counts): two reads, not the state tables' aggregations, per scrape.
    public func lastRuns() async throws -> FleetStats {
        try await reading { connection in try await summary(since: 0, on: connection) }
    }

    private func summary(since: Double, on connection: PostgresConnection) async throws -> FleetStats {
        let lastRuns = try await database.rows("""
            SELECT DISTINCT ON (minion COLLATE "C") \(unescaped: Self.runColumns) FROM brine_state_runs
            WHERE finished >= \(since) ORDER BY minion COLLATE "C", finished DESC, jid DESC
            """, on: connection).map(Self.run)
        var perMinion: [String: (runs: Int, failed: Int)] = [:]
        for row in try await database.rows("""
            SELECT minion, count(*), count(*) FILTER (WHERE failed > 0) FROM brine_state_runs WHERE finished >= \(since) GROUP BY minion
            """, on: connection) {
            let (minion, runs, failed) = try row.decode((String, Int, Int).self)
            perMinion[minion] = (runs, failed)
        }
        return FleetStats(since: since, lastRuns: lastRuns, runsPerMinion: perMinion, mostFailing: [], mostChanging: [], slowest: [], days: [])
    }

    /// States by how often `condition` held for them, most often first.
    private func counts(_ condition: String, since: Double, limit: Int, on connection: PostgresConnection) async throws -> [FleetStats.StateCount] {
        try await database.rows("""
            SELECT s.function, s.state_id, min(s.sls), count(*) FILTER (WHERE \(unescaped: condition)) AS n, count(*)
            FROM brine_state_results s JOIN brine_state_runs r ON s.jid = r.jid AND s.minion = r.minion
            WHERE r.finished >= \(since) GROUP BY s.function, s.state_id
            HAVING count(*) FILTER (WHERE \(unescaped: condition)) > 0 ORDER BY n DESC, s.state_id COLLATE "C" LIMIT \(limit)
            """, on: connection).map { row in
            let (function, id, sls, count, runs) = try row.decode((String, String, String, Int, Int).self)
            return FleetStats.StateCount(function: function, id: id, sls: sls, count: count, runs: runs)
        }
    }

    public func recentRuns(perMinion: Int) async throws -> OrderedDictionary<String, [FleetStats.Run]> {
        try await reading { connection in
            var grid = OrderedDictionary<String, [FleetStats.Run]>()
            for row in try await database.rows("""
                SELECT \(unescaped: Self.runColumns) FROM (
                    SELECT *, row_number() OVER (PARTITION BY minion ORDER BY finished DESC, jid DESC) AS n FROM brine_state_runs) recent
                WHERE n <= \(perMinion) ORDER BY minion COLLATE "C", finished DESC, jid DESC
                """, on: connection) {
                let run = try Self.run(row)
                grid[run.minion, default: []].append(run)
            }
            return grid
        }
    }

    /// One read-only snapshot; nothing (an empty answer) when the tables do
    /// not exist yet (a new database no master of this version opened).
    private func reading<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T where T: EmptyAnswer {
        do {
            return try await database.transaction { connection in
                try await database.rows("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", on: connection)
                let exists = try await database.rows("SELECT to_regclass('brine_state_results') IS NOT NULL", on: connection)
                guard try exists.first?.decode(Bool.self) == true else { return T.empty }
                return try await body(connection)
            }
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

/// What a read of state runs answers when there are none to read.
protocol EmptyAnswer {
    static var empty: Self { get }
}

extension FleetStats: EmptyAnswer {
    static var empty: FleetStats {
        FleetStats(since: 0, lastRuns: [], runsPerMinion: [:], mostFailing: [], mostChanging: [], slowest: [], days: [])
    }
}

extension OrderedDictionary: EmptyAnswer {
    static var empty: OrderedDictionary { [:] }
}
