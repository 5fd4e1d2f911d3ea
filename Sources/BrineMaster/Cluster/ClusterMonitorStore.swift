import BrineCluster
import BrineCore
import PostgresNIO

/// The monitor's checks, pings and events in the cluster's database: every
/// master's API shows and changes the same checks, and the poller runs on
/// one master at a time (`ClusterDatabase.singleton("monitor")`), so a site
/// is polled once per interval however many masters there are.
public struct ClusterMonitorStore: MonitorStore {
    let database: ClusterDatabase

    public init(database: ClusterDatabase) {
        self.database = database
    }

    static let columns = """
        id, name, type, url, interval_ms, max_time_ms, alert_threshold, error_count, tags, is_paused, is_up, last_changed,
        first_tested, last_tested, uptime_ms, downtime_ms, created
        """

    public func allChecks() async throws -> [Check] {
        try await reading("reading checks") { try await database.rows("SELECT \(unescaped: Self.columns) FROM brine_checks").map(Self.check) }
    }

    public func check(_ id: String) async throws -> Check? {
        try await reading("reading check \(id)") {
            try await database.rows("SELECT \(unescaped: Self.columns) FROM brine_checks WHERE id = \(id)").first.map(Self.check)
        }
    }

    public func check(url: String) async throws -> Check? {
        try await reading("reading checks") {
            try await database.rows("SELECT \(unescaped: Self.columns) FROM brine_checks WHERE url = \(url) ORDER BY created LIMIT 1")
                .first.map(Self.check)
        }
    }

    /// A new check, or a changed definition: the poll state (up, tested,
    /// up and down time) is `record`'s alone, so a change made while the
    /// poller records a ping loses neither.
    public func save(_ c: Check) async throws {
        try await reading("saving check \(c.id)") {
            try await database.rows("""
                INSERT INTO brine_checks (id, name, type, url, interval_ms, max_time_ms, alert_threshold, tags, is_paused, created)
                VALUES (\(c.id), \(c.name), \(c.type.rawValue), \(c.url), \(c.intervalMS), \(c.maxTimeMS), \(c.alertThreshold),
                        \(c.tagsJSON), \(c.isPaused), \(c.created))
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type, url = excluded.url,
                    interval_ms = excluded.interval_ms, max_time_ms = excluded.max_time_ms, alert_threshold = excluded.alert_threshold,
                    tags = excluded.tags, is_paused = excluded.is_paused
                """)
        }
    }

    /// Adds the checks this master's monitor had before it joined, once per
    /// master (nil when done before; `ClusterDatabase.once`): each unless the
    /// cluster has its id or its URL (two masters that watched one site add
    /// it once). How many were added.
    func adopt(_ checks: [Check]) async throws -> Int? {
        try await reading("adding this master's checks to the cluster") {
            try await database.once("checks") { connection in
                var added = 0
                for c in checks.sorted(by: { $0.created < $1.created }) {
                    added += try await database.rows("""
                        INSERT INTO brine_checks (id, name, type, url, interval_ms, max_time_ms, alert_threshold, tags, is_paused, created)
                        SELECT \(c.id), \(c.name), \(c.type.rawValue), \(c.url), \(c.intervalMS), \(c.maxTimeMS), \(c.alertThreshold),
                               \(c.tagsJSON), \(c.isPaused), \(c.created)
                        WHERE NOT EXISTS (SELECT 1 FROM brine_checks WHERE url = \(c.url))
                        ON CONFLICT (id) DO NOTHING RETURNING id
                        """, on: connection).count
                }
                return added
            }
        }
    }

    public func delete(_ id: String) async throws -> Bool {
        try await reading("deleting check \(id)") {
            // Pings and events go with it (ON DELETE CASCADE).
            try await !database.rows("DELETE FROM brine_checks WHERE id = \(id) RETURNING id").isEmpty
        }
    }

