import BrineCore
import BrineWire
import Foundation
import NIOCore
import PostgresNIO

/// Jobs, the batches they were sent in, and returns, shared by the
/// cluster's masters.
///
/// A job published on any master is recorded with the exact message its
/// minions get (`payload`), then each batch it is sent in (`brine_sends`:
/// without `-b` one, for every minion of the job). The publishing master
/// sends it to its own minions; `j:JID` wakes the others, and each sends it
/// to the minions of the batch connected to it. A minion connecting
/// anywhere is sent every unexpired job it is a target of and has not
/// returned; minions drop a jid they already ran (`minion_jid_queue_hwm`),
/// so the rare second send (a minion moving while the job goes out) runs
/// nothing twice. A return is stored once (`ON CONFLICT DO NOTHING`) and
/// only for a minion the job was sent to (checked by the master that
/// receives it, `ClusterNode`), and `r:JID` wakes the publishing master,
/// which streams it to its client.
///
/// Nothing is written per minion but its return: per-minion delivery rows
/// (written, claimed and deleted for each minion of each job) were most of
/// PostgreSQL's work for a fleet-wide job, and held the claims and the
/// returns in each other's row locks.
extension ClusterDatabase {
    public struct JobRecord: Sendable {
        public var jid: String
        public var fun: String
        public var arguments: Value
        public var target: String
        public var targetType: String
        public var minions: [String]
        public var started: Double
        /// Until when a minion that connects late is still sent the job.
        public var expires: Double
        public var user: String
        /// The message the minions get, as encoded for the wire.
        public var payload: [UInt8]

        public init(jid: String, fun: String, arguments: Value, target: String, targetType: String, minions: [String], started: Double,
                    expires: Double, user: String, payload: [UInt8])
        {
            self.jid = jid
            self.fun = fun
            self.arguments = arguments
            self.target = target
            self.targetType = targetType
            self.minions = minions
            self.started = started
            self.expires = expires
            self.user = user
            self.payload = payload
        }
    }

    /// Records a job before anything is sent: when the database cannot
    /// take it, the job fails and nothing of it exists.
    public func record(_ job: JobRecord) async throws {
        do {
            try await rows("""
                INSERT INTO brine_jobs (jid, fun, arguments, target, target_type, minions, started, expires, "user", origin, payload)
                VALUES (\(job.jid), \(job.fun), \(ByteBuffer(value: job.arguments)), \(job.target), \(job.targetType), \(job.minions),
                        \(job.started), \(job.expires), \(job.user), \(master), \(ByteBuffer(bytes: job.payload)))
                """)
        } catch {
            throw ClusterError("recording job \(job.jid)", error)
        }
    }

    /// Records one batch of a job (`minions` nil: every minion of the
    /// job) and, when some of them are not connected here (`remote`), wakes
    /// the other masters. Returns the remote minions connected to a live
    /// master; the others are recorded as unconnected (a job's outcome says
    /// so) and get the job if they connect before it expires.
    public func deliver(jid: String, seq: Int, minions: [String]?, remote: [String]) async throws -> Set<String> {
        do {
            return try await transaction { connection in
                try await rows("INSERT INTO brine_sends (jid, seq, minions) VALUES (\(jid), \(Int32(clamping: seq)), \(minions))", on: connection)
                guard !remote.isEmpty else { return [] }
                try await rows("SELECT pg_notify('brine_cluster', \("j:" + jid))", on: connection)
                let connected = Set(try await rows("""
                    SELECT m.id FROM brine_minions m JOIN brine_masters a ON a.name = m.master
                    WHERE m.id = ANY(\(remote)) AND a.seen > now() - interval '15 seconds'
                    """, on: connection).map { try $0.decode(String.self) })
                let unconnected = remote.filter { !connected.contains($0) }
                if !unconnected.isEmpty {
                    try await rows("UPDATE brine_sends SET unconnected = \(unconnected) WHERE jid = \(jid) AND seq = \(Int32(clamping: seq))", on: connection)
                }
                return connected
            }
        } catch {
            throw ClusterError("delivering job \(jid)", error)
        }
    }

