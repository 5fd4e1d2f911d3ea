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

/// Checks, pings and up/down events, in the job cache's database.
public struct MonitorStore: Sendable {
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
    }

    // MARK: Checks

    public func checks(tag: String? = nil) throws -> [Check] {
        let all = try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM checks ORDER BY created").map(Self.check) }
        let filtered = tag.map { t in all.filter { $0.tags.contains(t) } } ?? all
        // uptime's order: down first, then most recently changed.
        return filtered.sorted { a, b in
            let ua = a.isUp == true ? 1 : 0, ub = b.isUp == true ? 1 : 0
            if ua != ub { return ua < ub }
            return (a.lastChanged ?? 0) > (b.lastChanged ?? 0)
        }
    }

    public func check(_ id: String) throws -> Check? {
        try pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM checks WHERE id = ?", arguments: [id]).map(Self.check) }
    }

    public func check(url: String) throws -> Check? {
        try pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM checks WHERE url = ? ORDER BY created LIMIT 1", arguments: [url]).map(Self.check) }
    }

    public func create(_ fields: CheckFields, now: Double = Date().timeIntervalSince1970) throws -> Check {
        guard let url = fields.url, !url.isEmpty else { throw BrineError(.arguments, "a check needs a url") }
        let check = Check(id: Check.newID(now: now), name: fields.name ?? url, type: try fields.resolvedKind(for: url), url: url,
                          intervalMS: try fields.intervalSeconds.map(Self.intervalMS) ?? Check.defaultIntervalMS,
                          maxTimeMS: fields.maxTimeMS ?? Check.defaultMaxTimeMS, alertThreshold: fields.alertThreshold ?? 1,
                          tags: fields.tags ?? [], isPaused: fields.isPaused ?? false, created: now)
        try validate(check)
        try save(check)
        return check
    }

    /// Applies the given fields; nil when there is no such check.
    public func update(_ id: String, _ fields: CheckFields) throws -> Check? {
        guard var check = try check(id) else { return nil }
        if let url = fields.url {
            check.type = try fields.resolvedKind(for: url)
            check.url = url
        }
        if let name = fields.name { check.name = name }
        if let seconds = fields.intervalSeconds { check.intervalMS = try Self.intervalMS(seconds) }
        if let maxTime = fields.maxTimeMS { check.maxTimeMS = maxTime }
        if let threshold = fields.alertThreshold { check.alertThreshold = threshold }
        if let paused = fields.isPaused { check.isPaused = paused }
        if let tags = fields.tags { check.tags = tags }
        try validate(check)
        try save(check)
        return check
    }

    /// Fields may be set in code as well as parsed from a request: converted without trapping either way.
    static func intervalMS(_ seconds: Double) throws(BrineError) -> Int {
        try BoundedNumber.int(seconds * 1000, field: "interval", in: 100...Int(CheckFields.longestInterval * 1000))
    }

    func validate(_ check: Check) throws(BrineError) {
        guard check.intervalMS >= 100 else { throw BrineError(.arguments, "'interval' must be at least 0.1 s") }
        guard check.maxTimeMS > 0 else { throw BrineError(.arguments, "'maxTime' must be positive") }
        guard check.alertThreshold >= 1 else { throw BrineError(.arguments, "'alertTreshold' must be at least 1") }
    }

    /// Removes the check with its pings and events; false when there was none.
    public func delete(_ id: String) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM pings WHERE check_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM check_events WHERE check_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM checks WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func counts() throws -> (up: Int, down: Int, paused: Int, total: Int) {
        let all = try checks()
        return (all.filter { $0.isUp == true && !$0.isPaused }.count, all.filter { $0.isUp == false && !$0.isPaused }.count,
                all.filter(\.isPaused).count, all.count)
    }

    func save(_ c: Check) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", arguments: [
                c.id, c.name, c.type.rawValue, c.url, c.intervalMS, c.maxTimeMS, c.alertThreshold, c.errorCount,
                JSON.encode(.list(c.tags.map(Value.string)), indent: nil), c.isPaused, c.isUp, c.lastChanged, c.firstTested, c.lastTested,
                c.uptimeMS, c.downtimeMS, c.created,
            ])
        }
    }

    static func check(_ row: Row) -> Check {
        let tags = ((try? JSON.decode(row["tags"] as String))?.listValue ?? []).compactMap(\.stringValue)
        return Check(id: row["id"], name: row["name"], type: Check.Kind(rawValue: row["type"]) ?? .http, url: row["url"],
                     intervalMS: row["interval_ms"], maxTimeMS: row["max_time_ms"], alertThreshold: row["alert_threshold"],
                     errorCount: row["error_count"], tags: tags, isPaused: row["is_paused"], isUp: row["is_up"],
                     lastChanged: row["last_changed"], firstTested: row["first_tested"], lastTested: row["last_tested"],
                     uptimeMS: row["uptime_ms"], downtimeMS: row["downtime_ms"], created: row["created"])
    }

    // MARK: Pings

    /// Records a poll and moves the check's state: up/down time, the error
    /// count, and an up/down change once `alertTreshold` polls agree.
    public func record(_ ping: Ping) throws {
        try pool.write { db in
            guard var check = try Row.fetchOne(db, sql: "SELECT * FROM checks WHERE id = ?", arguments: [ping.checkID]).map(Self.check) else {
                return
            }
            try db.execute(sql: "INSERT INTO pings VALUES (?, ?, ?, ?, ?, ?, ?)", arguments: [
                ping.checkID, ping.timestamp, ping.isUp, ping.isResponsive, ping.timeMS, ping.status, ping.error,
            ])
            if let last = check.lastTested, let wasUp = check.isUp {
                let elapsed = max(0, ping.timestamp - last) * 1000
                if wasUp { check.uptimeMS += elapsed } else { check.downtimeMS += elapsed }
            }
            check.errorCount = ping.isUp ? 0 : check.errorCount + 1
            let nowUp: Bool? = ping.isUp ? true : (check.errorCount >= check.alertThreshold ? false : check.isUp)
            if let nowUp, nowUp != check.isUp {
                check.isUp = nowUp
                check.lastChanged = ping.timestamp
                try db.execute(sql: "INSERT INTO check_events VALUES (?, ?, ?)", arguments: [check.id, ping.timestamp, nowUp ? "up" : "down"])
            }
            check.firstTested = check.firstTested ?? ping.timestamp
            check.lastTested = ping.timestamp
            try db.execute(sql: """
                UPDATE checks SET error_count = ?, is_up = ?, last_changed = ?, first_tested = ?, last_tested = ?, uptime_ms = ?,
                downtime_ms = ? WHERE id = ?
                """, arguments: [check.errorCount, check.isUp, check.lastChanged, check.firstTested, check.lastTested,
                                 check.uptimeMS, check.downtimeMS, check.id])
        }
    }

    /// The newest pings first: of one check, or of all.
    public func pings(check: String? = nil, limit: Int = 50, offset: Int = 0) throws -> [Ping] {
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
            for row in try Row.fetchAll(db, sql: "SELECT check_id, SUM(is_up) AS up, SUM(1 - is_up) AS down FROM pings GROUP BY check_id") {
                counts[row["check_id"]] = (row["up"], row["down"])
            }
            return counts
        }
    }

    /// Checks due for a poll: not paused, never tested or tested an interval ago.
    public func due(now: Double) throws -> [Check] {
        try checks().filter { c in !c.isPaused && (c.lastTested.map { now - $0 >= Double(c.intervalMS) / 1000 } ?? true) }
    }
}
