import BrineCore
import BrineWire
import Foundation
import NIOCore
import Synchronization

/// While a minion is connected, what may end the connection from its side:
/// its master no longer answering (`master_alive_interval`), or its first
/// master answering again while it is on another (`master_failback`).
struct MasterWatch: Sendable {
    enum Reason: Sendable, Equatable {
        /// The master stopped accepting connections: move to the next.
        case masterGone
        /// The first master is back: go back to it.
        case failback
    }

    /// Seconds between checks of the current master; 0: none (a master that
    /// dies closes its connections, which the minion sees at once).
    var aliveInterval: Int64
    /// Seconds between checks of the first master; 0: no failback.
    var failbackInterval: Int64
    var current: MasterList.Address
    var primary: MasterList.Address

    /// Salt's options; failback without `master_failback_interval` checks
    /// every `master_alive_interval`, else every 30 seconds.
    init(_ opts: Config, current: MasterList.Address, primary: MasterList.Address) {
        aliveInterval = Int64(min(max(opts.int("master_alive_interval") ?? 0, 0), 86_400))
        let failback = opts.bool("master_failback") == true && current != primary
        let interval = Int64(min(max(opts.int("master_failback_interval") ?? 0, 0), 86_400))
        failbackInterval = failback ? (interval > 0 ? interval : (aliveInterval > 0 ? aliveInterval : 30)) : 0
        self.current = current
        self.primary = primary
    }

    /// Checks until one of the reasons holds (then records it in `outcome`
    /// and closes the connection) or the task is cancelled (the connection
    /// ended first). Each check has its own schedule; a probe waits at most
    /// `probeTimeout` seconds, so a cancelled watch ends soon after.
    func watch(_ channel: any Channel, outcome: Outcome) async {
        var nextAlive = aliveInterval, nextFailback = failbackInterval
        var elapsed: Int64 = 0
        while !Task.isCancelled {
            guard let due = [nextAlive, nextFailback].filter({ $0 > 0 }).min() else { return }
            do { try await Task.sleep(nanoseconds: UInt64(max(0, due - elapsed)) * 1_000_000_000) } catch { return }
            elapsed = due
            var found: Reason? = nil
            if aliveInterval > 0, elapsed >= nextAlive {
                nextAlive += aliveInterval
                if !(await WireBootstrap.probe(host: current.host, port: current.port, timeout: min(aliveInterval, Self.probeTimeout))) {
                    found = .masterGone
                }
            }
            if found == nil, failbackInterval > 0, elapsed >= nextFailback {
                nextFailback += failbackInterval
                if await WireBootstrap.probe(host: primary.host, port: primary.port, timeout: min(failbackInterval, Self.probeTimeout)) {
                    found = .failback
                }
            }
            if let found, !Task.isCancelled {
                outcome.reason.withLock { $0 = found }
                try? await channel.close()
                return
            }
        }
    }

    static let probeTimeout: Int64 = 5

    /// Why the watch closed the connection, read by the session when its
    /// connection ends (without waiting for a probe in flight).
    final class Outcome: Sendable {
        let reason = Mutex<Reason?>(nil)
    }
}