    /// Jobs' batches, each after the `seq` given for it, with what a master
    /// needs to send them and to check returns against them; a job absent
    /// from the answer does not exist or has no batch after its `seq`.
    public func batches(_ wanted: [(jid: String, after: Int)]) async throws -> [String: JobBatches] {
        guard !wanted.isEmpty else { return [:] }
        do {
            var read: [String: JobBatches] = [:]
            for row in try await rows("""
                SELECT j.jid, j.payload, j.expires, s.seq, coalesce(s.minions, j.minions)
                FROM unnest(\(wanted.map(\.jid))::text[], \(wanted.map { Int32(clamping: $0.after) })::int4[]) AS w(jid, after)
                JOIN brine_jobs j ON j.jid = w.jid JOIN brine_sends s ON s.jid = w.jid AND s.seq > w.after
                ORDER BY s.seq
                """) {
                let (jid, payload, expires, seq, minions) = try row.decode((String, ByteBuffer, Double, Int32, [String]).self)
                read[jid, default: JobBatches(jid: jid, payload: Array(payload.readableBytesView), expires: expires)]
                    .batches.append((Int(seq), minions))
            }
            return read
        } catch {
            throw ClusterError("reading jobs", error)
        }
    }

    /// One job's batches as a master reads them.
    public struct JobBatches: Sendable {
        public var jid: String
        public var payload: [UInt8]
        public var expires: Double
        public var batches: [(seq: Int, minions: [String])] = []

        public init(jid: String, payload: [UInt8], expires: Double) {
            self.jid = jid
            self.payload = payload
            self.expires = expires
        }
    }

    /// The unexpired jobs and the last batch of each: what a master
    /// compares with what it has sent (a hint lost) and looks through for a
    /// minion that connects.
    public func unexpiredJobs(at now: Double = Date().timeIntervalSince1970) async throws -> [(jid: String, lastSeq: Int, expires: Double)] {
        do {
            return try await rows("""
                SELECT s.jid, max(s.seq), max(j.expires) FROM brine_jobs j JOIN brine_sends s USING (jid)
                WHERE j.expires > \(now) GROUP BY s.jid
                """).map { row in
                let (jid, seq, expires) = try row.decode((String, Int32, Double).self)
                return (jid, Int(seq), expires)
            }
        } catch {
            throw ClusterError("reading the unexpired jobs", error)
        }
    }

    /// Which of these (job, minion) pairs have a return stored.
    public func returned(_ pairs: [ReturnKey]) async throws -> Set<ReturnKey> {
        guard !pairs.isEmpty else { return [] }
        do {
            return Set(try await rows("""
                SELECT r.jid, r.minion FROM unnest(\(pairs.map(\.jid))::text[], \(pairs.map(\.minion))::text[]) AS p(jid, minion)
                JOIN brine_returns r USING (jid, minion)
                """).map { row in
                let (jid, minion) = try row.decode((String, String).self)
                return ReturnKey(jid: jid, minion: minion)
            })
        } catch {
            throw ClusterError("reading returns", error)
        }
    }

    /// One job to send to some minions: its message once, not once per minion.
    public struct Dispatch: Sendable {
        public var jid: String
        public var minions: [String]
        public var payload: [UInt8]

        public init(jid: String, minions: [String], payload: [UInt8]) {
            self.jid = jid
            self.minions = minions
            self.payload = payload
        }
    }

    /// Minions that connected here or left, in the order it happened
    /// (the last event per minion counts): the ones connected are marked
    /// as this master's, the others as connected nowhere unless another
    /// master has them since. Returns the ids that arrived (whom the caller
    /// sends the jobs they missed).
    @discardableResult
    public func presence(_ events: [(id: String, connected: Bool)]) async throws -> [String] {
        var last: [String: Bool] = [:]
        for event in events { last[event.id] = event.connected }
        let arrived = last.filter(\.value).map(\.key), left = last.filter { !$0.value }.map(\.key)
        do {
            try await transaction { connection in
                if !left.isEmpty {
                    try await rows("UPDATE brine_minions SET master = NULL, changed = now() WHERE id = ANY(\(left)) AND master = \(master)", on: connection)
                }
                if !arrived.isEmpty {
                    try await rows("""
                        INSERT INTO brine_minions (id, master) SELECT id, \(master) FROM unnest(\(arrived)::text[]) AS id
                        ON CONFLICT (id) DO UPDATE SET master = excluded.master, changed = now()
                        """, on: connection)
                }
            }
            return arrived
        } catch {
            throw ClusterError("recording connected minions", error)
        }
    }

