import BrineCore
import Foundation
import GRDB

/// One poll of a check: what the monitor saw.
public struct Ping: Sendable {
    public var checkID: String
    public var timestamp: Double
    public var isUp: Bool
    public var isResponsive: Bool
    public var timeMS: Double
    public var status: Int?
    public var error: String?

    /// The uptime app's ping document.
    public var asValue: Value {
        ["check": .string(checkID), "timestamp": .string(Check.isoDate(timestamp)), "isUp": .bool(isUp),
         "isResponsive": .bool(isResponsive), "time": .int(Int(timeMS.rounded())), "status": status.map(Value.int) ?? .null,
         "error": error.map(Value.string) ?? .null]
    }
}

/// Checks, pings and up/down events: in the job cache's SQLite database
/// (`LocalMonitorStore`, one master) or in the cluster's PostgreSQL
/// (`ClusterMonitorStore`), where every master's API shows the same checks
/// and one master at a time polls them. The primitives differ; what a
/// check is and how a poll moves it is written once, below.
public protocol MonitorStore: Sendable {
    /// Every check, in no particular order.
    func allChecks() async throws -> [Check]
    func check(_ id: String) async throws -> Check?
    /// The oldest check with this URL.
    func check(url: String) async throws -> Check?
    /// Inserts or replaces the check.
    func save(_ check: Check) async throws
    /// Removes the check with its pings and events; false when there was none.
    func delete(_ id: String) async throws -> Bool
    /// Stores the ping and moves its check (`Check.recording`), atomically.
    func record(_ ping: Ping) async throws
    /// The newest pings first: of one check, or of all.
    func pings(check: String?, limit: Int, offset: Int) async throws -> [Ping]
    /// Per check id: polls up and down since it was made (counted on the
    /// check as they are recorded, so pruning old pings keeps them).
    func pingCounts() async throws -> [String: (up: Int, down: Int)]
    /// Drops at most `limit` of the pings taken before `before` (seconds
    /// since 1970), in one transaction; how many went.
    func prune(before: Double, limit: Int) async throws -> Int
}

extension MonitorStore {
    public func checks(tag: String? = nil) async throws -> [Check] {
        let all = try await allChecks().sorted { $0.created < $1.created }
        let filtered = tag.map { t in all.filter { $0.tags.contains(t) } } ?? all
        // uptime's order: down first, then most recently changed.
        return filtered.sorted { a, b in
            let ua = a.isUp == true ? 1 : 0, ub = b.isUp == true ? 1 : 0
            if ua != ub { return ua < ub }
            return (a.lastChanged ?? 0) > (b.lastChanged ?? 0)
        }
    }

    public func pings(check: String? = nil, limit: Int = 50) async throws -> [Ping] {
        try await pings(check: check, limit: limit, offset: 0)
    }

    public func create(_ fields: CheckFields, now: Double = Date().timeIntervalSince1970) async throws -> Check {
        guard let url = fields.url, !url.isEmpty else { throw BrineError(.arguments, "a check needs a url") }
        let check = Check(id: Check.newID(now: now), name: fields.name ?? url, type: try fields.resolvedKind(for: url), url: url,
                          intervalMS: try fields.intervalSeconds.map(Check.intervalMS) ?? Check.defaultIntervalMS,
                          maxTimeMS: fields.maxTimeMS ?? Check.defaultMaxTimeMS, alertThreshold: fields.alertThreshold ?? 1,
                          tags: fields.tags ?? [], isPaused: fields.isPaused ?? false, created: now)
        try check.validate()
        try await save(check)
        return check
    }

    /// Applies the given fields; nil when there is no such check.
    public func update(_ id: String, _ fields: CheckFields) async throws -> Check? {
        guard var check = try await check(id) else { return nil }
        if let url = fields.url {
            check.type = try fields.resolvedKind(for: url)
            check.url = url
        }
        if let name = fields.name { check.name = name }
        if let seconds = fields.intervalSeconds { check.intervalMS = try Check.intervalMS(seconds) }
        if let maxTime = fields.maxTimeMS { check.maxTimeMS = maxTime }
        if let threshold = fields.alertThreshold { check.alertThreshold = threshold }
        if let paused = fields.isPaused { check.isPaused = paused }
        if let tags = fields.tags { check.tags = tags }
        try check.validate()
        try await save(check)
        return check
    }

    public func counts() async throws -> (up: Int, down: Int, paused: Int, total: Int) {
        let all = try await allChecks()
        return (all.filter { $0.isUp == true && !$0.isPaused }.count, all.filter { $0.isUp == false && !$0.isPaused }.count,
                all.filter(\.isPaused).count, all.count)
    }

