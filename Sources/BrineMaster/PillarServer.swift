import BrineCore
import BrineModules
import BrineState
import Logging

/// Pillar, compiled on the master for one minion at a time (from its
/// reported grains), and the refresh of the pillar's repositories.
struct PillarServer: Sendable {
    let opts: Config
    let registry: MinionRegistry
    let logger: Logger
    let refreshGate = RefreshGate(interval: .seconds(5))

    /// This minion's pillar; a compile error is its `_errors`, as in Salt.
    func compile(for id: String) async -> Value {
        let grains = await registry.grains(id)
        do {
            return try PillarCompiler(config: opts, minionID: id, grains: grains).compile()
        } catch {
            logger.error("pillar for \(id) failed: \(error)")
            return ["_errors": .list([.string(error.description)])]
        }
    }

    /// Any minion may ask; the repositories are fetched once at a time and
    /// at most every few seconds.
    func refresh(for id: String) async -> Value {
        let opts = self.opts, logger = self.logger
        return .bool(await refreshGate.refresh {
            do {
                try VCSPillar.refreshAll(opts)
                return true
            } catch {
                logger.error("refreshing the pillar's sources for \(id) failed: \(error)")
                return false
            }
        })
    }
}

/// Work any minion may trigger (fetching the ext_pillar repositories), run
/// once at a time: callers during a run share its result, and a caller
/// soon after a run gets that run's result without another.
actor RefreshGate {
    let interval: Duration
    private var running: Task<Bool, Never>?
    private var last: (at: ContinuousClock.Instant, succeeded: Bool)?

    init(interval: Duration) {
        self.interval = interval
    }

    func refresh(_ work: @escaping @Sendable () -> Bool) async -> Bool {
        if let running { return await running.value }
        if let last, ContinuousClock.now - last.at < interval { return last.succeeded }
        let task = Task.detached { work() }
        running = task
        let succeeded = await task.value
        running = nil
        last = (.now, succeeded)
        return succeeded
    }
}
