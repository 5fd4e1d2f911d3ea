import BrineCore
import BrineWire

/// Who is connected right now, their cached grains and pillar, and the jobs
/// waiting for returns. An actor: connection tasks, CLI tasks and timers
/// all meet here.
public actor MinionRegistry {
    struct Connected {
        let session: WireSession
        var grains: Value
        var pillar: Value = .emptyMap
    }

    /// What a waiting job hears about its minions.
    enum DeliveryEvent: Sendable {
        case returned(JobReturn)
        /// The job could not be handed to this minion's connection.
        case unreachable(id: String)
        /// The minion's connection closed while the job was out: it will not answer on it.
        case disconnected(id: String)
    }

    /// A job still being waited for: its expected minions and the stream its
    /// publisher reads, in batches (a batch of returns stored together is
    /// one element: its publisher forwards them in one write).
    struct Waiter {
        let expected: Set<String>
        let continuation: AsyncStream<[DeliveryEvent]>.Continuation
    }

    private var connected: [String: Connected] = [:]
    private var waiters: [String: Waiter] = [:]
    private var shared = SharedValues()

    public init() {}

    func connect(_ id: String, _ session: WireSession) {
        // A second connection under the same id replaces the first, which is closed:
        // one live session per minion, so a job is never sent to a dead one.
        if let old = connected[id]?.session, old !== session { old.close() }
        connected[id] = Connected(session: session, grains: .emptyMap)
    }

    /// False when this session was no longer the minion's (replaced or revoked).
    @discardableResult
    func disconnect(_ id: String, _ session: WireSession) -> Bool {
        guard connected[id]?.session === session else { return false }
        connected[id] = nil
        // Jobs waiting for this minion stop waiting now, not at their timeout.
        for waiter in waiters.values where waiter.expected.contains(id) {
            waiter.continuation.yield([.disconnected(id: id)])
        }
        return true
    }

    /// Closes the sessions of these minions (their keys are no longer accepted); the ones that were connected.
    func revoke(_ ids: some Sequence<String>) -> [String] {
        var revoked: [String] = []
        for id in ids {
            guard let session = connected[id]?.session else { continue }
            disconnect(id, session)
            session.close()
            revoked.append(id)
        }
        return revoked.sorted()
    }

    /// Closes the sessions of minions whose key is no longer accepted.
    /// - Parameter isAccepted: asked again per minion, so one admitted after the listing is kept.
    func revoke(keeping accepted: Set<String>, isAccepted: (String) -> Bool) -> [String] {
        let revoked = connected.keys.filter { !accepted.contains($0) && !isAccepted($0) }
        for id in revoked {
            if let session = connected[id]?.session {
                disconnect(id, session)
                session.close()
            }
        }
        return revoked.sorted()
    }

    /// A minion's grains, from its hello on `session` (a replaced connection's late hello is dropped).
    func setGrains(_ id: String, _ grains: Value, on session: WireSession) {
        guard connected[id]?.session === session else { return }
        connected[id]?.grains = shared.intern(grains, namespace: "grains")
    }

    /// The pillar compiled for this minion, kept for `-I`/`I@` targeting.
    func setPillar(_ id: String, _ pillar: Value, on session: WireSession) {
        guard connected[id]?.session === session else { return }
        connected[id]?.pillar = shared.intern(pillar, namespace: "pillar")
    }

    public var connectedIDs: [String] { connected.keys.sorted() }

    /// The live sessions of these minions, in one hop (a publish to 10,000
    /// minions must not cross the actor 10,000 times).
    func sessions(_ ids: some Sequence<String>) -> [(id: String, session: WireSession?)] {
        ids.map { ($0, connected[$0]?.session) }
    }

    func grains(_ id: String) -> Value { connected[id]?.grains ?? .emptyMap }

    /// Grains and pillar of every minion in `ids`, in one hop.
    func data(_ ids: [String]) -> [(grains: Value, pillar: Value)] {
        ids.map { (connected[$0]?.grains ?? .emptyMap, connected[$0]?.pillar ?? .emptyMap) }
    }

    /// A stream of events for a job, ended by `finish` (timeout or all in).
    func waitForReturns(_ jid: String, expected: Set<String>) -> AsyncStream<[DeliveryEvent]> {
        let (stream, continuation) = AsyncStream<[DeliveryEvent]>.makeStream()
        waiters[jid] = Waiter(expected: expected, continuation: continuation)
        return stream
    }

    /// Whether a job is being waited for and `id` is one of its minions.
    func isWaiting(_ jid: String, for id: String) -> Bool {
        waiters[jid]?.expected.contains(id) ?? false
    }

    func deliver(jid: String, _ event: DeliveryEvent) {
        waiters[jid]?.continuation.yield([event])
    }

    /// Of these returns, which a publisher here waits for (one hop for a batch).
    func waitingFor(_ returns: [JobReturn]) -> [Bool] {
        returns.map { waiters[$0.jid]?.expected.contains($0.id) ?? false }
    }

    /// Hands a batch of returns to their publishers here, in one hop.
    func deliver(_ returns: [JobReturn]) {
        var byJob: [String: [DeliveryEvent]] = [:]
        for jobReturn in returns where waiters[jobReturn.jid] != nil { byJob[jobReturn.jid, default: []].append(.returned(jobReturn)) }
        for (jid, events) in byJob { waiters[jid]?.continuation.yield(events) }
    }

    func finish(_ jid: String) {
        waiters.removeValue(forKey: jid)?.continuation.finish()
    }
}

/// A fleet's grains are mostly the same values (`cpu_flags`, `kernelparams`,
/// `os`, `path`, `dns`… are one image's): each top-level value is kept once
/// and every minion's map refers to that copy (Swift's collections share
/// their storage until written). 10,000 swarm minions each held ~36 KiB,
/// most of it identical grains. A key whose values are all different (`id`,
/// `fqdn`, addresses) stops being collected after `limit` values, and the
/// whole table starts again past `totalLimit` values: it stays bounded
/// whatever keys minions send (and holds nothing a minion's frame could not).
struct SharedValues {
    static let limit = 256
    static let totalLimit = 65_536
    private var known: [String: Set<Value>] = [:]
    private var total = 0

    /// Values held, all keys together.
    var count: Int { total }

    func count(of key: String, namespace: String) -> Int { known[namespace + "\u{0}" + key]?.count ?? 0 }

    mutating func intern(_ value: Value, namespace: String) -> Value {
        guard case .map(let map) = value else { return value }
        var out = map
        for (key, item) in map {
            let slot = namespace + "\u{0}" + key
            if let index = known[slot]?.firstIndex(of: item), let stored = known[slot]?[index] {
                out[key] = stored
            } else if known[slot, default: []].count < Self.limit {
                if total >= Self.totalLimit {
                    known = [:]
                    total = 0
                }
                known[slot, default: []].insert(item)
                total += 1
            }
        }
        return .map(out)
    }
}
