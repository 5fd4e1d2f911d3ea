import BrineCore
import DequeModule
import Logging

/// Salt's `process_count_max`: at most this many jobs run at once on a
/// minion; -1 or 0 (Salt's default) for no limit. A job over the limit
/// waits for a place, in arrival order, with Salt's warning ("Maximum
/// number of processes reached while executing jid …, waiting..."). Salt
/// polls every few seconds; here a finishing job hands its place straight
/// to the next.
actor JobPool {
    nonisolated let limit: Int?
    private var running = 0
    /// Jobs handed to `run` so far (tests wait on it to fix arrival order).
    private(set) var arrivals = 0
    private var waiting = Deque<CheckedContinuation<Void, Never>>()

    init(processCountMax: Int) {
        limit = processCountMax > 0 ? processCountMax : nil
    }

    /// Runs `job` once a place is free.
    func run(jid: String, logger: Logger, _ job: @Sendable () async -> Void) async {
        arrivals += 1
        if let limit, running >= limit {
            logger.warning("Maximum number of processes reached while executing jid \(jid), waiting...")
            // The place is handed over by `leave`: `running` already counts this job.
            await withCheckedContinuation { waiting.append($0) }
        } else {
            running += 1
        }
        await job()
        leave()
    }

    private func leave() {
        if let next = waiting.popFirst() {
            next.resume()
        } else {
            running -= 1
        }
    }

    /// Jobs running now (for tests and the log).
    var runningCount: Int { running }
}