    public func record(_ ping: Ping) async throws {
        try await reading("recording a poll of \(ping.checkID)") {
            try await database.transaction { connection in
                // Locked: a second poller (a master taking over) cannot interleave its update.
                let rows = try await database.rows("SELECT \(unescaped: Self.columns) FROM brine_checks WHERE id = \(ping.checkID) FOR UPDATE",
                                                   on: connection)
                guard let check = try rows.first.map(Self.check) else { return }
                try await database.rows("""
                    INSERT INTO brine_pings (check_id, timestamp, is_up, is_responsive, time_ms, status, error)
                    VALUES (\(ping.checkID), \(ping.timestamp), \(ping.isUp), \(ping.isResponsive), \(ping.timeMS), \(ping.status), \(ping.error))
                    """, on: connection)
                let (after, event) = check.recording(ping)
                if let event {
                    try await database.rows("INSERT INTO brine_check_events VALUES (\(check.id), \(ping.timestamp), \(event))", on: connection)
                }
                try await database.rows("""
                    UPDATE brine_checks SET error_count = \(after.errorCount), is_up = \(after.isUp), last_changed = \(after.lastChanged),
                        first_tested = \(after.firstTested), last_tested = \(after.lastTested), uptime_ms = \(after.uptimeMS),
                        downtime_ms = \(after.downtimeMS)
                    WHERE id = \(check.id)
                    """, on: connection)
                try await database.rows("""
                    INSERT INTO brine_check_counts VALUES (\(check.id), \(ping.isUp ? 1 : 0), \(ping.isUp ? 0 : 1))
                    ON CONFLICT (check_id) DO UPDATE SET up = brine_check_counts.up + excluded.up, down = brine_check_counts.down + excluded.down
                    """, on: connection)
            }
        }
    }

    public func pings(check: String?, limit: Int, offset: Int) async throws -> [Ping] {
        try await reading("reading pings") {
            try await database.rows("""
                SELECT check_id, timestamp, is_up, is_responsive, time_ms, status, error FROM brine_pings
                WHERE \(check)::text IS NULL OR check_id = \(check) ORDER BY timestamp DESC LIMIT \(limit) OFFSET \(offset)
                """).map { row in
                let (id, timestamp, isUp, isResponsive, timeMS, status, error) = try row.decode((String, Double, Bool, Bool, Double, Int?, String?).self)
                return Ping(checkID: id, timestamp: timestamp, isUp: isUp, isResponsive: isResponsive, timeMS: timeMS, status: status, error: error)
            }
        }
    }

    public func pingCounts() async throws -> [String: (up: Int, down: Int)] {
        try await reading("counting pings") {
            var counts: [String: (up: Int, down: Int)] = [:]
            for row in try await database.rows("SELECT check_id, up, down FROM brine_check_counts") {
                let (id, up, down) = try row.decode((String, Int, Int).self)
                counts[id] = (up, down)
            }
            return counts
        }
    }

    public func prune(before: Double, limit: Int) async throws -> Int {
        try await reading("dropping old pings") {
            try await database.rows("""
                WITH gone AS (DELETE FROM brine_pings WHERE ctid IN (SELECT ctid FROM brine_pings WHERE timestamp < \(before) LIMIT \(limit))
                              RETURNING 1)
                SELECT count(*) FROM gone
                """).first?.decode(Int.self) ?? 0
        }
    }

    static func check(_ row: PostgresRow) throws -> Check {
        let cells = row.makeRandomAccess()
        return Check(id: try cells["id"].decode(String.self), name: try cells["name"].decode(String.self),
                     type: Check.Kind(rawValue: try cells["type"].decode(String.self)) ?? .http, url: try cells["url"].decode(String.self),
                     intervalMS: try cells["interval_ms"].decode(Int.self), maxTimeMS: try cells["max_time_ms"].decode(Int.self),
                     alertThreshold: try cells["alert_threshold"].decode(Int.self), errorCount: try cells["error_count"].decode(Int.self),
                     tags: Check.tags(json: try cells["tags"].decode(String.self)), isPaused: try cells["is_paused"].decode(Bool.self),
                     isUp: try cells["is_up"].decode(Bool?.self), lastChanged: try cells["last_changed"].decode(Double?.self),
                     firstTested: try cells["first_tested"].decode(Double?.self), lastTested: try cells["last_tested"].decode(Double?.self),
                     uptimeMS: try cells["uptime_ms"].decode(Double.self), downtimeMS: try cells["downtime_ms"].decode(Double.self),
                     created: try cells["created"].decode(Double.self))
    }

    /// The database's errors, named for the client.
    @discardableResult
    private func reading<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw ClusterError(what, error)
        }
    }
}