    /// Checks due for a poll: not paused, never tested or tested an interval ago.
    public func due(now: Double) async throws -> [Check] {
        try await allChecks().filter { c in !c.isPaused && (c.lastTested.map { now - $0 >= Double(c.intervalMS) / 1000 } ?? true) }
    }
}

extension Check {
    /// Fields may be set in code as well as parsed from a request: converted without trapping either way.
    static func intervalMS(_ seconds: Double) throws(BrineError) -> Int {
        try BoundedNumber.int(seconds * 1000, field: "interval", in: 100...Int(CheckFields.longestInterval * 1000))
    }

    func validate() throws(BrineError) {
        guard intervalMS >= 100 else { throw BrineError(.arguments, "'interval' must be at least 0.1 s") }
        guard maxTimeMS > 0 else { throw BrineError(.arguments, "'maxTime' must be positive") }
        guard alertThreshold >= 1 else { throw BrineError(.arguments, "'alertTreshold' must be at least 1") }
    }

    /// The check after `ping`: up/down time, the error count, and an
    /// up/down change (the event to record) once `alertTreshold` polls agree.
    public func recording(_ ping: Ping) -> (check: Check, event: String?) {
        var check = self
        var event: String? = nil
        if let last = check.lastTested, let wasUp = check.isUp {
            let elapsed = max(0, ping.timestamp - last) * 1000
            if wasUp { check.uptimeMS += elapsed } else { check.downtimeMS += elapsed }
        }
        check.errorCount = ping.isUp ? 0 : check.errorCount + 1
        let nowUp: Bool? = ping.isUp ? true : (check.errorCount >= check.alertThreshold ? false : check.isUp)
        if let nowUp, nowUp != check.isUp {
            check.isUp = nowUp
            check.lastChanged = ping.timestamp
            event = nowUp ? "up" : "down"
        }
        check.firstTested = check.firstTested ?? ping.timestamp
        check.lastTested = ping.timestamp
        return (check, event)
    }
}

/// The monitor of one master, in its job cache (SQLite).
public struct LocalMonitorStore: MonitorStore {
    let pool: DatabasePool

    public init(jobs: JobCache) { pool = jobs.pool }

