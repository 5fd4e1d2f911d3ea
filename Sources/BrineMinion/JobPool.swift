import BrineCore
import DequeModule
import Foundation
import Logging

/// Salt's `process_count_max`: how many jobs run at once on a minion. A
/// job over the limit waits for a place, in the order jobs arrived, with
/// Salt's warning; a finishing job hands its place straight to the next
/// (Salt re-checks its queue on a timer).
///
/// Salt 3008's limit: the value when above 0; otherwise (its default, -1)
/// one derived from the open-files limit, `(soft limit - 100) / 5` (15
/// instead of 5 with `multiprocessing: False`), at least 1, and 1000 when
/// the soft limit is unlimited.
actor JobPool {
    nonisolated let limit: Int
    private var running = 0
    private var nextTicket = 0
    /// Jobs that arrived and have no place yet, oldest first.
    private var queue = Deque<Int>()
    /// Places handed to queued jobs not yet started (`start` takes them).
    private var granted = Set<Int>()
    private var sleepers: [Int: CheckedContinuation<Void, Never>] = [:]

    init(limit: Int) {
        self.limit = max(1, limit)
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

    /// A job arrived: its place in line, taken now in arrival order (the
    /// receive loop awaits this before the job's task starts).
    func arrive(jid: String, logger: Logger) -> Int {
        let ticket = nextTicket
        nextTicket += 1
        if running < limit && queue.isEmpty {
            running += 1
            granted.insert(ticket)
        } else {
            logger.warning("Maximum number of processes reached while executing jid \(jid), queuing... (Running: \(running), Max: \(limit))")
            queue.append(ticket)
        }
        return ticket
    }

    /// Returns once the job holding `ticket` has a place.
    func start(_ ticket: Int) async {
        if granted.remove(ticket) != nil { return }
        await withCheckedContinuation { sleepers[ticket] = $0 }
    }

    /// A job ended: its place goes to the oldest waiting job.
    func finish() {
        guard let next = queue.popFirst() else {
            running -= 1
            return
        }
        if let sleeper = sleepers.removeValue(forKey: next) {
            sleeper.resume()
        } else {
            granted.insert(next)
        }
    }

    /// Jobs holding a place now (tests check that every place comes back).
    var runningCount: Int { running }
}
