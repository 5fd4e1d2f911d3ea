import Foundation
import GRDB
import Testing

@testable import BrineMaster

/// The monitor's pings are kept for `ping_history` (the uptime app's
/// three months), while each check keeps counting every poll it had
/// (`/metrics`' `brine_check_pings_total` never goes down).
@Suite struct MonitorStoreTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brine-monitor-\(UUID().uuidString)").path
    static let day = 86_400.0

    func ping(_ check: String, at timestamp: Double, up: Bool) -> Ping {
        Ping(checkID: check, timestamp: timestamp, isUp: up, isResponsive: up, timeMS: 1, status: nil, error: nil)
    }

    func newCheck(_ store: any MonitorStore, paused: Bool = false) async throws -> Check {
        var fields = CheckFields()
        fields.url = "http://127.0.0.1:1/"
        fields.isPaused = paused
        return try await store.create(fields, now: 0)
    }

    @Test func prunedPingsStayCounted() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store: any MonitorStore = LocalMonitorStore(jobs: try JobCache(directory: dir))
        let check = try await newCheck(store)
        for (days, up) in [(1.0, false), (100, true), (199, true)] {
            try await store.record(ping(check.id, at: days * Self.day, up: up))
        }
        // At most `limit` a call (the poller calls again while a batch is full).
        #expect(try await store.prune(before: 150 * Self.day, limit: 1) == 1)
        #expect(try await store.prune(before: 150 * Self.day, limit: 10) == 1)
        #expect(try await store.pings(check: check.id).map(\.timestamp) == [199 * Self.day])
        let counts = try await store.pingCounts()[check.id]
        #expect(counts?.up == 2 && counts?.down == 1, "\(String(describing: counts))")
        #expect(try await store.prune(before: 150 * Self.day, limit: 10) == 0)
    }

    /// A job cache from before the counters: its pings are counted once, when it is opened.
    @Test func aCacheWrittenBeforeCountsItsPingsOnce() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let old = try DatabaseQueue(path: dir + "/jobs.sqlite")
        try await old.write { db in
            try db.execute(sql: """
                CREATE TABLE checks (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, url TEXT NOT NULL, interval_ms INTEGER NOT NULL,
                    max_time_ms INTEGER NOT NULL, alert_threshold INTEGER NOT NULL, error_count INTEGER NOT NULL, tags TEXT NOT NULL,
                    is_paused INTEGER NOT NULL, is_up INTEGER, last_changed REAL, first_tested REAL, last_tested REAL,
                    uptime_ms REAL NOT NULL, downtime_ms REAL NOT NULL, created REAL NOT NULL);
                CREATE TABLE pings (
                    check_id TEXT NOT NULL, timestamp REAL NOT NULL, is_up INTEGER NOT NULL, is_responsive INTEGER NOT NULL,
                    time_ms REAL NOT NULL, status INTEGER, error TEXT);
                INSERT INTO checks VALUES ('c1', 'c1', 'http', 'http://127.0.0.1:1/', 60000, 1500, 1, 0, '[]', 1, 1, NULL, NULL, NULL, 0, 0, 0);
                INSERT INTO pings VALUES ('c1', 1, 1, 1, 1, NULL, NULL), ('c1', 2, 0, 0, 1, NULL, NULL), ('c1', 3, 1, 1, 1, NULL, NULL);
                """)
        }
        try old.close()
        let store: any MonitorStore = LocalMonitorStore(jobs: try JobCache(directory: dir))
        #expect(try await store.pingCounts()["c1"].map { [$0.up, $0.down] } == [2, 1])
        try await store.record(ping("c1", at: 4, up: false))
        let reopened: any MonitorStore = LocalMonitorStore(jobs: try JobCache(directory: dir))
        #expect(try await reopened.pingCounts()["c1"].map { [$0.up, $0.down] } == [2, 2])
        #expect(try await reopened.check("c1")?.name == "c1")
    }

    @Test func thePollerDropsOldPingsWhenItStarts() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store: any MonitorStore = LocalMonitorStore(jobs: try JobCache(directory: dir))
        let check = try await newCheck(store, paused: true)
        try await store.record(ping(check.id, at: Date().timeIntervalSince1970 - 3 * Self.day, up: true))
        try await store.record(ping(check.id, at: Date().timeIntervalSince1970 - 60, up: true))
        let poller = MonitorPoller(store: store, pingHistory: Self.day)
        let running = Task { await poller.run() }
        defer { running.cancel() }
        // Generous: in the whole suite the CLI tests' blocking waits hold the task pool's threads,
        // and the poller's task (this one's too) did not run for over a minute in CI.
        let deadline = Date(timeIntervalSinceNow: 300)
        while try await store.pings(check: check.id).count > 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try await store.pings(check: check.id).count == 1)
        #expect(try await store.pingCounts()[check.id]?.up == 2)
    }

    /// And again every `pruneInterval` (hourly; short here), beside the polls:
    /// a ping that turns old after the start is dropped without a restart.
    @Test func thePollerDropsOldPingsAgainWhileItRuns() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store: any MonitorStore = LocalMonitorStore(jobs: try JobCache(directory: dir))
        let check = try await newCheck(store, paused: true)
        try await store.record(ping(check.id, at: Date().timeIntervalSince1970 - 60, up: true))
        try await store.record(ping(check.id, at: Date().timeIntervalSince1970 - 3 * Self.day, up: true))
        let poller = MonitorPoller(store: store, concurrency: 1, timeout: 10, caFile: nil, pingHistory: Self.day, pruneInterval: 0.2)
        let running = Task { await poller.run() }
        defer { running.cancel() }
        // The prune at the start, then one of the later ones (300 s at most each: see above).
        for round in 1...2 {
            let deadline = Date(timeIntervalSinceNow: 300)
            while try await store.pings(check: check.id).count > 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(try await store.pings(check: check.id).count == 1, "round \(round)")
            if round == 1 { try await store.record(ping(check.id, at: Date().timeIntervalSince1970 - 2 * Self.day, up: false)) }
        }
        #expect(try await store.pingCounts()[check.id]?.up == 2)
        #expect(try await store.pingCounts()[check.id]?.down == 1)
    }
}
