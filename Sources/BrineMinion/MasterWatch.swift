import BrineCore
import BrineWire
import Foundation
import NIOCore

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

    var isIdle: Bool { aliveInterval == 0 && failbackInterval == 0 }

    /// Checks until one of the reasons holds (then closes the connection and
    /// returns it) or the task is cancelled (the connection ended first).
    func watch(_ channel: any Channel) async -> Reason? {
        let tick = [aliveInterval, failbackInterval].filter { $0 > 0 }.min() ?? Int64(0)
        guard tick > 0 else { return nil }
        var elapsed: Int64 = 0
        while !Task.isCancelled {
            do { try await Task.sleep(nanoseconds: UInt64(tick) * 1_000_000_000) } catch { return nil }
            elapsed += tick
            var reason: Reason? = nil
            if aliveInterval > 0, elapsed % aliveInterval == 0,
               !(await WireBootstrap.probe(host: current.host, port: current.port, timeout: aliveInterval)) {
                reason = .masterGone
            } else if failbackInterval > 0, elapsed % failbackInterval == 0,
                      await WireBootstrap.probe(host: primary.host, port: primary.port, timeout: failbackInterval) {
                reason = .failback
            }
            if let reason, !Task.isCancelled {
                try? await channel.close()
                return reason
            }
        }
        return nil
    }
}
