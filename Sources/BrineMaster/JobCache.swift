import BrineCore
import BrineWire
import Foundation
import GRDB

/// Jobs and their returns in SQLite (WAL) under `cachedir`. A return is
/// written before it is forwarded to the CLI, so whatever reached the
/// master survives a SIGKILL.
public final class JobCache: Sendable {
    let pool: DatabasePool

    public struct Job: Sendable {
        public var jid: String
        public var fun: String
        public var arguments: Value
        public var target: String
        public var targetType: String
        public var minions: [String]
        public var started: Double
        /// Who published it (the socket's user or the eauth user): API users see their own jobs.
        public var user: String = ""

        public init(jid: String, fun: String, arguments: Value, target: String, targetType: String, minions: [String], started: Double,
                    user: String = "")
        {
            self.jid = jid
            self.fun = fun
            self.arguments = arguments
            self.target = target
            self.targetType = targetType
            self.minions = minions
            self.started = started
            self.user = user
        }
    }

    public init(directory: String) throws {
        do {
            try PrivateDirectory.make(directory)
            // `brine jobs`/`brine stats` open the same file while the master
            // writes to it (and their set-up is a write transaction): wait for
            // the other writer rather than fail with "database is locked",
            // which lost a publish under load (MasterCrashTests in CI).
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: directory + "/jobs.sqlite", configuration: configuration)
            try pool.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS jobs (
                        jid TEXT PRIMARY KEY, fun TEXT NOT NULL, arguments BLOB NOT NULL, target TEXT NOT NULL,
                        target_type TEXT NOT NULL, minions BLOB NOT NULL, started REAL NOT NULL);
                    CREATE TABLE IF NOT EXISTS returns (
                        jid TEXT NOT NULL, minion TEXT NOT NULL, value BLOB NOT NULL, retcode INTEGER NOT NULL,
                        received REAL NOT NULL, PRIMARY KEY (jid, minion));
                    CREATE INDEX IF NOT EXISTS jobs_started ON jobs (started);
                    CREATE TABLE IF NOT EXISTS job_delivery (
                        jid TEXT NOT NULL, minion TEXT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (jid, minion));
                    CREATE TABLE IF NOT EXISTS state_runs (
                        jid TEXT NOT NULL, minion TEXT NOT NULL, fun TEXT NOT NULL, finished REAL NOT NULL,
                        duration_ms REAL NOT NULL, succeeded INTEGER NOT NULL, changed INTEGER NOT NULL,
                        failed INTEGER NOT NULL, PRIMARY KEY (jid, minion));
                    CREATE INDEX IF NOT EXISTS state_runs_finished ON state_runs (finished);
                    CREATE TABLE IF NOT EXISTS state_results (
                        jid TEXT NOT NULL, minion TEXT NOT NULL, tag TEXT NOT NULL, state_id TEXT NOT NULL,
                        function TEXT NOT NULL, sls TEXT NOT NULL, result INTEGER, changed INTEGER NOT NULL,
                        duration_ms REAL NOT NULL, PRIMARY KEY (jid, minion, tag));
                    """)
                // Job caches written before jobs had owners gain the column (empty: no owner).
                let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(jobs)").compactMap { $0["name"] as String? }
                if !columns.contains("user") { try db.execute(sql: "ALTER TABLE jobs ADD COLUMN user TEXT NOT NULL DEFAULT ''") }
                if !columns.contains("expected") { try db.execute(sql: "ALTER TABLE jobs ADD COLUMN expected INTEGER NOT NULL DEFAULT 0") }
                try LocalMonitorStore.createTables(db)
            }
        } catch {
            throw BrineError(.io, "cannot open the job cache in \(directory): \(error)")
        }
    }

    public func record(_ job: Job) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO jobs (jid, fun, arguments, target, target_type, minions, started, user, expected)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                job.jid, job.fun, Data(MessagePack.encode(job.arguments)), job.target, job.targetType,
                Data(MessagePack.encode(.list(job.minions.map(Value.string)))), job.started, job.user, job.minions.count,
            ])
        }
    }

    /// Stores a batch of returns in one transaction. A state run's return
    /// also becomes one row per state (for `brine stats`, the page and
    /// `/metrics`). A return already stored (a minion sends it again when it
    /// did not see the master's acknowledgement) is kept: nothing is counted twice.
    public func recordReturns(_ returns: [JobReturn], received: Double = Date().timeIntervalSince1970) throws {
        try pool.write { db in
            // Each job's function read once per batch (a state run's return is also split into states).
            var functions: [String: String?] = [:]
            for r in returns {
                let fun: String?
                if let known = functions[r.jid] { fun = known } else {
                    fun = try String.fetchOne(db.cachedStatement(sql: "SELECT fun FROM jobs WHERE jid = ?"), arguments: [r.jid])
                    functions[r.jid] = fun
                }
                try Self.insertReturn(db, jid: r.jid, fun: fun, minion: r.id, value: r.value, retcode: r.retcode, received: received)
            }
        }
    }

    @discardableResult
    private static func insertReturn(_ db: Database, jid: String, fun: String?, minion: String, value: Value, retcode: Int,
                                     received: Double) throws -> Bool
    {
        // Prepared once per connection (a fleet's returns each parsed it again: `sqlite3Parser` in profiles).
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO returns VALUES (?, ?, ?, ?, ?)").execute(arguments: [
            jid, minion, Data(MessagePack.encode(value)), retcode, received,
        ])
        guard db.changesCount > 0 else { return false }
        guard let fun, StateRunRecord.isStateRun(fun), let run = StateRunRecord(value)
        else { return true }
        try db.execute(sql: "INSERT OR REPLACE INTO state_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", arguments: [
            jid, minion, fun, received, run.durationMS, run.succeeded, run.changed, run.failed,
        ])
        try db.execute(sql: "DELETE FROM state_results WHERE jid = ? AND minion = ?", arguments: [jid, minion])
        for state in run.states {
            try db.execute(sql: "INSERT OR REPLACE INTO state_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", arguments: [
                jid, minion, state.tag, state.id, state.function, state.sls, state.result.map { $0 ? 1 : 0 }, state.changed ? 1 : 0,
                state.durationMS,
            ])
        }
        return true
    }

    /// Expected minions the job never reached: `not_connected` (no session
    /// when it was sent) or `unreachable` (the session could not take it).
    public func recordDelivery(jid: String, notConnected: [String], unreachable: [String]) throws {
        guard !notConnected.isEmpty || !unreachable.isEmpty else { return }
        try pool.write { db in
            for (ids, status) in [(notConnected, "not_connected"), (unreachable, "unreachable")] {
                for id in ids {
                    try db.execute(sql: "INSERT OR REPLACE INTO job_delivery VALUES (?, ?, ?)", arguments: [jid, id, status])
                }
            }
        }
    }

    /// minion → `not_connected` or `unreachable`, for the expected minions a job never reached.
    public func delivery(_ jid: String) throws -> [String: String] {
        try pool.read { db in
            var out: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT minion, status FROM job_delivery WHERE jid = ?", arguments: [jid]) {
                out[row["minion"]] = row["status"]
            }
            return out
        }
    }

    /// Over the whole job cache: minions expected, returns stored, and
    /// expected minions the jobs never reached, by reason (`/metrics`).
    public func deliveryTotals() throws -> (expected: Int, returned: Int, unreached: [String: Int]) {
        try pool.read { db in
            let expected = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(expected), 0) FROM jobs") ?? 0
            let returned = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM returns") ?? 0
            var unreached: [String: Int] = ["not_connected": 0, "unreachable": 0]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM job_delivery GROUP BY status") {
                unreached[row["status"]] = row["n"]
            }
            return (expected, returned, unreached)
        }
    }

    /// Drops jobs (and their returns) older than `hours`; `keep_jobs: 0` keeps all.
    public func expire(olderThanHours hours: Int) throws {
        guard hours > 0 else { return }
        let cutoff = Date().timeIntervalSince1970 - Double(hours) * 3600
        try pool.write { db in
            try db.execute(sql: "DELETE FROM returns WHERE jid IN (SELECT jid FROM jobs WHERE started < ?)", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM state_results WHERE jid IN (SELECT jid FROM jobs WHERE started < ?)", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM state_runs WHERE jid IN (SELECT jid FROM jobs WHERE started < ?)", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM job_delivery WHERE jid IN (SELECT jid FROM jobs WHERE started < ?)", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM jobs WHERE started < ?", arguments: [cutoff])
        }
    }

    /// The newest jobs; only `user`'s when given.
    public func jobs(limit: Int = 100, user: String? = nil) throws -> [Job] {
        try pool.read { db in
            if let user {
                return try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE user = ? ORDER BY started DESC LIMIT ?", arguments: [user, limit])
                    .map(JobCache.job)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY started DESC LIMIT ?", arguments: [limit]).map(JobCache.job)
        }
    }

    public func job(_ jid: String) throws -> Job? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE jid = ?", arguments: [jid]).map(JobCache.job)
        }
    }

    /// minion id → return value, for one job.
    public func returns(_ jid: String) throws -> [(minion: String, value: Value, retcode: Int)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT minion, value, retcode FROM returns WHERE jid = ? ORDER BY received", arguments: [jid]).map { row in
                let bytes: Data = row["value"]
                return (row["minion"], (try? MessagePack.decode(Array(bytes))) ?? .null, row["retcode"])
            }
        }
    }

    /// Returns recorded after `rowid`, oldest first (the REST API's event stream).
    public func returns(after rowid: Int64, limit: Int = 100) throws -> [(rowid: Int64, jid: String, minion: String, fun: String, value: Value, retcode: Int, user: String)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.rowid AS rowid, r.jid, r.minion, r.value, r.retcode, COALESCE(j.fun, '') AS fun,
                       COALESCE(j.user, '') AS user FROM returns r
                LEFT JOIN jobs j ON j.jid = r.jid WHERE r.rowid > ? ORDER BY r.rowid LIMIT ?
                """, arguments: [rowid, limit]).map { row in
                let bytes: Data = row["value"]
                return (row["rowid"], row["jid"], row["minion"], row["fun"], (try? MessagePack.decode(Array(bytes))) ?? .null, row["retcode"],
                        row["user"])
            }
        }
    }

    /// The newest return's rowid (where a new event stream starts).
    public func lastReturnRowID() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(rowid) FROM returns") ?? 0 }
    }

    static func job(_ row: Row) -> Job {
        let arguments: Data = row["arguments"]
        let minions: Data = row["minions"]
        return Job(jid: row["jid"], fun: row["fun"], arguments: (try? MessagePack.decode(Array(arguments))) ?? .null,
                   target: row["target"], targetType: row["target_type"],
                   minions: ((try? MessagePack.decode(Array(minions)))?.listValue ?? []).compactMap(\.stringValue),
                   started: row["started"], user: row["user"] ?? "")
    }
}
