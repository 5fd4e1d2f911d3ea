import BrineCluster
import Testing

/// The cluster's hand-written queue: what the database worker takes and
/// what a full queue refuses. A lost wake-up would hang rather than fail:
/// the time limit turns it into a failure.
@Suite(.timeLimit(.minutes(10)))
struct WorkQueueTests {
    @Test func batchesKeepOrderAndStopAtTheirLimits() async {
        let queue = WorkQueue<Int>(batchLimit: 3, batchBytes: 10, weight: { $0 })
        for n in [1, 2, 3, 4, 5, 20, 1] { #expect(queue.append(n)) }
        #expect(await queue.take() == [1, 2, 3])  // three at most
        #expect(await queue.take() == [4, 5])  // 4 + 5 + 20 is over 10 bytes
        #expect(await queue.take() == [20])  // one alone, however large
        #expect(await queue.take() == [1])
    }

    @Test func aFullQueueRefusesUntilTaken() async {
        let byCount = WorkQueue<Int>(maximumCount: 2)
        #expect(byCount.append(1) && byCount.append(2))
        #expect(!byCount.append(3))
        #expect(await byCount.take() == [1, 2])
        #expect(byCount.append(3))

        let byBytes = WorkQueue<Int>(maximumBytes: 10, weight: { $0 })
        #expect(byBytes.append(6))
        #expect(!byBytes.append(5))
        #expect(byBytes.append(4))
        #expect(await byBytes.take() == [6, 4])
        #expect(byBytes.append(5))
    }

    @Test func takeWaitsForWorkAndEndsWhenCancelled() async {
        let queue = WorkQueue<String>()
        let taker = Task { await queue.take() }
        try? await Task.sleep(for: .milliseconds(50))
        queue.append("late")
        #expect(await taker.value == ["late"])

        let idle = Task { await queue.take() }
        try? await Task.sleep(for: .milliseconds(50))
        idle.cancel()
        #expect(await idle.value == [])
        // Cancelled before it waits: it does not wait at all.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await queue.take()
        }
        #expect(await early.value == [])
    }

    @Test func workHandsOverEveryBatchInOrder() async {
        let queue = WorkQueue<Int>(batchLimit: 7)
        for n in 0..<100 { queue.append(n) }
        let worker = Task {
            var seen: [Int] = []
            await queue.work { batch in
                seen += batch
                if seen.count == 100 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            return seen
        }
        #expect(await worker.value == Array(0..<100))
    }
}
