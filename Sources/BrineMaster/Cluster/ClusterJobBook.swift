import BrineCluster
import DequeModule

/// What one master knows of the cluster's jobs, read from `brine_sends`:
/// whom each was sent to (the union of its batches), to check returns
/// against and to find what a minion that connects here missed, and how
/// far this master has sent each to its own minions.
///
/// Bounded: past `maximumNames` minion names the jobs learnt first are
/// forgotten and read again when needed (a fleet-wide job is one name per
/// minion, and a job stays deliverable for `cluster_job_ttl`).
struct ClusterJobBook {
    struct Job {
        var payload: [UInt8]
        var expires: Double
        var targets: Set<String>
        /// The last batch read into `targets`: all batches up to it are in.
        var seq: Int

        /// A job first read (`batches` from its first batch on).
        init(_ read: ClusterDatabase.JobBatches) {
            (payload, expires, targets, seq) = (read.payload, read.expires, [], -1)
            add(read)
        }

        /// Adds the batches after `seq` (read from just after it).
        mutating func add(_ read: ClusterDatabase.JobBatches) {
            for batch in read.batches where batch.seq > seq {
                targets.formUnion(batch.minions)
                seq = batch.seq
            }
        }
    }

    /// One batch of one job.
    struct BatchKey: Hashable {
        var jid: String
        var seq: Int
    }

    private(set) var jobs: [String: Job] = [:]
    private var order = Deque<String>()
    private var names = 0
    let maximumNames: Int

    /// Per unexpired job, the last batch sent to the minions here (apart
    /// from `jobs`: a job forgotten there is not sent again).
    private(set) var dispatched: [String: Int] = [:]
    /// Batches published here: the minions the publisher sent them to
    /// itself, left out when its own `j:JID` comes back.
    private(set) var sentByPublisher: [BatchKey: Set<String>] = [:]
    /// When each job in `dispatched` or `sentByPublisher` expires: then it is forgotten.
    private var expiries: [String: Double] = [:]

    init(maximumNames: Int = 200_000) {
        self.maximumNames = maximumNames
    }

    /// The batches after `seq` to read for `jid` so that its targets are whole.
    func readFrom(_ jid: String) -> Int { jobs[jid]?.seq ?? -1 }

    /// What is known of these jobs (copies: they stay whole whatever is forgotten later).
    func known(_ jids: Set<String>) -> [String: Job] {
        var known: [String: Job] = [:]
        for jid in jids { known[jid] = jobs[jid] }
        return known
    }

    /// Adds batches read from the database. They extend what is known only
    /// when nothing lies between (read from the job's first batch, or from
    /// just after the last one learnt); returns the job as known now, nil
    /// when it could not be kept whole.
    @discardableResult
    mutating func learn(_ read: ClusterDatabase.JobBatches, readAfter after: Int) -> Job? {
        var job: Job
        let before: Int
        if let known = jobs[read.jid] {
            guard known.seq >= after else { return nil }
            (job, before) = (known, known.targets.count)
            job.add(read)
        } else {
            guard after == -1 else { return nil }
            (job, before) = (Job(read), 0)
            order.append(read.jid)
        }
        jobs[read.jid] = job
        names += job.targets.count - before
        forgetOldest(keeping: read.jid)
        return job
    }

    /// Forgets the jobs learnt first until the names fit (never `kept`, the one just learnt).
    private mutating func forgetOldest(keeping kept: String) {
        while names > maximumNames, let oldest = order.first, oldest != kept {
            order.removeFirst()
            if let job = jobs.removeValue(forKey: oldest) { names -= job.targets.count }
        }
    }

    /// The batches of `jid` up to `seq` were sent to the minions here.
    mutating func dispatched(_ jid: String, through seq: Int, expires: Double) {
        dispatched[jid] = max(dispatched[jid] ?? -1, seq)
        expiries[jid] = max(expiries[jid] ?? 0, expires)
    }

    /// A publisher here sends this batch to `local` itself.
    mutating func publishing(_ batch: BatchKey, local: Set<String>, expires: Double) {
        sentByPublisher[batch] = local
        expiries[batch.jid] = max(expiries[batch.jid] ?? 0, expires)
    }

    /// The minions the publisher here sent this batch to (once: the entry goes).
    mutating func takeSentByPublisher(_ batch: BatchKey) -> Set<String> {
        sentByPublisher.removeValue(forKey: batch) ?? []
    }

    /// Withdraws what a publisher said it sends itself; false when it was already taken.
    mutating func withdrawPublishing(_ batch: BatchKey) -> Bool {
        sentByPublisher.removeValue(forKey: batch) != nil
    }

    /// Forgets what concerns jobs expired by `now` (by their own expiry:
    /// never an entry made while a list of unexpired jobs was being read).
    mutating func forgetExpired(now: Double) {
        let expired = Set(expiries.filter { $0.value <= now }.keys)
        if !expired.isEmpty {
            dispatched = dispatched.filter { !expired.contains($0.key) }
            sentByPublisher = sentByPublisher.filter { !expired.contains($0.key.jid) }
            for jid in expired { expiries[jid] = nil }
        }
        for (jid, job) in jobs where job.expires <= now {
            jobs[jid] = nil
            names -= job.targets.count
        }
        order.removeAll { jobs[$0] == nil }
    }
}
