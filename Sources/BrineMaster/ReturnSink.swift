import BrineCore
import BrineWire
import Logging

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
    ///   - acknowledge: tells the minion it may forget the return.
    func receive(_ sent: JobReturn, from minion: String, acknowledge: () async throws -> Void) async throws {
        let jobReturn = JobReturn(jid: sent.jid, id: minion, value: sent.value, retcode: sent.retcode)
        let jid = jobReturn.jid
        if let cluster { return try await receiveInCluster(jobReturn, cluster, acknowledge: acknowledge) }
        // Only a job this minion was sent is recorded (no filling the cache with made-up jids).
        let waiting = await registry.isWaiting(jid, for: minion)
        guard waiting || (try? jobs?.expects(jid: jid, minion: minion)) == true else {
            logger.warning("minion \(minion) returned for job \(LogText.escape(jid)), which it was not sent: dropped")
            try await acknowledge()
            return
        }
        do {
            try jobs?.recordReturn(jid: jid, minion: minion, value: jobReturn.value, retcode: jobReturn.retcode)
        } catch {
            // Not acknowledged: the minion sends it again on its next connection.
            logger.error("job cache: \(error)")
            return
        }
        try await acknowledge()
        await registry.deliver(jid: jid, .returned(jobReturn))
    }

    /// Stored in the cluster's database only against a delivery of that
    /// job to that minion (the database checks, in the same statement),
    /// once; then in the local job cache when this master published the
    /// job (its stats and event stream), acknowledged, and handed to the
    /// job's publisher if it is here (the others read it on `r:JID`).
    func receiveInCluster(_ jobReturn: JobReturn, _ cluster: ClusterNode, acknowledge: () async throws -> Void) async throws {
        // A jid is Brine's (20 digits) or a caller's: short ASCII letters, digits, '_' and '-' only.
        let jidBytes = jobReturn.jid.utf8
        guard !jidBytes.isEmpty, jidBytes.count <= 64,
            jidBytes.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F || $0 == 0x2D })
        else {
            logger.warning("minion \(jobReturn.id) returned for job \(LogText.escape(jobReturn.jid)), which it was not sent: dropped")
            try await acknowledge()
            return
        }
        var stored: Bool? = nil
        // The database away (a restart, a failover): the return waits here, retried, for up to
        // two minutes; then it is left unacknowledged and the minion sends it again on its next connection.
        var delay = 0.5
        let deadline = ContinuousClock.now + .seconds(120)
        while stored == nil {
            do {
                stored = try await cluster.record(jobReturn)
            } catch {
                guard ContinuousClock.now < deadline, !Task.isCancelled else {
                    logger.error("\(error); the return of \(jobReturn.id) for \(LogText.escape(jobReturn.jid)) is left to the minion to send again")
                    return
                }
                if delay == 0.5 { logger.warning("\(error); retrying") }
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                delay = min(delay * 2, 5)
            }
        }
        guard let stored else { return }
        if !stored { logger.debug("minion \(jobReturn.id): return for \(LogText.escape(jobReturn.jid)) already stored or not expected") }
        if stored, await registry.isWaiting(jobReturn.jid, for: jobReturn.id) {
            do { try jobs?.recordReturn(jid: jobReturn.jid, minion: jobReturn.id, value: jobReturn.value, retcode: jobReturn.retcode) } catch {
                logger.error("job cache: \(error)")
            }
        }
        try await acknowledge()
        if stored { await registry.deliver(jid: jobReturn.jid, .returned(jobReturn)) }
    }
}
