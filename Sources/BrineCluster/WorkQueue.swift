import DequeModule
import Synchronization

/// Work for the database, handed over without waiting and done in batches
/// by one worker: 10,000 minions returning at once become a few dozen
/// statements, not 10,000 round trips, and the minion's connection goes
/// straight back to reading.
///
/// Why the connection does not wait for its statement: a task keeps the
/// memory of its deepest chain of async calls until it ends, and a minion's
/// connection lives for days (heaptrack: ~7 KiB a minion after one return
/// stored through an awaited batch, 70 MiB at 10,000 minions); and each
/// request paid several hops between actors where one batch now pays one.
///
/// A batch stops at `batchLimit` entries and `batchBytes` (by `weight`, at
/// least one entry): a connection of the pool keeps a buffer as large as
/// the largest statement it ever sent. The queue refuses entries beyond
/// `maximumCount` or `maximumBytes` (the database away for long).
public final class WorkQueue<Entry: Sendable>: Sendable {
    private struct State {
        var entries = Deque<Entry>()
        var bytes = 0
        var waiter: CheckedContinuation<Void, Never>?
        var stopped = false
    }

    private let state = Mutex(State())
    private let weight: @Sendable (Entry) -> Int
    public let maximumCount: Int
    public let maximumBytes: Int
    let batchLimit: Int
    let batchBytes: Int

    public init(maximumCount: Int = 1_000_000, maximumBytes: Int = 256 << 20, batchLimit: Int = 1000, batchBytes: Int = 256 << 10,
                weight: @escaping @Sendable (Entry) -> Int = { _ in 0 })
    {
        self.maximumCount = maximumCount
        self.maximumBytes = maximumBytes
        self.batchLimit = max(1, batchLimit)
        self.batchBytes = batchBytes
        self.weight = weight
    }

    /// Queues an entry; false when the queue is full.
    @discardableResult
    public func append(_ entry: Entry) -> Bool {
        let size = weight(entry)
        let (accepted, waiter) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?) in
            guard s.entries.count < maximumCount, s.bytes + size <= maximumBytes else { return (false, nil) }
            s.entries.append(entry)
            s.bytes += size
            defer { s.waiter = nil }
            return (true, s.waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// The oldest entries, one batch; waits while there are none. Empty
    /// only when the task is cancelled. One worker takes from a queue.
    public func take() async -> [Entry] {
        while !Task.isCancelled {
            if let batch = state.withLock({ $0.entries.isEmpty ? nil : removeBatch(from: &$0) }) { return batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = state.withLock { s -> Bool in
                        if !s.entries.isEmpty || s.stopped { return true }
                        s.waiter = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    s.stopped = true
                    defer { s.waiter = nil }
                    return s.waiter
                }
                waiter?.resume()
            }
        }
        // Ready for a later, uncancelled taker (the handler cannot run once this returns).
        state.withLock { $0.stopped = false }
        return []
    }

    /// Takes batches and hands each to `body` until the task is cancelled.
    public func work(_ body: ([Entry]) async -> Void) async {
        while true {
            let batch = await take()
            if batch.isEmpty { return }
            await body(batch)
        }
    }

    private func removeBatch(from s: inout State) -> [Entry] {
        var count = 0, bytes = 0
        for entry in s.entries.prefix(batchLimit) {
            let size = weight(entry)
            if count > 0 && bytes + size > batchBytes { break }
            bytes += size
            count += 1
        }
        let batch = Array(s.entries.prefix(count))
        s.entries.removeFirst(count)  // a Deque: no shifting of a large backlog under the lock
        s.bytes -= bytes
        return batch
    }
}
