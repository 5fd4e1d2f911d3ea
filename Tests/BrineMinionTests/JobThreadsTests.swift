import Foundation
import Synchronization
import Testing

@testable import BrineMinion

final class Seen: Sendable {
    let started = Mutex(0)
    let ids = Mutex(Set<UInt>())
}

/// The minion's job threads: blocking jobs never wait behind each other,
/// and a thread is used again for the next job.
struct JobThreadsTests {
    @Test func blockingJobsRunAtOnceEachOnItsOwnThread() async {
        let threads = JobThreads(stackSize: 1 << 20, idleTimeout: 600)
        // Five jobs that each wait until all five have started: they finish only if all run at once.
        // Submitted from here one after another (no task each: the suite's task pool may be starved).
        let seen = Seen()
        let outcomes = Mutex([Bool]())
        for _ in 0..<5 {
            threads.submit {
                seen.started.withLock { $0 += 1 }
                seen.ids.withLock { _ = $0.insert(UInt(pthread_self())) }
                let deadline = Date(timeIntervalSinceNow: 120)
                while seen.started.withLock({ $0 }) < 5 && Date() < deadline { usleep(1000) }
                let allStarted = seen.started.withLock { $0 } == 5
                outcomes.withLock { $0.append(allStarted) }
            }
        }
        let deadline = Date(timeIntervalSinceNow: 180)
        while outcomes.withLock({ $0.count }) < 5 && Date() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        #expect(outcomes.withLock { $0 } == Array(repeating: true, count: 5))
        #expect(seen.ids.withLock { $0.count } == 5)
    }

    @Test func oneJobAfterAnotherReusesTheThread() async {
        let threads = JobThreads(stackSize: 1 << 20, idleTimeout: 600)
        var seen = Set<UInt>()
        for _ in 0..<20 {
            let id: UInt = await withCheckedContinuation { continuation in
                threads.submit { continuation.resume(returning: UInt(pthread_self())) }
            }
            seen.insert(id)
            // Let the thread go back to waiting before the next job.
            try? await Task.sleep(for: .milliseconds(5))
        }
        // A thread per job would be 20; a preempted thread may make the next job start another.
        #expect(seen.count < 10, "\(seen.count) threads for 20 jobs in a row")
    }

    @Test func idleThreadsEndAndLaterJobsStillRun() async throws {
        let threads = JobThreads(stackSize: 1 << 20, idleTimeout: 0.05)
        for _ in 0..<2 {
            let ran: Bool = await withCheckedContinuation { continuation in
                threads.submit { continuation.resume(returning: true) }
            }
            #expect(ran)
            let deadline = Date(timeIntervalSinceNow: 10)
            while threads.threadCount > 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(threads.threadCount == 0)
        }
    }
}
