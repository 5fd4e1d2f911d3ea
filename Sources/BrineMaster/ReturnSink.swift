import BrineCluster
import BrineCore
import BrineWire
import Logging
import Synchronization

/// Where minions' returns go: checked, queued, stored in batches (the job
/// cache, or in a cluster the database), then acknowledged and handed to
/// the job's publisher.
///
/// Stored before acknowledged: a return the minion forgot (on the ack) is
/// stored, so it survives a master crash. A minion's connection hands its
/// return over without waiting (`WorkQueue`) and goes back to reading: a
/// connection lives for days and keeps the memory of its deepest awaited
/// call, and one write per return cost a transaction each (one master at
/// 10,000 minions: 1.79 CPU-s a `test.ping` with a SQLite write awaited per
/// return, against 1.10 for the cluster's batches).
struct ReturnSink: Sendable {
    let registry: MinionRegistry
    let jobs: JobCache?
    let logger: Logger
    /// In a cluster the database is the job cache of record: a return is acknowledged once stored there.
    let cluster: ClusterNode?
    /// Returns received, waiting to be stored (`storeReturns`).
    let queue = WorkQueue<QueuedReturn>(weight: \.weight)

    /// - Parameters:
    ///   - minion: the authenticated id; whatever id the return claims is ignored.
    ///   - size: the size of the message that carried it (what the queue counts).
    ///   - session: where to acknowledge it (the minion may then forget it); nil when the minion takes no acks.
    ///   - inFlight: this connection's returns not yet stored (one minion cannot fill the queue).
    func receive(_ sent: JobReturn, size: Int, from minion: String, acknowledgingOn session: WireSession?, inFlight: ReturnsInFlight) {
        let jobReturn = JobReturn(jid: sent.jid, id: minion, value: sent.value, retcode: sent.retcode)
        guard Self.isWellFormed(jid: jobReturn.jid) else {
            logger.warning("minion \(minion) returned for job \(LogText.escape(String(jobReturn.jid.prefix(80)))), which it was not sent: dropped")
            // Acknowledged so that it forgets it, unless the jid is too long to echo (up to 16 MiB).
            if jobReturn.jid.utf8.count <= 1024 { _ = try? session?.enqueue(MasterMessage.returnAck(jid: jobReturn.jid).encoded()) }
            return
        }
        let weight = size * 3
        guard inFlight.enter(weight: weight) else {
            logger.warning("minion \(minion): too many of its returns already wait to be stored (\(ReturnsInFlight.limit) or \(ReturnsInFlight.byteLimit >> 20) MiB); return for \(jobReturn.jid) not acknowledged (the minion sends it again when it reconnects)")
            return
        }
        let entry = QueuedReturn(jobReturn: jobReturn, record: cluster.map { _ in ClusterDatabase.ReceivedReturn(jobReturn) }, session: session,
                                 inFlight: inFlight, weight: weight)
        if !queue.append(entry) {
            inFlight.leave(weight: weight)
            logger.error("minion \(minion): return for \(jobReturn.jid) refused, \(queue.maximumBytes >> 20) MiB of returns wait to be stored; the minion sends it again when it reconnects")
        }
    }

