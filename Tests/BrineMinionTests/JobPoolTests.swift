import BrineCore
import Foundation
import Logging
import Synchronization
import Testing

@testable import BrineMinion

/// `process_count_max`: never more jobs at once than the limit, every job
/// runs, queued jobs start in the order they arrived; Salt 3008's limit
/// when the option is -1 (its default) or 0.
@Suite struct JobPoolTests {
    final class Tally: Sendable {
        let state = Mutex((running: 0, most: 0, started: [Int]()))
        func enter(_ index: Int) { state.withLock { $0.running += 1; $0.most = max($0.most, $0.running); $0.started.append(index) } }
        func leave() { state.withLock { $0.running -= 1 } }
    }

    @Test func theLimitHoldsAndQueuedJobsStartInArrivalOrder() async {
        let pool = JobPool(limit: 2, threads: JobThreads(stackSize: 1 << 20, idleTimeout: 5))
        let tally = Tally()
        let done = Mutex(0)
        for index in 0..<7 {
            // As the minion's receive loop does: each job in line as it arrives.
            pool.run(jid: "j\(index)", logger: Logger(label: "test")) {
                tally.enter(index)
                // The first two wait for each other (both hold a place at once, however
                // slow the machine); a third could only start past the limit. The second
                // keeps its place until every other job started: the queued ones then go
                // through the one place that frees, one after another, so the order they
                // start in is the order they were taken in (with two places freeing
                // together, a thread that took job 2 could be overtaken before running it).
                while index < 2, tally.state.withLock({ $0.started.count }) < 2 { usleep(1000) }
                while index == 1, tally.state.withLock({ $0.started.count }) < 7 { usleep(1000) }
                tally.leave()
                done.withLock { $0 += 1 }
            }
        }
        await Self.waitUntil { done.withLock { $0 } == 7 }
        let state = tally.state.withLock { $0 }
        #expect(state.most == 2)
        #expect(state.started.count == 7)
        // The first two start together; from the third on, each starts when the place frees, oldest first.
        #expect(Array(state.started.dropFirst(2)) == Array(2..<7))
        // The last job's thread gives its place back right after the job's body.
        await Self.waitUntil { pool.runningCount == 0 }
        #expect(pool.runningCount == 0)
    }

    /// Waits for `condition`, 30 s at most (the expectations after it say what failed).
    static func waitUntil(_ condition: () -> Bool) async {
        for _ in 0..<6000 {
            if condition() { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func saltsLimitFromTheOpenFilesLimit() {
        #expect(JobPool.effectiveLimit(Config(role: .minion, options: ["process_count_max": 3], configDir: "")) == 3)
        let byDefault = JobPool.effectiveLimit(Config(role: .minion, options: ["process_count_max": -1], configDir: ""))
        let threading = JobPool.effectiveLimit(Config(role: .minion, options: ["process_count_max": 0, "multiprocessing": false], configDir: ""))
        var files = rlimit()
        #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &files) == 0)
        if files.rlim_cur == rlim_t.max {
            #expect(byDefault == 1000)
        } else {
            let soft = Int(files.rlim_cur)
            #expect(byDefault == max(1, (soft - 100) / 5))
            #expect(threading == max(1, (soft - 100) / 15))
        }
    }
}
