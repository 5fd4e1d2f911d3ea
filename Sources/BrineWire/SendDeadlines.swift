import BrineCore
import NIOCore
import Synchronization

/// The deadlines of many sessions' sends, enforced by one timer (`run`)
/// instead of one per send.
///
/// A send's bytes must reach the socket within its deadline, or its peer is
/// dropped (`WireSession.enqueue`). An event-loop timer per send cost, for
/// every publish and every acknowledgement of a 10,000-minion ping, a
/// scheduled task (an allocation, a heap insertion, often a wake-up of the
/// loop) and, to cancel it once the bytes were written, a linear search of
/// the loop's timers (NIO's scheduled-task heap), on the master and on the
/// swarm alike. Here a session with sends in flight is in one set, added
/// when its first send is queued and removed when its last is written, and
/// `run` closes the sessions whose oldest pending deadline has passed: a
/// deadline is enforced up to `interval` late, which a 10 or 30 second
/// deadline does not notice.
public final class SendDeadlines: Sendable {
    /// Sessions with sends in flight. A session adds and removes itself
    /// under its own lock, so this set is never stale (lock order: the
    /// session's, then this one).
    private let watched = Mutex<[ObjectIdentifier: WireSession]>([:])
    /// How often deadlines are checked.
    public let interval: TimeAmount

    public init(interval: TimeAmount = .seconds(1)) {
        self.interval = interval
    }

    /// Checks deadlines every `interval` until the surrounding task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(max(1, interval.nanoseconds)))
            closeOverdue(at: .now())
        }
    }

    /// Runs `body` while deadlines are checked; the checking ends with it.
    public func watching<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withBackground(run, body)
    }

    /// Closes every session whose oldest pending send is past its deadline.
    func closeOverdue(at now: NIODeadline) {
        let sessions = watched.withLock { Array($0.values) }
        for session in sessions where session.isOverdue(at: now) {
            session.close()
        }
    }

    /// How many sessions have sends in flight (for tests).
    var watchedCount: Int { watched.withLock { $0.count } }

    func watch(_ session: WireSession) {
        _ = watched.withLock { $0.updateValue(session, forKey: ObjectIdentifier(session)) }
    }

    func unwatch(_ session: WireSession) {
        _ = watched.withLock { $0.removeValue(forKey: ObjectIdentifier(session)) }
    }
}
