/// Gathers single requests into one database statement: 10,000 minions
/// returning at once become a few dozen inserts, not 10,000 round trips.
/// A request waits until its batch is written and gets that batch's
/// result (or its error). A batch goes out when `limit` requests wait or
/// when the previous write finished, whichever comes first: under low load
/// a request is written at once, under high load batches grow by
/// themselves.
public actor Batcher<Input: Sendable, Output: Sendable> {
    private var waiting: [(input: Input, continuation: CheckedContinuation<Output, any Error>)] = []
    private var writing = false
    private let limit: Int
    private let write: @Sendable ([Input]) async throws -> Output

    public init(limit: Int = 1000, write: @escaping @Sendable ([Input]) async throws -> Output) {
        self.limit = limit
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
            let batch = Array(waiting.prefix(limit))
            waiting.removeFirst(batch.count)
            do {
                let output = try await write(batch.map(\.input))
                for entry in batch { entry.continuation.resume(returning: output) }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
        writing = false
    }
}
