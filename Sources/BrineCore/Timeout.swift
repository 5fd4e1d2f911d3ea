/// What `withTimeout` throws when the time is up.
public struct TimeoutError: Error, CustomStringConvertible, Sendable {
    public init() {}
    public var description: String { "timed out" }
}

/// Runs `body`, throwing `TimeoutError` when it takes longer than
/// `seconds` (`body` is then cancelled). For waits on the network: a
/// monitor check, the cluster's database.
public func withTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(max(0, min(seconds, 86_400)) * 1000)))
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TimeoutError() }
        return first
    }
}
