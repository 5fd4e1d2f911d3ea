import BrineCore
import DequeModule
import Foundation
import Synchronization

/// Where a minion's jobs run: each on a thread of its own (8 MiB of stack,
/// as templates and state runs recurse), because execution functions
/// block — they start processes, render templates, wait on the network —
/// and must stay off NIO's event loops and Swift's cooperative pool. How
/// many run at once is `JobPool`'s business.
///
/// The threads are kept for a while after their job (`JobThreads`): a
/// thread made and torn down per job cost a `--swarm` of 10,000 minions a
/// fifth of its time on one `test.ping` (clone, 8 MiB mapped, faulted in
/// and unmapped 10,000 times).
enum JobThread {
    static let stackSize = 8 << 20

    /// The process's job threads: shared by every minion of a swarm, as
    /// the cooperative pool is shared by every task.
    static let threads = JobThreads(stackSize: stackSize, idleTimeout: 10)

    /// The one place a job's thread waits for async work (a file from the
    /// master): the work runs as a task, the thread sleeps until it ends,
    /// or `deadline` passes (then null: the work has its own, shorter
    /// deadline; this one only keeps a thread from waiting for ever). Only
    /// for job threads: on the task pool or an event loop this would take a
    /// thread the work itself may need.
    static func wait(deadline: Duration, _ work: @escaping @Sendable () async -> Value) -> Value {
        let result = Mutex<Value>(.null)
        let finished = DispatchSemaphore(value: 0)
        Task {
            let value = await work()
            result.withLock { $0 = value }
            finished.signal()
        }
        let seconds = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
        guard finished.wait(timeout: .now() + seconds) == .success else { return .null }
        return result.withLock { $0 }
    }
}

/// Threads for blocking work, one job at a time each: a job is handed to
/// an idle thread, or to a new one when none is idle (so a job never waits
/// behind another; `JobPool` bounds how many run). A thread idle for
/// `idleTimeout` seconds ends.
final class JobThreads: @unchecked Sendable {
    // `jobs` and `idle` are guarded by `condition`; nothing else is mutable.
    private let condition = NSCondition()
    // A Deque: a swarm's burst of thousands of jobs is taken from the front without shifting the rest.
    private var jobs = Deque<@Sendable () -> Void>()
    /// Threads waiting for a job.
    private var idle = 0
    let stackSize: Int
    let idleTimeout: Double

    init(stackSize: Int, idleTimeout: Double) {
        self.stackSize = stackSize
        self.idleTimeout = idleTimeout
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        // More jobs waiting than idle threads to take them: one more thread.
        let spawn = jobs.count > idle
        if !spawn { condition.signal() }
        condition.unlock()
        guard spawn else { return }
        let thread = Thread { [self] in work() }
        thread.stackSize = stackSize
        thread.start()
    }

    private func work() {
        condition.lock()
        while true {
            while jobs.isEmpty {
                idle += 1
                let signalled = condition.wait(until: Date(timeIntervalSinceNow: idleTimeout))
                idle -= 1
                if !signalled && jobs.isEmpty {
                    condition.unlock()
                    return
                }
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
            condition.lock()
        }
    }
}

