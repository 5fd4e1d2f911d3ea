import BrineCore
import BrineWire
import Foundation
import NIOCore
import PostgresNIO

/// Jobs, their deliveries and returns, shared by the cluster's masters.
///
/// A job published on any master is recorded with the exact message its
/// minions get (`payload`) and one delivery per expected minion: `sent` by
/// the publishing master for its own minions, `pending` for the others,
/// which the master holding each minion claims (`UPDATE … WHERE state =
/// 'pending'`: one master sends it) when `j:JID` wakes it, and which a
/// minion connecting anywhere is sent until the job expires. A return is
/// stored only against a delivery (no made-up jids), once: it deletes the
/// delivery (a delete writes no new row version and no index entry, where
/// marking it returned wrote both; rows an earlier version marked
/// `returned` are still read as returned), and `r:JID` wakes the publishing
/// master, which streams it to its client.
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

    /// Adds deliveries for one batch of a job: `local` are sent by this
    /// master now, `remote` wait for theirs (notified). Returns the remote
    /// minions connected to a live master (the others: not connected; their
    /// delivery waits for them until the job expires).
    public func deliver(jid: String, local: [String], remote: [String]) async throws -> Set<String> {
        do {
            return try await transaction { connection in
                try await rows("""
                    INSERT INTO brine_deliveries (jid, minion, state, master)
                    SELECT \(jid), minion, 'sent', \(master) FROM unnest(\(local)::text[]) AS minion
                    UNION ALL SELECT \(jid), minion, 'pending', NULL FROM unnest(\(remote)::text[]) AS minion
                    ON CONFLICT DO NOTHING
                    """, on: connection)
                guard !remote.isEmpty else { return [] }
                try await rows("SELECT pg_notify('brine_cluster', \("j:" + jid))", on: connection)
                let connected = try await rows("""
                    SELECT m.id FROM brine_minions m JOIN brine_masters a ON a.name = m.master
                    WHERE m.id = ANY(\(remote)) AND a.seen > now() - interval '15 seconds'
                    """, on: connection)
                return Set(try connected.map { try $0.decode(String.self) })
            }
        } catch {
            throw ClusterError("delivering job \(jid)", error)
        }
    }

    /// Claims pending deliveries for the minions connected here (of one
    /// job, or of every unexpired job for the periodic sweep): what this
    /// master must send now.
    public func claim(jid: String? = nil) async throws -> [Dispatch] {
        do {
            return try await rows("""
                WITH claimed AS (
                    UPDATE brine_deliveries d SET state = 'sent', master = \(master) FROM brine_jobs j
                    WHERE (\(jid)::text IS NULL OR d.jid = \(jid)) AND j.jid = d.jid AND d.state = 'pending'
                      AND d.minion IN (SELECT id FROM brine_minions WHERE master = \(master)) AND j.expires > \(Date().timeIntervalSince1970)
                    RETURNING d.minion, d.jid)
                \(unescaped: Self.byJob)
                """).map(Dispatch.init)
        } catch {
            throw ClusterError("claiming jobs", error)
        }
    }

    /// One job to send to some minions: its message once, not once per minion.
    public struct Dispatch: Sendable {
        public var jid: String
        public var minions: [String]
        public var payload: [UInt8]

        init(_ row: PostgresRow) throws {
            let (jid, minions, payload) = try row.decode((String, [String], ByteBuffer).self)
            self.init(jid: jid, minions: minions, payload: Array(payload.readableBytesView))
        }

        public init(jid: String, minions: [String], payload: [UInt8]) {
            self.jid = jid
            self.minions = minions
            self.payload = payload
        }
    }

    /// Groups `claimed (minion, jid)` by job, with each job's payload once.
    static let byJob = """
        , grouped AS (SELECT jid, array_agg(minion) AS minions FROM claimed GROUP BY jid)
        SELECT g.jid, g.minions, j.payload FROM grouped g JOIN brine_jobs j USING (jid)
        """

    /// Minions that connected here or left, in the order it happened
    /// (the last event per minion counts): the ones connected are marked
    /// as this master's and get every unexpired job they have not returned
    /// (pending anywhere, or sent by a master they left); the others are
    /// marked as connected nowhere unless another master has them since.
    /// Minions drop a jid they already ran (`minion_jid_queue_hwm`), so a
    /// job is not run twice.
    public func presence(_ events: [(id: String, connected: Bool)]) async throws -> [Dispatch] {
        var last: [String: Bool] = [:]
        for event in events { last[event.id] = event.connected }
        let arrived = last.filter(\.value).map(\.key), left = last.filter { !$0.value }.map(\.key)
        do {
            return try await transaction { connection in
                if !left.isEmpty {
                    try await rows("UPDATE brine_minions SET master = NULL, changed = now() WHERE id = ANY(\(left)) AND master = \(master)", on: connection)
                }
                guard !arrived.isEmpty else { return [] }
                try await rows("""
                    INSERT INTO brine_minions (id, master) SELECT id, \(master) FROM unnest(\(arrived)::text[]) AS id
                    ON CONFLICT (id) DO UPDATE SET master = excluded.master, changed = now()
                    """, on: connection)
                return try await rows("""
                    WITH claimed AS (
                        UPDATE brine_deliveries d SET state = 'sent', master = \(master) FROM brine_jobs j
                        WHERE d.minion = ANY(\(arrived)) AND j.jid = d.jid AND d.state <> 'returned' AND j.expires > \(Date().timeIntervalSince1970)
                        RETURNING d.minion, d.jid)
                    \(unescaped: Self.byJob)
                    """, on: connection).map(Dispatch.init)
            }
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

        public init(_ jobReturn: JobReturn) {
            key = ReturnKey(jid: jobReturn.jid, minion: jobReturn.id)
            value = ByteBuffer(value: jobReturn.value)
            retcode = jobReturn.retcode
        }

        public var size: Int { key.jid.utf8.count + key.minion.utf8.count + value.readableBytes }
    }

    /// Stores returns received here, each only when its minion has an open
    /// delivery of that job, and notifies `r:JID` once per job. Returns the
    /// (jid, minion) pairs stored now; the others were duplicates or not
    /// expected.
    public func recordReturns(_ returns: [ReceivedReturn]) async throws -> Set<ReturnKey> {
        guard !returns.isEmpty else { return [] }
        do {
            return try await transaction { connection in
                let stored = try await rows("""
                    WITH r AS (SELECT * FROM unnest(\(returns.map(\.key.jid))::text[], \(returns.map(\.key.minion))::text[],
                                                   \(returns.map(\.value))::bytea[], \(returns.map(\.retcode))::int8[])
                               AS r(jid, minion, value, retcode)),
                    open AS (DELETE FROM brine_deliveries d USING r WHERE d.jid = r.jid AND d.minion = r.minion RETURNING d.jid, d.minion)
                    INSERT INTO brine_returns (jid, minion, value, retcode, received, master)
                    SELECT r.jid, r.minion, r.value, r.retcode, \(Date().timeIntervalSince1970), \(master) FROM r JOIN open USING (jid, minion)
                    ON CONFLICT DO NOTHING RETURNING jid, minion
                    """, on: connection).map { row in
                    let (jid, minion) = try row.decode((String, String).self)
                    return ReturnKey(jid: jid, minion: minion)
                }
                let jids = Array(Set(stored.map(\.jid)))
                if !jids.isEmpty {
                    try await rows("SELECT pg_notify('brine_cluster', 'r:' || jid) FROM unnest(\(jids)::text[]) AS jid", on: connection)
                }
                return Set(stored)
            }
        } catch {
            throw ClusterError("recording returns", error)
        }
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

    /// This master is alive (every few seconds), with the digest of its
    /// file and pillar trees; the digests of the other live masters.
    public func heartbeat(treeDigest: String) async throws -> [String: String] {
        do {
            try await rows("""
                INSERT INTO brine_masters (name, seen, tree_digest) VALUES (\(master), now(), \(treeDigest))
                ON CONFLICT (name) DO UPDATE SET seen = now(), tree_digest = excluded.tree_digest
                """)
            var out: [String: String] = [:]
            for row in try await rows("SELECT name, tree_digest FROM brine_masters WHERE seen > now() - interval '15 seconds' AND name <> \(master)") {
                let (name, digest) = try row.decode((String, String).self)
                out[name] = digest
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

    /// Drops jobs (with their deliveries and returns) older than `hours`.
    public func expire(olderThanHours hours: Int) async throws {
        guard hours > 0 else { return }
        let cutoff = Date().timeIntervalSince1970 - Double(hours) * 3600
        do {
            // Deliveries first: without one, no return can be stored for those jobs meanwhile.
            try await transaction { connection in
                try await rows("DELETE FROM brine_deliveries WHERE jid IN (SELECT jid FROM brine_jobs WHERE started < \(cutoff))", on: connection)
                try await rows("DELETE FROM brine_returns WHERE jid IN (SELECT jid FROM brine_jobs WHERE started < \(cutoff))", on: connection)
                try await rows("DELETE FROM brine_jobs WHERE started < \(cutoff)", on: connection)
            }
            // Rows of jobs deleted by a master of an earlier version (which relied on ON DELETE CASCADE).
            try await rows("DELETE FROM brine_deliveries d WHERE NOT EXISTS (SELECT 1 FROM brine_jobs j WHERE j.jid = d.jid)")
            try await rows("DELETE FROM brine_returns r WHERE NOT EXISTS (SELECT 1 FROM brine_jobs j WHERE j.jid = r.jid)")
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

    /// A job's returns, oldest first, and which expected minions were never sent it.
    public func outcome(_ jid: String) async throws -> (returns: [StoredReturn], unsent: Set<String>) {
        do {
            let returns = try await rows("SELECT minion, value, retcode FROM brine_returns WHERE jid = \(jid) ORDER BY received").map {
                try StoredReturn(jid: jid, row: $0)
            }
            let unsent = try await rows("SELECT minion FROM brine_deliveries WHERE jid = \(jid) AND state = 'pending'").map { try $0.decode(String.self) }
            return (returns, Set(unsent))
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
