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
/// an idle thread, or waits for a thread started for it (so a job never
/// waits behind another; `JobPool` bounds how many run). A thread idle for
/// `idleTimeout` seconds ends.
///
/// Each waiting thread has its own semaphore and is handed its job
/// directly: one lock taken briefly per job, one thread woken. A single
/// condition shared by every thread (as before) made a 10,000-minion
/// swarm's ping a contest for its mutex — `futex_wake` and the kernel's
/// spin lock were a third of the swarm's CPU — and started a thread for
/// nearly every job that arrived while the first were starting (~150 for
/// one ping); a thread being started now counts for one queued job.
final class JobThreads: Sendable {
    typealias Job = @Sendable () -> Void

    /// A waiting thread: the job handed to it, and how it is woken.
    private final class Idle: @unchecked Sendable {
        let wake = DispatchSemaphore(value: 0)
        /// Guarded by `JobThreads.state`'s lock.
        var handed: Job?
    }

    private struct State {
        /// Jobs no thread has taken yet, oldest first (a Deque: a burst of thousands is taken from the front).
        var jobs = Deque<Job>()
        /// Waiting threads, the most recently idle last (taken first: the others time out).
        var idle: [Idle] = []
        /// Threads started and not yet looking for a job: each will take one.
        var starting = 0
        /// Threads alive (for tests).
        var alive = 0

        /// The next job for a thread that is free, or nil after putting it among the idle.
        mutating func take(or waiting: Idle) -> Job? {
            if let job = jobs.popFirst() { return job }
            idle.append(waiting)
            return nil
        }
    }

    private let state = Mutex(State())
    let stackSize: Int
    let idleTimeout: Double

    init(stackSize: Int, idleTimeout: Double) {
        self.stackSize = stackSize
        self.idleTimeout = idleTimeout
    }

    /// Threads alive now (tests check that idle ones end).
    var threadCount: Int { state.withLock { $0.alive } }

    func submit(_ job: @escaping Job) {
        enum Next { case wake(Idle), start, none }
        let next: Next = state.withLock { state in
            if let idle = state.idle.popLast() {
                idle.handed = job
                return .wake(idle)
            }
            state.jobs.append(job)
            // Every queued job has a thread on its way to it.
            guard state.jobs.count > state.starting else { return .none }
            state.starting += 1
            state.alive += 1
            return .start
        }
        switch next {
        case .wake(let idle): idle.wake.signal()
        case .start:
            let thread = Thread { [self] in work() }
            thread.stackSize = stackSize
            thread.start()
        case .none: break
        }
    }

    private func work() {
        let me = Idle()
        var next = state.withLock { state in
            state.starting -= 1
            return state.take(or: me)
        }
        while true {
            if let job = next {
                job()
                next = state.withLock { $0.take(or: me) }
                continue
            }
            if me.wake.wait(timeout: .now() + idleTimeout) == .timedOut {
                let leaving = state.withLock { state in
                    guard let index = state.idle.firstIndex(where: { $0 === me }) else { return false }
                    state.idle.remove(at: index)
                    state.alive -= 1
                    return true
                }
                if leaving { return }
                // Handed a job as the wait ended: its signal is on the way.
                me.wake.wait()
            }
            next = state.withLock { _ in
                defer { me.handed = nil }
                return me.handed
            }
        }
    }
}
