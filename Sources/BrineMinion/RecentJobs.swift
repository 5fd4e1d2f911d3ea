import DequeModule
import Synchronization

/// Salt's `minion_jid_queue_hwm`: the last jids this minion was sent, so a
/// job that comes again is not run twice. In a cluster a master that takes
/// over a minion resends the jobs it has not returned (their delivery was
/// lost with the master that died, or not); the minion keeps one copy.
/// Kept across connections, bounded (the oldest jid goes first).
final class RecentJobs: Sendable {
    private let state: Mutex<(order: Deque<String>, known: Set<String>)>
    let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
        state = Mutex((Deque(), []))
    }

    /// True the first time a jid is seen (and records it).
    func isNew(_ jid: String) -> Bool {
        state.withLock { state in
            guard state.known.insert(jid).inserted else { return false }
            state.order.append(jid)
            while state.order.count > limit, let oldest = state.order.popFirst() { state.known.remove(oldest) }
            return true
        }
    }
}
