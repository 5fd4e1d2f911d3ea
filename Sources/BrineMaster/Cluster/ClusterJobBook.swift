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
        var origin: String
        var targets: Set<String>
        /// The last batch read into `targets`: all batches up to it are in.
        var seq: Int
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
    var dispatched: [String: Int] = [:]
    /// Batches published here: the minions the publisher sent them to
    /// itself, left out when its own `j:JID` comes back.
    var sentByPublisher: [BatchKey: Set<String>] = [:]

    init(maximumNames: Int = 200_000) {
        self.maximumNames = maximumNames
    }

    /// The batches after `seq` to read for `jid` so that its targets are whole.
    func readFrom(_ jid: String) -> Int { jobs[jid]?.seq ?? -1 }

    /// Adds batches read from the database. They extend what is known only
    /// when nothing lies between (read from the job's first batch, or from
    /// just after the last one learnt); returns the job as known now, nil
    /// when it could not be kept whole.
    @discardableResult
    mutating func learn(_ read: ClusterDatabase.JobBatches, readAfter after: Int) -> Job? {
        var job: Job
        if let known = jobs[read.jid] {
            guard known.seq >= after else { return nil }
            job = known
        } else {
            guard after == -1 else { return nil }
            job = Job(payload: read.payload, expires: read.expires, origin: read.origin, targets: [], seq: -1)
            order.append(read.jid)
        }
        let before = job.targets.count
        for batch in read.batches where batch.seq > job.seq {
            job.targets.formUnion(batch.minions)
            job.seq = batch.seq
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

    /// Keeps only what concerns these unexpired jobs.
    mutating func keep(only unexpired: Set<String>) {
        dispatched = dispatched.filter { unexpired.contains($0.key) }
        sentByPublisher = sentByPublisher.filter { unexpired.contains($0.key.jid) }
        for (jid, job) in jobs where !unexpired.contains(jid) {
            jobs[jid] = nil
            names -= job.targets.count
        }
        order.removeAll { jobs[$0] == nil }
    }
}
