import Synchronization

/// What `withTimeout` throws when the time is up.
public struct TimeoutError: Error, CustomStringConvertible, Sendable {
    public init() {}
    public var description: String { "timed out" }
}

/// Runs `body`, throwing `TimeoutError` when it takes longer than
/// `seconds`; `body` is then cancelled. For waits on the network: a monitor
/// check, the cluster's database.
///
/// The answer comes after `seconds` whatever `body` does: a body that does
/// not heed cancellation (a query on a connection that died without a
/// word) is left to end on its own. A task group would wait for it — that
/// kept a master's cluster singletons (the monitor's poller, `keep_jobs`)
/// from ever being taken again after a PostgreSQL restart.
public func withTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let work = Task { try await body() }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let once = ResumeOnce(continuation)
            let timer = Task {
                try? await Task.sleep(for: .milliseconds(Int(max(0, min(seconds, 86_400)) * 1000)))
                // Cancelled: the work ended first.
                guard !Task.isCancelled else { return }
                work.cancel()
                once.resume(with: .failure(TimeoutError()))
            }
            Task {
                let result = await work.result
                timer.cancel()
                once.resume(with: result)
            }
        }
    } onCancel: {
        work.cancel()
    }
}

/// A continuation resumed by whichever of its racers comes first.
private final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func resume(with result: Result<T, any Error>) {
        continuation.withLock { pending -> CheckedContinuation<T, any Error>? in
            defer { pending = nil }
            return pending
        }?.resume(with: result)
    }
}
