import BrineCore
import DequeModule
import Foundation
import Logging
import Synchronization

/// Salt's `process_count_max`: how many jobs run at once on a minion. A
/// job over the limit waits for a place, in the order jobs arrived, with
/// Salt's warning; a finishing job hands its place straight to the next
/// (Salt re-checks its queue on a timer).
///
/// Salt 3008's limit: the value when above 0; otherwise (its default, -1)
/// one derived from the open-files limit, `(soft limit - 100) / 5` (15
/// instead of 5 with `multiprocessing: False`), at least 1, and 1000 when
/// the soft limit is unlimited.
///
/// Jobs go from the receive loop to a job thread (`JobThreads`) in one
/// step: taking a place is a lock, not an actor, and a job's return leaves
/// from its thread. Before, a job took an actor hop to get in line, a task
/// of its own, another hop to start, a thread hand-off and back, and a hop
/// to finish (no CPU change measurable on a 10,000-minion swarm; simpler,
/// and fewer threads woken per job).
final class JobPool: Sendable {
    let limit: Int
    private let threads: JobThreads

    private struct State {
        var running = 0
        /// Jobs that arrived and have no place yet, oldest first.
        var queue = Deque<@Sendable () -> Void>()
    }

    private let state = Mutex(State())

    init(limit: Int, threads: JobThreads = JobThread.threads) {
        self.limit = max(1, limit)
        self.threads = threads
    }

    /// Salt 3008's effective limit for these options.
    static func effectiveLimit(_ opts: Config) -> Int {
        if let configured = opts.int("process_count_max"), configured > 0 { return configured }
        var files = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &files) == 0 else { return 100 }
        // RLIM_INFINITY is all ones (C imports it as -1).
        guard files.rlim_cur != rlim_t.max else { return 1000 }
        let perJob: UInt64 = opts["multiprocessing"]?.asFlag ?? true ? 5 : 15
        let soft = UInt64(files.rlim_cur)
        return soft > 100 ? max(1, Int(clamping: (soft - 100) / perJob)) : 1
    }

    /// Runs `job` on a job thread: now if a place is free, else when one
    /// frees, after the jobs that arrived before it.
    func run(jid: String, logger: Logger, _ job: @escaping @Sendable () -> Void) {
        let running: Int? = state.withLock { state in
            if state.running < limit && state.queue.isEmpty {
                state.running += 1
                return nil
            }
            state.queue.append(job)
            return state.running
        }
        if let running {
            logger.warning("Maximum number of processes reached while executing jid \(jid), queuing... (Running: \(running), Max: \(limit))")
            return
        }
        threads.submit { [self] in
            job()
            // The place goes to the oldest waiting job, on this thread.
            while let next = handOver() { next() }
        }
    }

    /// A job ended: the next waiting job, which takes its place, or nil (the place is free).
    private func handOver() -> (@Sendable () -> Void)? {
        state.withLock { state in
            if let next = state.queue.popFirst() { return next }
            state.running -= 1
            return nil
        }
    }

    /// Jobs holding a place now (tests check that every place comes back).
    var runningCount: Int { state.withLock { $0.running } }
}