    /// A jid is Brine's (20 digits) or a caller's: short ASCII letters, digits, '_' and '-' only.
    static func isWellFormed(jid: String) -> Bool {
        let bytes = jid.utf8
        return !bytes.isEmpty && bytes.count <= 64
            && bytes.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F || $0 == 0x2D }
    }

    /// Stores the queued returns in batches until cancelled; then
    /// acknowledges each and hands the new ones to their publishers here in
    /// one registry hop. A batch that cannot be stored is left
    /// unacknowledged: each minion sends its return again when it reconnects.
    func storeReturns() async {
        await queue.work { batch in
            defer { for entry in batch { entry.inFlight.leave(weight: entry.weight) } }
            let stored: Stored?
            if let cluster { stored = await storeInCluster(batch, cluster) } else { stored = await storeInJobCache(batch) }
            guard let stored else { return }
            // A fleet's returns for one job share one acknowledgement: encoded once per job and batch.
            var acks: [String: [UInt8]] = [:]
            for entry in batch where !stored.refused.contains(ReturnKey(jid: entry.jobReturn.jid, minion: entry.jobReturn.id)) {
                guard let session = entry.session else { continue }
                let jid = entry.jobReturn.jid
                let ack = acks[jid] ?? MasterMessage.returnAck(jid: jid).encoded()
                acks[jid] = ack
                // Not awaited: a slow minion's socket must not hold up the others' acks.
                _ = try? session.enqueue(ack)
            }
            await registry.deliver(stored.fresh)
        }
    }

    /// What became of a batch: the returns for their publishers, and those
    /// the store refused (left unacknowledged: their minions send them again).
    struct Stored {
        var fresh: [JobReturn]
        var refused: Set<ReturnKey> = []
    }

    /// One master: only a return for a job this minion was sent is kept (no
    /// filling the cache with made-up jids), in one transaction; when that
    /// fails, each alone (one return the cache refuses must not sink the
    /// others); nil when none could be stored.
    func storeInJobCache(_ batch: [QueuedReturn]) async -> Stored? {
        let returns = batch.map(\.jobReturn)
        let waited = await registry.waitingFor(returns)
        // A job no publisher waits for any more (a late return): the job cache says whom it was for, read once per job.
        var expected: [String: Set<String>] = [:]
        let kept = zip(returns, waited).compactMap { jobReturn, waited -> JobReturn? in
            if waited { return jobReturn }
            if expected[jobReturn.jid] == nil { expected[jobReturn.jid] = Set((try? jobs?.job(jobReturn.jid))?.minions ?? []) }
            if expected[jobReturn.jid]?.contains(jobReturn.id) == true { return jobReturn }
            logger.warning("minion \(jobReturn.id) returned for job \(jobReturn.jid), which it was not sent: dropped")
            return nil
        }
        guard let jobs else { return Stored(fresh: kept) }
        do {
            try jobs.recordReturns(kept)
            return Stored(fresh: kept)
        } catch {
            var stored = Stored(fresh: [])
            for jobReturn in kept {
                do {
                    try jobs.recordReturns([jobReturn])
                    stored.fresh.append(jobReturn)
                } catch {
                    logger.error("job cache: \(error); the return of \(jobReturn.id) for \(jobReturn.jid) is left to it to send again")
                    stored.refused.insert(ReturnKey(jid: jobReturn.jid, minion: jobReturn.id))
                }
            }
            return stored.fresh.isEmpty && !kept.isEmpty ? nil : stored
        }
    }

    /// In a cluster: stored only when the job was sent to that minion (a
    /// publisher here waits for it, else the job's batches say so), once;
    /// then in the local job cache when this master published the job (its
    /// stats). Retried for up to two minutes while the database is away (a
    /// restart, a failover); nil after that.
    func storeInCluster(_ batch: [QueuedReturn], _ cluster: ClusterNode) async -> Stored? {
        let waited = await registry.waitingFor(batch.map(\.jobReturn))
        // Each record beside whether its publisher waits here (a record is made for every return in a cluster).
        let records = zip(batch, waited).compactMap { entry, waited in entry.record.map { ($0, waited) } }
        guard let outcome = await cluster.untilWritten(givenUp: "\(batch.count) return(s) left to their minions to send again", {
            try await cluster.store(records.map(\.0), published: records.map(\.1))
        }) else { return nil }
        if outcome.unexpected > 0 { logger.warning("\(outcome.unexpected) return(s) for jobs their minions were not sent: dropped") }
        let fresh = zip(batch, waited).filter { entry, _ in entry.record.map { outcome.stored.contains($0.key) } ?? false }
        let again = batch.count - fresh.count - outcome.unexpected - outcome.refused.count
        if again > 0 { logger.debug("\(again) return(s) already stored") }
        let published = fresh.filter(\.1).map(\.0.jobReturn)
        if !published.isEmpty {
            do { try jobs?.recordReturns(published) } catch { logger.error("job cache: \(error)") }
        }
        return Stored(fresh: fresh.map(\.0.jobReturn), refused: outcome.refused)
    }
}

/// A return received, waiting to be stored.
struct QueuedReturn: Sendable {
    let jobReturn: JobReturn
    /// In a cluster: its value encoded for the database, once.
    let record: ClusterDatabase.ReceivedReturn?
    /// Where to acknowledge it; nil when the minion takes no acks.
    let session: WireSession?
    let inFlight: ReturnsInFlight
    /// What it holds: about three times its message (decoded, and encoded for the database).
    let weight: Int
}

/// One connection's returns queued and not yet stored: at most `limit`
/// returns and `byteLimit` of weight (one return, however large, is always
/// let in), so that one minion (a broken or hostile one) cannot fill the
/// queue the whole fleet's returns go through.
final class ReturnsInFlight: Sendable {
    static let limit = 1000
    static let byteLimit = 32 << 20
    private let state = Mutex<(count: Int, bytes: Int)>((0, 0))

    init() {}

    func enter(weight: Int) -> Bool {
        state.withLock { s in
            guard s.count == 0 || (s.count < Self.limit && s.bytes + weight <= Self.byteLimit) else { return false }
            s.count += 1
            s.bytes += weight
            return true
        }
    }

    func leave(weight: Int) {
        state.withLock { s in
            s.count = max(0, s.count - 1)
            s.bytes = max(0, s.bytes - weight)
        }
    }
}
