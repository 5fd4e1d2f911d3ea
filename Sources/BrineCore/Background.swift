/// Runs `body` while `background` runs beside it (a pool, a timer that
/// must be running for `body`'s work to go out or be watched);
/// `background` is cancelled when `body` ends, and awaited.
public func withBackground<T: Sendable>(_ background: @escaping @Sendable () async -> Void, _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            await background()
            return nil
        }
        defer { group.cancelAll() }
        return try await body()
    }
}
