import Synchronization
import Testing

@testable import BrineMaster

/// The turn a connection takes to open its first message: never more than
/// the limit inside at once, every waiter served in the end, and a
/// cancelled waiter leaves the line without taking a turn.
@Suite(.timeLimit(.minutes(10))) struct ConcurrencyLimitTests {
    final class Inside: Sendable {
        let counts = Mutex((now: 0, most: 0, done: 0))
    }

    @Test func neverMoreThanTheLimitInside() async {
        let limit = ConcurrencyLimit(3)
        let inside = Inside()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try? await limit.withTurn {
                        inside.counts.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                        await Task.yield()
                        try? await Task.sleep(for: .milliseconds(1))
                        inside.counts.withLock { $0.now -= 1; $0.done += 1 }
                    }
                }
            }
        }
        let seen = inside.counts.withLock { $0 }
        #expect(seen.done == 50 && seen.most <= 3 && seen.most >= 1)
    }

    @Test func aCancelledWaiterLeavesTheLineWithoutATurn() async {
        let limit = ConcurrencyLimit(1)
        #expect(await limit.acquire())
        let waiter = Task { await limit.acquire() }
        try? await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        #expect(await waiter.value == false)
        limit.release()
        // The one turn is free again: taken at once.
        #expect(await limit.acquire())
        limit.release()
    }
}
