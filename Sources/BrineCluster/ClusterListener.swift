import BrineCore
import Logging
import PostgresNIO

/// What woke a master: a hint to re-read one key, one job's new
/// batches or one job's returns; `caughtUp` after every (re)connect,
/// when notifications may have been missed and everything is re-read.
public enum ClusterEvent: Sendable, Equatable {
    case key(String)
    case job(String)
    case returns(String)
    case caughtUp

    init?(payload: String) {
        let kind = payload.prefix(2)
        let subject = String(payload.dropFirst(2))
        guard !subject.isEmpty else { return nil }
        switch kind {
        case "k:": self = .key(subject)
        case "j:": self = .job(subject)
        case "r:": self = .returns(subject)
        default: return nil
        }
    }
}

extension ClusterDatabase {
    /// Listens on a connection of its own until the task is cancelled,
    /// reconnecting after a loss (0.5 s, doubling to 5 s). `handle` gets
    /// `caughtUp` as soon as each LISTEN is in place, then every hint, in
    /// order; a payload that is not one of ours is ignored.
    public func listen(_ handle: @escaping @Sendable (ClusterEvent) async -> Void) async {
        var delay = 0.5
        var lostSince: ContinuousClock.Instant? = nil
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: try url.connectionConfiguration(), id: 1, logger: logger)
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        if lostSince != nil { logger.warning("cluster database \(url.redacted): connected again; catching up") }
                        lostSince = nil
                        delay = 0.5
                        await handle(.caughtUp)
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                for try await notification in notifications {
                                    if let event = ClusterEvent(payload: notification.payload) { await handle(event) }
                                }
                            }
                            group.addTask {
                                // A connection cut without a word (a network split) is found by asking.
                                while true {
                                    try await Task.sleep(for: .seconds(5))
                                    try await self.ping(connection)
                                }
                            }
                            try await group.next()
                            group.cancelAll()
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                if lostSince == nil {
                    lostSince = .now
                    logger.error("\(ClusterError("connection to \(url.redacted) lost", error)); reconnecting")
                }
            }
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            delay = min(delay * 2, 5)
        }
    }

    /// Runs `body` on exactly one master of the cluster at a time: the one
    /// holding the advisory lock `name` on a connection of its own. When
    /// that master dies its connection (and lock) goes, and another
    /// master's attempt (every `retry` seconds) takes over. `body` is
    /// cancelled when the connection is lost.
    public func singleton(_ name: String, retry: Double = 5, _ body: @escaping @Sendable () async -> Void) async {
        let key = Int64(bitPattern: UInt64(name.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }))
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: try url.connectionConfiguration(), id: 2, logger: logger)
                await hold(key, name, on: connection, body)
                // Closed here, not left to deinit: that would drop the session without a goodbye.
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
            }
            try? await Task.sleep(for: .milliseconds(Int(retry * 1000)))
        }
    }

    /// `SELECT 1`, answered within 5 s (else `TimeoutError`: the connection counts as lost).
    func ping(_ connection: PostgresConnection) async throws {
        try await withTimeout(5) { _ = try await self.rows("SELECT 1", on: connection) }
    }

    /// Takes the lock on `connection` if free and runs `body` while the connection lives.
    private func hold(_ key: Int64, _ name: String, on connection: PostgresConnection, _ body: @escaping @Sendable () async -> Void) async {
        guard (try? await rows("SELECT pg_try_advisory_lock(\(key))", on: connection).first?.decode(Bool.self)) == true else { return }
        logger.info("cluster: this master runs \(name)")
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await body() }
            group.addTask {
                // The lock lives as long as the connection: stop when it goes.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(2))
                    do { try await self.ping(connection) } catch { return }
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