    static func createTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS checks (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, url TEXT NOT NULL, interval_ms INTEGER NOT NULL,
                max_time_ms INTEGER NOT NULL, alert_threshold INTEGER NOT NULL, error_count INTEGER NOT NULL, tags TEXT NOT NULL,
                is_paused INTEGER NOT NULL, is_up INTEGER, last_changed REAL, first_tested REAL, last_tested REAL,
                uptime_ms REAL NOT NULL, downtime_ms REAL NOT NULL, created REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS pings (
                check_id TEXT NOT NULL, timestamp REAL NOT NULL, is_up INTEGER NOT NULL, is_responsive INTEGER NOT NULL,
                time_ms REAL NOT NULL, status INTEGER, error TEXT);
            CREATE INDEX IF NOT EXISTS pings_check ON pings (check_id, timestamp);
            CREATE TABLE IF NOT EXISTS check_events (check_id TEXT NOT NULL, timestamp REAL NOT NULL, kind TEXT NOT NULL);
            """)
        // Polls counted per check as they are recorded (pings are dropped after `ping_history`, the
        // counts go on). A table of their own, not columns of `checks`: an older master still
        // running beside a newer `brine stats` keeps inserting its checks. A cache written
        // before counts the pings it has, once.
        let counted = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'check_counts')")
        if counted != true {
            try db.execute(sql: """
                CREATE TABLE check_counts (check_id TEXT PRIMARY KEY, up INTEGER NOT NULL, down INTEGER NOT NULL);
                INSERT INTO check_counts SELECT check_id, SUM(is_up), SUM(1 - is_up) FROM pings GROUP BY check_id;
                """)
        }
    }

    public func allChecks() throws -> [Check] {
        try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM checks").map(Self.check) }
    }

    public func check(_ id: String) throws -> Check? {
        try pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM checks WHERE id = ?", arguments: [id]).map(Self.check) }
    }

    public func check(url: String) throws -> Check? {
        try pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM checks WHERE url = ? ORDER BY created LIMIT 1", arguments: [url]).map(Self.check) }
    }

    public func delete(_ id: String) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM pings WHERE check_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM check_events WHERE check_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM check_counts WHERE check_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM checks WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    /// A new check, or a changed definition; the poll state is `record`'s alone.
    public func save(_ c: Check) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO checks (id, name, type, url, interval_ms, max_time_ms, alert_threshold, error_count, tags, is_paused,
                                    is_up, last_changed, first_tested, last_tested, uptime_ms, downtime_ms, created)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type, url = excluded.url,
                    interval_ms = excluded.interval_ms, max_time_ms = excluded.max_time_ms, alert_threshold = excluded.alert_threshold,
                    tags = excluded.tags, is_paused = excluded.is_paused
                """, arguments: [
                    c.id, c.name, c.type.rawValue, c.url, c.intervalMS, c.maxTimeMS, c.alertThreshold, c.errorCount,
                    c.tagsJSON, c.isPaused, c.isUp, c.lastChanged, c.firstTested, c.lastTested,
                    c.uptimeMS, c.downtimeMS, c.created,
                ])
        }
    }

    static func check(_ row: Row) -> Check {
        Check(id: row["id"], name: row["name"], type: Check.Kind(rawValue: row["type"]) ?? .http, url: row["url"],
              intervalMS: row["interval_ms"], maxTimeMS: row["max_time_ms"], alertThreshold: row["alert_threshold"],
              errorCount: row["error_count"], tags: Check.tags(json: row["tags"]), isPaused: row["is_paused"], isUp: row["is_up"],
              lastChanged: row["last_changed"], firstTested: row["first_tested"], lastTested: row["last_tested"],
              uptimeMS: row["uptime_ms"], downtimeMS: row["downtime_ms"], created: row["created"])
    }

    public func record(_ ping: Ping) throws {
        try pool.write { db in
            guard let check = try Row.fetchOne(db, sql: "SELECT * FROM checks WHERE id = ?", arguments: [ping.checkID]).map(Self.check) else {
                return
            }
            try db.execute(sql: "INSERT INTO pings VALUES (?, ?, ?, ?, ?, ?, ?)", arguments: [
                ping.checkID, ping.timestamp, ping.isUp, ping.isResponsive, ping.timeMS, ping.status, ping.error,
            ])
            let (after, event) = check.recording(ping)
            if let event {
                try db.execute(sql: "INSERT INTO check_events VALUES (?, ?, ?)", arguments: [check.id, ping.timestamp, event])
            }
            try db.execute(sql: """
                UPDATE checks SET error_count = ?, is_up = ?, last_changed = ?, first_tested = ?, last_tested = ?, uptime_ms = ?,
                downtime_ms = ? WHERE id = ?
                """, arguments: [after.errorCount, after.isUp, after.lastChanged, after.firstTested, after.lastTested,
                                 after.uptimeMS, after.downtimeMS, after.id])
            try db.execute(sql: """
                INSERT INTO check_counts VALUES (?, ?, ?)
                ON CONFLICT (check_id) DO UPDATE SET up = up + excluded.up, down = down + excluded.down
                """, arguments: [check.id, ping.isUp ? 1 : 0, ping.isUp ? 0 : 1])
        }
    }

    public func pings(check: String?, limit: Int, offset: Int) throws -> [Ping] {
        try pool.read { db in
            let rows = try check.map {
                try Row.fetchAll(db, sql: "SELECT * FROM pings WHERE check_id = ? ORDER BY timestamp DESC LIMIT ? OFFSET ?",
                                 arguments: [$0, limit, offset])
            } ?? Row.fetchAll(db, sql: "SELECT * FROM pings ORDER BY timestamp DESC LIMIT ? OFFSET ?", arguments: [limit, offset])
            return rows.map {
                Ping(checkID: $0["check_id"], timestamp: $0["timestamp"], isUp: $0["is_up"], isResponsive: $0["is_responsive"],
                     timeMS: $0["time_ms"], status: $0["status"], error: $0["error"])
            }
        }
    }

    public func pingCounts() throws -> [String: (up: Int, down: Int)] {
        try pool.read { db in
            var counts: [String: (up: Int, down: Int)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT check_id, up, down FROM check_counts") {
                counts[row["check_id"]] = (row["up"], row["down"])
            }
            return counts
        }
    }

    public func prune(before: Double, limit: Int) throws -> Int {
        try pool.write { db in
            // No index on the time alone (a long first migration): the oldest rows come first in the table anyway.
            try db.execute(sql: "DELETE FROM pings WHERE rowid IN (SELECT rowid FROM pings WHERE timestamp < ? LIMIT ?)",
                           arguments: [before, limit])
            return db.changesCount
        }
    }
}
