import BrineCluster
import BrineCore
import BrineWire
import Logging
import Synchronization

/// Where minions' returns go: checked, written to the job cache, then
/// acknowledged and handed to the job's publisher.
///
/// Cached before acknowledged: a return the minion forgot (on the ack) is
/// in the cache, so it survives a master crash.
struct ReturnSink: Sendable {
    let registry: MinionRegistry
    let jobs: JobCache?
    let logger: Logger
    /// In a cluster the database is the job cache of record: a return is acknowledged once stored there.
    let cluster: ClusterNode?

    /// - Parameters:
    ///   - minion: the authenticated id; whatever id the return claims is ignored.
    ///   - session: where to acknowledge it (the minion may then forget it); nil when the minion takes no acks.
    ///   - inFlight: this connection's returns not yet stored (a cluster's queue: one minion cannot fill it).
    func receive(_ sent: JobReturn, from minion: String, acknowledgingOn session: WireSession?, inFlight: ReturnsInFlight) async throws {
        let jobReturn = JobReturn(jid: sent.jid, id: minion, value: sent.value, retcode: sent.retcode)
        let jid = jobReturn.jid
        if let cluster { return try await queueInCluster(jobReturn, cluster, session: session, inFlight: inFlight) }
        // Only a job this minion was sent is recorded (no filling the cache with made-up jids).
        let waiting = await registry.isWaiting(jid, for: minion)
        guard waiting || (try? jobs?.expects(jid: jid, minion: minion)) == true else {
            logger.warning("minion \(minion) returned for job \(LogText.escape(jid)), which it was not sent: dropped")
            try await session?.send(MasterMessage.returnAck(jid: jid).encoded())
            return
        }
        do {
            try jobs?.recordReturn(jid: jid, minion: minion, value: jobReturn.value, retcode: jobReturn.retcode)
        } catch {
            // Not acknowledged: the minion sends it again on its next connection.
            logger.error("job cache: \(error)")
            return
        }
        try await session?.send(MasterMessage.returnAck(jid: jid).encoded())
        await registry.deliver(jid: jid, .returned(jobReturn))
    }

    /// In a cluster: checked, then queued for `storeClusterReturns`.
    func queueInCluster(_ jobReturn: JobReturn, _ cluster: ClusterNode, session: WireSession?, inFlight: ReturnsInFlight) async throws {
        // A jid is Brine's (20 digits) or a caller's: short ASCII letters, digits, '_' and '-' only.
        let jidBytes = jobReturn.jid.utf8
        guard !jidBytes.isEmpty, jidBytes.count <= 64,
            jidBytes.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F || $0 == 0x2D })
        else {
            logger.warning("minion \(jobReturn.id) returned for job \(LogText.escape(jobReturn.jid)), which it was not sent: dropped")
            try await session?.send(MasterMessage.returnAck(jid: jobReturn.jid).encoded())
            return
        }
        guard inFlight.enter() else {
            logger.warning("minion \(jobReturn.id): \(ReturnsInFlight.limit) returns already wait for the cluster database; return for \(LogText.escape(jobReturn.jid)) not acknowledged (the minion sends it again when it reconnects)")
            return
        }
        let entry = ClusterReturn(jobReturn: jobReturn, record: ClusterDatabase.ReceivedReturn(jobReturn), session: session, inFlight: inFlight)
        if !cluster.returnQueue.append(entry) {
            inFlight.leave()
            logger.error("minion \(jobReturn.id): return for \(LogText.escape(jobReturn.jid)) refused, \(cluster.returnQueue.maximumBytes >> 20) MiB of returns wait for the cluster database; the minion sends it again when it reconnects")
        }
    }

    /// In a cluster: stores the queued returns in batches until cancelled.
    /// A return is stored only against a delivery of that job to that
    /// minion (the database checks, in the same statement), once; then in
    /// the local job cache when this master published the job (its stats),
    /// acknowledged, and handed to the job's publisher if it is here (the
    /// others read it on `r:JID`). A batch the database cannot take is
    /// retried for up to two minutes (a restart, a failover), then left
    /// unacknowledged: each minion sends its return again when it reconnects.
    func storeClusterReturns(_ cluster: ClusterNode) async {
        await cluster.returnQueue.work { batch in
            defer { for entry in batch { entry.inFlight.leave() } }
            guard let stored = await cluster.untilWritten(givenUp: "\(batch.count) return(s) left to their minions to send again", {
                try await ClusterNode.store(batch.map(\.record), in: cluster.database)
            }) else { return }
            let fresh = batch.filter { stored.contains($0.record.key) }.map(\.jobReturn)
            if fresh.count < batch.count { logger.debug("\(batch.count - fresh.count) return(s) already stored or not expected") }
            let waited = await registry.waitingFor(fresh)
            let published = zip(fresh, waited).filter(\.1).map { (jid: $0.0.jid, minion: $0.0.id, value: $0.0.value, retcode: $0.0.retcode) }
            if !published.isEmpty {
                do { try jobs?.recordReturns(published) } catch { logger.error("job cache: \(error)") }
            }
            for entry in batch {
                // Not awaited: a slow minion's socket must not hold up the others' acks.
                _ = try? entry.session?.enqueue(MasterMessage.returnAck(jid: entry.jobReturn.jid).encoded())
            }
            await registry.deliver(fresh)
        }
    }
}

/// A return received in a cluster, waiting for the database.
struct ClusterReturn: Sendable {
    let jobReturn: JobReturn
    /// Its value encoded once (the batch is bounded by its size).
    let record: ClusterDatabase.ReceivedReturn
    /// Where to acknowledge it; nil when the minion takes no acks.
    let session: WireSession?
    let inFlight: ReturnsInFlight

    /// What it holds: the encoded value, and the decoded one (roughly twice that).
    var weight: Int { record.size * 3 }
}

/// One connection's returns queued and not yet stored: at most `limit`, so
/// that one minion (a broken or hostile one) cannot fill the queue the
/// whole fleet's returns go through.
final class ReturnsInFlight: Sendable {
    static let limit = 1000
    private let count = Atomic<Int>(0)

    init() {}

    func enter() -> Bool {
        if count.add(1, ordering: .relaxed).newValue <= Self.limit { return true }
        count.subtract(1, ordering: .relaxed)
        return false
    }

    func leave() {
        count.subtract(1, ordering: .relaxed)
    }
}
