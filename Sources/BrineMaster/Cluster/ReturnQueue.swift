import BrineCluster
import BrineCore
import BrineWire
import Synchronization

/// Returns received by this master in a cluster, on their way to the
/// database. A minion's connection hands its return over and goes back to
/// reading, without waiting; one worker (`ReturnSink.storeClusterReturns`)
/// stores them in batches, then acknowledges each to its minion and streams
/// it to its publisher if that is here.
///
/// Why not each connection awaiting its own store: a task keeps the memory
/// of its deepest chain of async calls until it ends, and a minion's
/// connection lives for days (heaptrack: ~7 KiB a minion after one stored
/// return, 70 MiB at 10,000 minions); and each return paid several hops
/// between actors where one batch now pays one.
final class ReturnQueue: Sendable {
    struct Entry: Sendable {
        let jobReturn: JobReturn
        let record: ClusterDatabase.ReceivedReturn
        /// Where to acknowledge it; nil when the minion takes no acks.
        let session: WireSession?
    }

    private struct State {
        var entries: [Entry] = []
        var bytes = 0
        var waiter: CheckedContinuation<Void, Never>?
        var stopped = false
    }

    private let state = Mutex(State())
    /// Returns waiting beyond this (the database away for long) are refused:
    /// not acknowledged, so their minions send them again when they reconnect.
    let maximumBytes: Int

    init(maximumBytes: Int = 256 << 20) {
        self.maximumBytes = maximumBytes
    }

    /// Queues a return; false when the queue is full.
    func append(_ entry: Entry) -> Bool {
        let (accepted, waiter) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?) in
            guard s.bytes + entry.record.size <= maximumBytes else { return (false, nil) }
            s.entries.append(entry)
            s.bytes += entry.record.size
            defer { s.waiter = nil }
            return (true, s.waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// The oldest returns, at most `limit` and `byteLimit` bytes (at least
    /// one); waits while there are none. Empty only when the task is cancelled.
    func take(limit: Int, byteLimit: Int) async -> [Entry] {
        while !Task.isCancelled {
            if let batch = state.withLock({ $0.entries.isEmpty ? nil : Self.removeBatch(from: &$0, limit: limit, byteLimit: byteLimit) }) {
                return batch
            }
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
        return []
    }

    private static func removeBatch(from s: inout State, limit: Int, byteLimit: Int) -> [Entry] {
        var count = 0, bytes = 0
        for entry in s.entries.prefix(limit) {
            if count > 0 && bytes + entry.record.size > byteLimit { break }
            bytes += entry.record.size
            count += 1
        }
        let batch = Array(s.entries.prefix(count))
        s.entries.removeFirst(count)
        s.bytes -= bytes
        return batch
    }
}
