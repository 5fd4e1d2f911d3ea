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

    /// - Parameters:
    ///   - minion: the authenticated id; whatever id the return claims is ignored.
    ///   - acknowledge: tells the minion it may forget the return.
    func receive(_ sent: JobReturn, from minion: String, acknowledge: () async throws -> Void) async throws {
        let jobReturn = JobReturn(jid: sent.jid, id: minion, value: sent.value, retcode: sent.retcode)
        let jid = jobReturn.jid
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
}