    /// A minion's grains and compiled pillar, encoded once (a batch is bounded by their size).
    public struct MinionData: Sendable {
        public let id: String
        let grains: ByteBuffer
        let pillar: ByteBuffer

        public init(id: String, grains: Value, pillar: Value) {
            self.id = id
            self.grains = ByteBuffer(value: grains)
            self.pillar = ByteBuffer(value: pillar)
        }

        public var size: Int { id.utf8.count + grains.readableBytes + pillar.readableBytes }
    }

    /// Grains and compiled pillar, for targeting from any master.
    public func setData(_ updates: [MinionData]) async throws {
        // One row per minion (the last), or the upsert would touch a row twice.
        var index: [String: Int] = [:]
        var entries: [MinionData] = []
        for update in updates {
            if let at = index[update.id] { entries[at] = update } else {
                index[update.id] = entries.count
                entries.append(update)
            }
        }
        do {
            try await rows("""
                INSERT INTO brine_minions (id, master, grains, pillar)
                SELECT id, \(master), grains, pillar FROM unnest(\(entries.map(\.id))::text[], \(entries.map(\.grains))::bytea[],
                                                          \(entries.map(\.pillar))::bytea[]) AS e(id, grains, pillar)
                ON CONFLICT (id) DO UPDATE SET grains = excluded.grains, pillar = excluded.pillar, changed = now()
                """)
        } catch {
            throw ClusterError("recording grains", error)
        }
    }

    /// Grains and pillar last recorded for these minions (absent: never seen).
    public func data(_ ids: [String]) async throws -> [String: (grains: Value, pillar: Value)] {
        do {
            var out: [String: (grains: Value, pillar: Value)] = [:]
            for row in try await rows("SELECT id, grains, pillar FROM brine_minions WHERE id = ANY(\(ids))") {
                let (id, grains, pillar) = try row.decode((String, ByteBuffer?, ByteBuffer?).self)
                out[id] = (grains?.decodedValue ?? .emptyMap, pillar?.decodedValue ?? .emptyMap)
            }
            return out
        } catch {
            throw ClusterError("reading grains", error)
        }
    }

    public struct StoredReturn: Sendable {
        public var jid: String
        public var minion: String
        public var value: Value
        public var retcode: Int

        /// From a row of `minion, value, retcode`.
        init(jid: String, row: PostgresRow) throws {
            let (minion, value, retcode) = try row.decode((String, ByteBuffer, Int64).self)
            self.init(jid: jid, minion: minion, value: value.decodedValue, retcode: Int(clamping: retcode))
        }

        init(jid: String, minion: String, value: Value, retcode: Int) {
            self.jid = jid
            self.minion = minion
            self.value = value
            self.retcode = retcode
        }
    }

    /// A return received here, its value encoded once (a batch is bounded by its size).
    public struct ReceivedReturn: Sendable {
        public let key: ReturnKey
        let value: ByteBuffer
        let retcode: Int
        /// The value, kept when it may be a state run's (a map whose first
        /// entry has a `result`): read as one only once stored, when its job is one.
        let candidate: Value?

        public init(_ jobReturn: JobReturn) {
            key = ReturnKey(jid: jobReturn.jid, minion: jobReturn.id)
            value = ByteBuffer(value: jobReturn.value)
            retcode = jobReturn.retcode
            candidate = jobReturn.value.mapValue?.values.first?["result"] == nil ? nil : jobReturn.value
        }

        public var size: Int { key.jid.utf8.count + key.minion.utf8.count + value.readableBytes }
    }

