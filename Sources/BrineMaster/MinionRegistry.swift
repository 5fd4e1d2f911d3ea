import BrineCore
import BrineWire

/// Who is connected right now, their cached grains, and the jobs waiting
/// for returns. An actor: connection tasks, CLI tasks and timers all meet
/// here.
public actor MinionRegistry {
    struct Connected {
        let session: WireSession
        var grains: Value
        var pillar: Value = .emptyMap
    }

    private var connected: [String: Connected] = [:]
    private var waiters: [String: AsyncStream<WireMessage>.Continuation] = [:]

    public init() {}

    func connect(_ id: String, _ session: WireSession) {
        connected[id] = Connected(session: session, grains: .emptyMap)
    }

    func disconnect(_ id: String, _ session: WireSession) {
        if connected[id]?.session === session { connected[id] = nil }
    }

    func setGrains(_ id: String, _ grains: Value) {
        connected[id]?.grains = grains
    }

    /// The pillar compiled for this minion, kept for `-I`/`I@` targeting.
    func setPillar(_ id: String, _ pillar: Value) {
        connected[id]?.pillar = pillar
    }

    func pillar(_ id: String) -> Value { connected[id]?.pillar ?? .emptyMap }

    public var connectedIDs: [String] { connected.keys.sorted() }

    func session(_ id: String) -> WireSession? { connected[id]?.session }

    func grains(_ id: String) -> Value { connected[id]?.grains ?? .emptyMap }

    /// A stream of returns for a job, ended by `finish` (timeout or all in).
    func waitForReturns(_ jid: String) -> AsyncStream<WireMessage> {
        let (stream, continuation) = AsyncStream<WireMessage>.makeStream()
        waiters[jid] = continuation
        return stream
    }

    func deliver(_ message: WireMessage) {
        guard case .jobReturn(let jid, _, _, _) = message else { return }
        waiters[jid]?.yield(message)
    }

    func finish(_ jid: String) {
        waiters.removeValue(forKey: jid)?.finish()
    }
}
