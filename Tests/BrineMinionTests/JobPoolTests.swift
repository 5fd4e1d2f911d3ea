import Logging
import Synchronization
import Testing

@testable import BrineMinion

/// `process_count_max`: never more jobs at once than the limit, every job
/// runs, waiting jobs start in arrival order; no limit by default (Salt's -1).
@Suite struct JobPoolTests {
    final class Tally: Sendable {
        let state = Mutex((running: 0, most: 0, started: [Int]()))
        func enter(_ index: Int) { state.withLock { $0.running += 1; $0.most = max($0.most, $0.running); $0.started.append(index) } }
        func leave() { state.withLock { $0.running -= 1 } }
    }

    func runJobs(_ count: Int, processCountMax: Int) async -> (most: Int, started: [Int]) {
        let pool = JobPool(processCountMax: processCountMax)
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    await pool.run(jid: "j\(index)", logger: Logger(label: "test")) {
                        tally.enter(index)
                        try? await Task.sleep(for: .milliseconds(20))
                        tally.leave()
                    }
                }
                // Arrival order is the order of the loop.
                while await pool.arrivals < index + 1 { await Task.yield() }
            }
        }
        let state = tally.state.withLock { $0 }
        #expect(await pool.runningCount == 0)
        return (state.most, state.started)
    }

    @Test func theLimitHoldsAndEveryJobRunsInOrder() async {
        let (most, started) = await runJobs(7, processCountMax: 2)
        #expect(most == 2)
        #expect(started == Array(0..<7))
    }

    @Test func noLimitBySaltsDefault() async {
        #expect(JobPool(processCountMax: -1).limit == nil)
        #expect(JobPool(processCountMax: 0).limit == nil)
        let (most, started) = await runJobs(5, processCountMax: -1)
        #expect(most == 5)
        #expect(started.count == 5)
    }
}