    /// Stores returns received here (the caller checked that each job was
    /// sent to its minion), each once, and notifies `r:JID` once per job.
    /// Returns the (jid, minion) pairs stored now; the others were duplicates.
    public func recordReturns(_ returns: [ReceivedReturn]) async throws -> Set<ReturnKey> {
        guard !returns.isEmpty else { return [] }
        let received = Date().timeIntervalSince1970
        do {
            return try await transaction { connection in
                let stored = try await rows("""
                    INSERT INTO brine_returns (jid, minion, value, retcode, received, master)
                    SELECT jid, minion, value, retcode, \(received), \(master)
                    FROM unnest(\(returns.map(\.key.jid))::text[], \(returns.map(\.key.minion))::text[],
                                \(returns.map(\.value))::bytea[], \(returns.map(\.retcode))::int8[]) AS r(jid, minion, value, retcode)
                    ON CONFLICT DO NOTHING RETURNING jid, minion
                    """, on: connection).map { row in
                    let (jid, minion) = try row.decode((String, String).self)
                    return ReturnKey(jid: jid, minion: minion)
                }
                let jids = Array(Set(stored.map(\.jid)))
                if !jids.isEmpty {
                    try await rows("SELECT pg_notify('brine_cluster', 'r:' || jid) FROM unnest(\(jids)::text[]) AS jid", on: connection)
                }
                let fresh = Set(stored)
                let candidates = returns.filter { $0.candidate != nil && fresh.contains($0.key) }
                if !candidates.isEmpty {
                    // Statistics never cost a return: what PostgreSQL refuses of them is dropped alone.
                    try await rows("SAVEPOINT state_runs", on: connection)
                    do {
                        try await recordStateRuns(candidates, finished: received, on: connection)
                    } catch {
                        try await rows("ROLLBACK TO SAVEPOINT state_runs", on: connection)
                        logger.error("cluster database: state runs of \(candidates.count) return(s) not recorded for statistics: \(String(reflecting: error))")
                    }
                }
                return fresh
            }
        } catch {
            throw ClusterError("recording returns", error)
        }
    }

    /// The state runs among returns just stored (their jobs' function is a
    /// state run's), a row each and one per state: `brine stats`, `/metrics`
    /// and the fleet page on any master read them.
    func recordStateRuns(_ candidates: [ReceivedReturn], finished: Double, on connection: PostgresConnection) async throws {
        // The function of each state job among them, read once: it decides which are state runs and is stored with them.
        var stateJobs: [String: String] = [:]
        for row in try await rows("""
            SELECT jid, fun FROM brine_jobs WHERE jid = ANY(\(Array(Set(candidates.map(\.key.jid))))) AND fun = ANY(\(Array(StateRunRecord.stateFunctions)))
            """, on: connection) {
            let (jid, fun) = try row.decode((String, String).self)
            stateJobs[jid] = fun
        }
        let returns = candidates.compactMap { received -> (key: ReturnKey, fun: String, stateRun: StateRunRecord)? in
            guard let fun = stateJobs[received.key.jid], let value = received.candidate, let run = StateRunRecord(value) else { return nil }
            return (received.key, fun, run)
        }
        guard !returns.isEmpty else { return }
        let runs = try await rows("""
            INSERT INTO brine_state_runs (jid, minion, fun, finished, duration_ms, succeeded, changed, failed)
            SELECT jid, minion, fun, \(finished), duration_ms, succeeded, changed, failed
            FROM unnest(\(returns.map { $0.key.jid })::text[], \(returns.map { $0.key.minion })::text[], \(returns.map { $0.fun })::text[],
                        \(returns.map { $0.stateRun.durationMS })::float8[], \(returns.map { $0.stateRun.succeeded })::int8[],
                        \(returns.map { $0.stateRun.changed })::int8[], \(returns.map { $0.stateRun.failed })::int8[])
                 AS r(jid, minion, fun, duration_ms, succeeded, changed, failed)
            ON CONFLICT DO NOTHING RETURNING jid, minion
            """, on: connection).map { row in
            let (jid, minion) = try row.decode((String, String).self)
            return ReturnKey(jid: jid, minion: minion)
        }
        let recorded = Set(runs)
        var jids: [String] = [], minions: [String] = [], tags: [String] = [], ids: [String] = [], functions: [String] = []
        var slss: [String] = [], results: [Int16] = [], changed: [Bool] = [], durations: [Double] = []
        for received in returns where recorded.contains(received.key) {
            for state in received.stateRun.states {
                jids.append(received.key.jid)
                minions.append(received.key.minion)
                // From the minion: PostgreSQL's text refuses NUL (the run's statistics would be dropped).
                tags.append(Self.storable(state.tag))
                ids.append(Self.storable(state.id))
                functions.append(Self.storable(state.function))
                slss.append(Self.storable(state.sls))
                // -1: no result (test mode), as NULL.
                results.append(state.result.map { $0 ? 1 : 0 } ?? -1)
                changed.append(state.changed)
                durations.append(state.durationMS)
            }
        }
        guard !jids.isEmpty else { return }
        try await rows("""
            INSERT INTO brine_state_results (jid, minion, tag, state_id, function, sls, result, changed, duration_ms)
            SELECT jid, minion, tag, state_id, function, sls, NULLIF(result, -1) = 1, changed, duration_ms
            FROM unnest(\(jids)::text[], \(minions)::text[], \(tags)::text[], \(ids)::text[], \(functions)::text[], \(slss)::text[],
                        \(results)::int2[], \(changed)::bool[], \(durations)::float8[])
                 AS s(jid, minion, tag, state_id, function, sls, result, changed, duration_ms)
            """, on: connection)
    }

