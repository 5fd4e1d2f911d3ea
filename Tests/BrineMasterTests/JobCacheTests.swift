import Foundation
import Testing

@testable import BrineCore
@testable import BrineMaster
import BrineWire

/// The job cache is one SQLite file that the master writes while `brine jobs`
/// and `brine stats` open it from other processes.
@Suite struct JobCacheTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brine-jobcache-\(UUID().uuidString)").path

    /// Opening the cache while another connection holds the write lock waits
    /// for it instead of failing with "database is locked" (a publish was
    /// lost that way when `brine jobs list` opened the cache mid-job).
    @Test func openingWaitsForAWriter() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let master = try JobCache(directory: dir)
        let locked = DispatchSemaphore(value: 0)
        let writer = Thread {
            try? master.pool.write { _ in
                locked.signal()
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        writer.start()
        locked.wait()
        let reader = try JobCache(directory: dir)
        try reader.record(JobCache.Job(jid: "1", fun: "test.ping", arguments: .list([]), target: "*", targetType: "glob",
                                       minions: ["m"], started: 0))
        #expect(try master.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") } == 1)
    }

    /// A minion's state run with a duration that is not a number SQLite can
    /// keep (NaN becomes NULL, refused by `duration_ms NOT NULL`): counted as
    /// 0 ms, stored with the others of its batch, which it used to fail.
    @Test func aStateRunWithANonFiniteDurationIsStoredWithItsBatch() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = try JobCache(directory: dir)
        try cache.record(JobCache.Job(jid: "2", fun: "state.apply", arguments: .list([]), target: "*", targetType: "glob",
                                      minions: ["good", "odd"], started: 0))
        func run(_ duration: Double) -> Value {
            .map(["file_|-motd_|-/etc/motd_|-managed": .map(["result": .bool(true), "changes": .emptyMap, "duration": .float(duration)])])
        }
        try cache.recordReturns([JobReturn(jid: "2", id: "good", value: run(12.5), retcode: 0),
                                 JobReturn(jid: "2", id: "odd", value: run(.nan), retcode: 0)])
        #expect(try cache.returns("2").count == 2)
        let durations = try cache.pool.read { db in
            try Double.fetchAll(db, sql: "SELECT duration_ms FROM state_results WHERE jid = '2' ORDER BY minion")
        }
        #expect(durations == [12.5, 0])
        #expect(StateRunRecord.duration(.float(-.infinity)) == 0 && StateRunRecord.duration(.float(-3)) == 0)
    }
}
