import OrderedCollections

/// Where `brine stats`, `/metrics` and the fleet page read state runs: the
/// master's job cache, or with `cluster_database` the cluster's (every
/// master's minions, whichever master published the run).
public protocol StateRunStore: Sendable {
    /// Statistics over the state runs finished since `since` (epoch seconds).
    func stats(since: Double, limit: Int) async throws -> FleetStats
    /// Each minion's latest `perMinion` state runs, newest first (the page's grid).
    func recentRuns(perMinion: Int) async throws -> OrderedDictionary<String, [FleetStats.Run]>
    /// Each minion's last run and run counts, all time (the lists and days
    /// may be left empty): what `/metrics` and Munin read on every scrape.
    func lastRuns() async throws -> FleetStats
}

extension JobCache: StateRunStore {
    public func lastRuns() async throws -> FleetStats { try stats(since: 0) }
}