    /// `text` as PostgreSQL's text takes it: NUL (which it refuses) as U+FFFD.
    static func storable(_ text: String) -> String {
        text.utf8.contains(0) ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    /// A job's returns stored by other masters by transactions from
    /// `window` on, and the window for the next read: the oldest
    /// transaction still running now. Rows are not visible in the order
    /// their ids were taken (one master's batch may commit after another's),
    /// so the next read goes back to what was in flight; a return may thus be
    /// read twice (the publisher drops the second), never missed.
    public func returns(jid: String, from window: Int64) async throws -> (returns: [StoredReturn], next: Int64) {
        do {
            return try await transaction { connection in
                let next = try await rows("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint", on: connection).first?.decode(Int64.self) ?? window
                let returns = try await rows("""
                    SELECT minion, value, retcode FROM brine_returns WHERE jid = \(jid) AND tx >= \(window) AND master <> \(master)
                    """, on: connection).map { try StoredReturn(jid: jid, row: $0) }
                return (returns, next)
            }
        } catch {
            throw ClusterError("reading returns of \(jid)", error)
        }
    }

    /// How jobs pass between masters: 2 since jobs are sent by batch
    /// (`brine_sends`); a live master without it (NULL) uses per-minion
    /// deliveries, which no master of this version reads.
    public static let protocolVersion: Int32 = 2

    /// This master is alive (every few seconds), with the digest of its
    /// file and pillar trees; the other live masters' digests and protocol
    /// versions (nil: a version before `protocolVersion` existed).
    public func heartbeat(treeDigest: String) async throws -> [String: (digest: String, protocol: Int32?)] {
        do {
            try await rows("""
                INSERT INTO brine_masters (name, seen, tree_digest, protocol) VALUES (\(master), now(), \(treeDigest), \(Self.protocolVersion))
                ON CONFLICT (name) DO UPDATE SET seen = now(), tree_digest = excluded.tree_digest, protocol = excluded.protocol
                """)
            var out: [String: (digest: String, protocol: Int32?)] = [:]
            for row in try await rows("SELECT name, tree_digest, protocol FROM brine_masters WHERE seen > now() - interval '15 seconds' AND name <> \(master)") {
                let (name, digest, version) = try row.decode((String, String, Int32?).self)
                out[name] = (digest, version)
            }
            return out
        } catch {
            throw ClusterError("heartbeat", error)
        }
    }

    /// At start: minions this master held before it died are no longer here.
    public func forgetConnections() async throws {
        do {
            try await rows("UPDATE brine_minions SET master = NULL WHERE master = \(master)")
        } catch {
            throw ClusterError("clearing this master's connections", error)
        }
    }

    /// Drops jobs (with their batches and returns) older than `hours`.
    public func expire(olderThanHours hours: Int) async throws {
        guard hours > 0 else { return }
        let cutoff = Date().timeIntervalSince1970 - Double(hours) * 3600
        do {
            try await transaction { connection in
                try await rows("DELETE FROM brine_sends WHERE jid IN (SELECT jid FROM brine_jobs WHERE started < \(cutoff))", on: connection)
                try await rows("DELETE FROM brine_returns WHERE jid IN (SELECT jid FROM brine_jobs WHERE started < \(cutoff))", on: connection)
                try await rows("DELETE FROM brine_state_results WHERE jid IN (SELECT jid FROM brine_jobs WHERE started < \(cutoff))", on: connection)
                try await rows("DELETE FROM brine_state_runs WHERE jid IN (SELECT jid FROM brine_jobs WHERE started < \(cutoff))", on: connection)
                try await rows("DELETE FROM brine_jobs WHERE started < \(cutoff)", on: connection)
            }
            // Rows of jobs deleted by a master of an earlier version (which relied on ON DELETE CASCADE,
            // or did not know the state tables).
            for table in ["brine_returns", "brine_state_results", "brine_state_runs"] {
                try await rows("DELETE FROM \(unescaped: table) r WHERE NOT EXISTS (SELECT 1 FROM brine_jobs j WHERE j.jid = r.jid)")
            }
        } catch {
            throw ClusterError("expiring jobs", error)
        }
    }
}

/// One minion's return for one job.
public struct ReturnKey: Hashable, Sendable {
    public var jid: String
    public var minion: String

