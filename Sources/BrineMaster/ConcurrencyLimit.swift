import DequeModule
import Synchronization

/// At most `limit` tasks inside at once; the others wait their turn, in
/// order. A waiting task that is cancelled stops waiting.
///
/// Why: a fleet reconnecting at once (a master restarted under 10,000
/// minions) sent 10,000 hellos together, each decoded into its grains while
/// it waited for the registry; the master's memory peaked at 417 MiB where
/// it holds ~270 once settled (and malloc keeps its peak). A connection now
/// decodes and handles its hello only with a turn (`MinionListener.greet`).
final class ConcurrencyLimit: Sendable {
    private struct State {
        var available: Int
        var waiters = Deque<(id: Int, continuation: CheckedContinuation<Bool, Never>)>()
        /// Waiters between taking a number and getting in line, and those of them cancelled meanwhile.
        var arriving = Set<Int>()
        var cancelled = Set<Int>()
        var nextID = 0
    }

    private let state: Mutex<State>

    init(_ limit: Int) {
        state = Mutex(State(available: max(1, limit)))
    }

    /// Runs `body` with a turn; throws `CancellationError` when the task was cancelled while waiting.
    func withTurn<T>(_ body: () async throws -> T) async throws -> T {
        guard await acquire() else { throw CancellationError() }
        defer { release() }
        return try await body()
    }

    /// Waits for a turn: true with one, false when cancelled first.
    func acquire() async -> Bool {
        let id: Int? = state.withLock { s in
            if s.available > 0 {
                s.available -= 1
                return nil
            }
            s.nextID += 1
            s.arriving.insert(s.nextID)
            return s.nextID
        }
        guard let id else { return true }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Bool? = state.withLock { s in
                    s.arriving.remove(id)
                    if s.cancelled.remove(id) != nil { return false }
                    if s.available > 0 {
                        s.available -= 1
                        return true
                    }
                    s.waiters.append((id, continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else {
                    // Not in line yet: it will not wait when it gets there. (Already given a turn: nothing to do.)
                    if s.arriving.contains(id) { s.cancelled.insert(id) }
                    return nil
                }
                return s.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: false)
        }
    }

    /// Gives the turn to the next in line, or back.
    func release() {
        let next = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            if let waiter = s.waiters.popFirst() { return waiter.continuation }
            s.available += 1
            return nil
        }
        next?.resume(returning: true)
    }
}
