import BrineCore
import Foundation
import Synchronization

/// Where a minion's jobs run: each on a thread of its own (8 MiB of stack,
/// as templates and state runs recurse), because execution functions
/// block — they start processes, render templates, wait on the network —
/// and must stay off NIO's event loops and Swift's cooperative pool. How
/// many run at once is `JobPool`'s business.
enum JobThread {
    static let stackSize = 8 << 20

    /// Runs `body` on a new thread; returns when it has finished.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.stackSize = stackSize
            thread.start()
        }
    }

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
