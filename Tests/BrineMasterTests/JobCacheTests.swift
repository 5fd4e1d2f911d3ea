import Foundation
import Testing

@testable import BrineCore
@testable import BrineMaster

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
}
