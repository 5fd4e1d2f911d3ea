/// Gathers single requests into one database statement: 10,000 minions
/// returning at once become a few dozen inserts, not 10,000 round trips.
/// A request waits until its batch is written and gets that batch's
/// result (or its error). A batch goes out when `limit` requests wait or
/// when the previous write finished, whichever comes first: under low load
/// a request is written at once, under high load batches grow by
/// themselves.
///
/// A batch also stops at `byteLimit` (by each request's `weight`, at least
/// one request a batch): a connection keeps a buffer as large as the
/// largest statement it ever sent, so 1,000 minions' grains in one
/// statement would pin several megabytes on every connection of the pool.
public actor Batcher<Input: Sendable, Output: Sendable> {
    private var waiting: [(input: Input, continuation: CheckedContinuation<Output, any Error>)] = []
    private var writing = false
    private let limit: Int
    private let byteLimit: Int
    private let weight: @Sendable (Input) -> Int
    private let write: @Sendable ([Input]) async throws -> Output

    public init(limit: Int = 1000, byteLimit: Int = 256 * 1024, weight: @escaping @Sendable (Input) -> Int = { _ in 0 },
                write: @escaping @Sendable ([Input]) async throws -> Output)
    {
        self.limit = limit
        self.byteLimit = byteLimit
        self.weight = weight
        self.write = write
    }

    public func submit(_ input: Input) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            waiting.append((input, continuation))
            if !writing { flushing() }
        }
    }

    private func flushing() {
        writing = true
        Task { await self.drain() }
    }

    private func drain() async {
        while !waiting.isEmpty {
            let batch = nextBatch()
            do {
                let output = try await write(batch.map(\.input))
                for entry in batch { entry.continuation.resume(returning: output) }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
        writing = false
    }

    /// The oldest requests, up to `limit` of them and `byteLimit` in all.
    private func nextBatch() -> [(input: Input, continuation: CheckedContinuation<Output, any Error>)] {
        var count = 0, bytes = 0
        for entry in waiting.prefix(limit) {
            bytes += weight(entry.input)
            if count > 0 && bytes > byteLimit { break }
            count += 1
        }
        let batch = Array(waiting.prefix(count))
        waiting.removeFirst(count)
        return batch
    }
}