    public init(jid: String, minion: String) {
        self.jid = jid
        self.minion = minion
    }
}

/// What `brine jobs` reads in a cluster: every master's jobs and returns.
extension ClusterDatabase {
    public func jobs(limit: Int) async throws -> [JobRecord] {
        do {
            return try await rows("""
                SELECT jid, fun, arguments, target, target_type, minions, started, expires, "user" FROM brine_jobs ORDER BY started DESC LIMIT \(limit)
                """).map(Self.job)
        } catch {
            throw ClusterError("listing jobs", error)
        }
    }

    public func job(_ jid: String) async throws -> JobRecord? {
        do {
            return try await rows("""
                SELECT jid, fun, arguments, target, target_type, minions, started, expires, "user" FROM brine_jobs WHERE jid = \(jid)
                """).first.map(Self.job)
        } catch {
            throw ClusterError("reading job \(jid)", error)
        }
    }

    /// A job's returns, oldest first, and which expected minions were never
    /// sent it: left out of every batch (a `-b` job cut short), or connected
    /// to no live master when their batch went out (and not returned since:
    /// one that connected in time and returned counts as sent).
    public func outcome(_ jid: String) async throws -> (returns: [StoredReturn], unsent: Set<String>) {
        do {
            let returns = try await rows("SELECT minion, value, retcode FROM brine_returns WHERE jid = \(jid) ORDER BY received").map {
                try StoredReturn(jid: jid, row: $0)
            }
            var sentTo = Set<String>(), everyone = false, unconnected = Set<String>()
            for row in try await rows("SELECT minions, unconnected FROM brine_sends WHERE jid = \(jid)") {
                let (minions, notThere) = try row.decode(([String]?, [String]).self)
                if let minions { sentTo.formUnion(minions) } else { everyone = true }
                unconnected.formUnion(notThere)
            }
            var unsent = unconnected
            if !everyone, let job = try await job(jid) { unsent.formUnion(job.minions.filter { !sentTo.contains($0) }) }
            unsent.subtract(returns.map(\.minion))
            return (returns, unsent)
        } catch let error as ClusterError {
            throw error
        } catch {
            throw ClusterError("reading job \(jid)", error)
        }
    }

    static func job(_ row: PostgresRow) throws -> JobRecord {
        let (jid, fun, arguments, target, targetType, minions, started, expires, user) =
            try row.decode((String, String, ByteBuffer, String, String, [String], Double, Double, String).self)
        return JobRecord(jid: jid, fun: fun, arguments: arguments.decodedValue, target: target, targetType: targetType, minions: minions,
                         started: started, expires: expires, user: user, payload: [])
    }
}
