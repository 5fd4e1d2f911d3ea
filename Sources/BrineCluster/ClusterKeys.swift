import BrineCore
import BrineWire
import Crypto
import NIOCore
import PostgresNIO

/// Minion keys in the cluster's database, in Salt's four sections (the
/// `state` column holds `KeyStore.Status`'s directory names). Every change
/// is one statement that names the state it starts from (`UPDATE … WHERE
/// state = old`), so two masters or two `brine key` runs racing on a key
/// cannot both win; each change notifies `k:ID`, and every master re-reads
/// that key and closes a session whose key is no longer accepted.
public struct ClusterKeys: MinionKeys {
    let database: ClusterDatabase

    public init(database: ClusterDatabase) {
        self.database = database
    }

    public func list(_ status: KeyStore.Status) async throws -> [String] {
        do {
            return try await database.rows("SELECT id FROM brine_keys WHERE state = \(status.rawValue) ORDER BY id").map { try $0.decode(String.self) }
        } catch {
            throw ClusterError("listing keys", error)
        }
    }

    /// Every key with its section (a master's snapshot).
    public func all() async throws -> [(id: String, status: KeyStore.Status, key: [UInt8])] {
        do {
            return try await database.rows("SELECT id, state, key FROM brine_keys").compactMap { row in
                let (id, state, key) = try row.decode((String, String, ByteBuffer).self)
                return KeyStore.Status(rawValue: state).map { (id, $0, Array(key.readableBytesView)) }
            }
        } catch {
            throw ClusterError("reading keys", error)
        }
    }

    /// The admitted (not denied) section of one id, and its key.
    public func admitted(_ id: String) async throws -> (status: KeyStore.Status, key: [UInt8])? {
        do {
            let rows = try await database.rows("SELECT state, key FROM brine_keys WHERE id = \(id) AND state <> 'minions_denied'")
            guard let row = rows.first else { return nil }
            let (state, key) = try row.decode((String, ByteBuffer).self)
            return KeyStore.Status(rawValue: state).map { ($0, Array(key.readableBytesView)) }
        } catch {
            throw ClusterError("reading the key of \(id)", error)
        }
    }

    /// The accepted keys among `ids` (the others are not accepted, or gone).
    public func accepted(among ids: [String]) async throws -> [String: [UInt8]] {
        do {
            var out: [String: [UInt8]] = [:]
            for row in try await database.rows("SELECT id, key FROM brine_keys WHERE id = ANY(\(ids)) AND state = 'minions'") {
                let (id, key) = try row.decode((String, ByteBuffer).self)
                out[id] = Array(key.readableBytesView)
            }
            return out
        } catch {
            throw ClusterError("reading keys", error)
        }
    }

    public func contains(_ id: String, in status: KeyStore.Status) async throws -> Bool {
        guard (try? KeyStore.validate(id: id)) != nil else { return false }
        do {
            return try await !database.rows("SELECT 1 FROM brine_keys WHERE id = \(id) AND state = \(status.rawValue)").isEmpty
        } catch {
            throw ClusterError("reading the key of \(id)", error)
        }
    }

    public func status(of id: String) async throws -> KeyStore.Status? {
        guard (try? KeyStore.validate(id: id)) != nil else { return nil }
        if let admitted = try await admitted(id) { return admitted.status }
        let denied = try await database.rows("SELECT 1 FROM brine_keys WHERE id = \(id) AND state = 'minions_denied'")
        return denied.isEmpty ? nil : .denied
    }

    public func publicKey(_ id: String, in status: KeyStore.Status) async throws -> Curve25519.KeyAgreement.PublicKey {
        let rows: [PostgresRow]
        do {
            rows = try await database.rows("SELECT key FROM brine_keys WHERE id = \(id) AND state = \(status.rawValue)")
        } catch {
            throw ClusterError("reading the key of \(id)", error)
        }
        guard let bytes = try rows.first?.decode(ByteBuffer.self) else {
            throw BrineError(.notAvailable, "no \(status.heading.lowercased()) key for \(id)")
        }
        return try Curve25519.KeyAgreement.PublicKey(rawRepresentation: Array(bytes.readableBytesView))
    }

    /// As `KeyStore.admit`: a new id goes to pending (accepted when
    /// autosigned), unless `maximumPending` keys already wait; a known id
    /// with the same key keeps its section; with another key the new key
    /// is recorded as denied. The insert is conditional on no other row
    /// for the id (a unique index), so two masters admitting one id at
    /// once record one key.
    public func admit(id: String, key: Curve25519.KeyAgreement.PublicKey, autoAccept: Bool, autosign: [String], maximumPending: Int) async throws -> KeyAdmission {
        try KeyStore.validate(id: id)
        let raw = ByteBuffer(bytes: key.rawRepresentation)
        let autosigned = autoAccept || autosign.contains { Glob.match(id, $0) }
        let state = (autosigned ? KeyStore.Status.accepted : .pending).rawValue
        do {
            let inserted = try await database.rows("""
                WITH added AS (
                    INSERT INTO brine_keys (id, state, key)
                    SELECT \(id), \(state), \(raw)
                    WHERE \(autosigned) OR (SELECT count(*) FROM brine_keys WHERE state = 'minions_pre') < \(maximumPending)
                    ON CONFLICT DO NOTHING RETURNING id)
                SELECT pg_notify('brine_cluster', 'k:' || id) FROM added
                """)
            if !inserted.isEmpty { return autosigned ? .accepted : .pending }
            guard let known = try await admitted(id) else { return .rejected }
            if known.key == key.rawRepresentation.map({ $0 }) {
                switch known.status {
                case .accepted: return .accepted
                case .rejected: return .rejected
                case .pending, .denied: return .pending
                }
            }
            try await database.rows("""
                WITH denied AS (
                    INSERT INTO brine_keys (id, state, key) VALUES (\(id), 'minions_denied', \(raw))
                    ON CONFLICT (id, state) DO UPDATE SET key = excluded.key, changed = now() RETURNING id)
                SELECT pg_notify('brine_cluster', 'k:' || id) FROM denied
                """)
            return .denied
        } catch let error as BrineError {
            throw error
        } catch {
            throw ClusterError("admitting \(id)", error)
        }
    }

    /// Moves one key, atomically: nothing happens when the key is no longer
    /// in `from`. Accepting a denied key replaces the id's other key, as
    /// Salt's rename over the accepted file does.
    public func move(_ id: String, from: KeyStore.Status, to: KeyStore.Status) async throws {
        try KeyStore.validate(id: id)
        let moved: Bool
        do {
            moved = try await database.transaction { connection in
                // The key still where the caller saw it, locked: otherwise nothing
                // changes (a racing master or brine key acted first, and wins).
                let present = try await database.rows("""
                    SELECT 1 FROM brine_keys WHERE id = \(id) AND state = \(from.rawValue) FOR UPDATE
                    """, on: connection)
                guard !present.isEmpty else { return false }
                if from == .denied {
                    try await database.rows("DELETE FROM brine_keys WHERE id = \(id) AND state NOT IN ('minions_denied', \(to.rawValue))", on: connection)
                    if to != .denied {
                        try await database.rows("DELETE FROM brine_keys WHERE id = \(id) AND state = \(to.rawValue)", on: connection)
                    }
                }
                let rows = try await database.rows("""
                    UPDATE brine_keys SET state = \(to.rawValue), changed = now() WHERE id = \(id) AND state = \(from.rawValue) RETURNING id
                    """, on: connection)
                try await database.rows("SELECT pg_notify('brine_cluster', \("k:" + id))", on: connection)
                return !rows.isEmpty
            }
        } catch {
            throw ClusterError("moving the key of \(id)", error)
        }
        guard moved else { throw BrineError(.io, "the key of \(id) is no longer \(from.heading.lowercased().replacingOccurrences(of: " keys", with: "")): another master or brine key changed it") }
    }

    public func delete(_ id: String, from status: KeyStore.Status) async throws {
        try KeyStore.validate(id: id)
        let deleted: [PostgresRow]
        do {
            deleted = try await database.rows("""
                WITH gone AS (DELETE FROM brine_keys WHERE id = \(id) AND state = \(status.rawValue) RETURNING id)
                SELECT pg_notify('brine_cluster', 'k:' || id) FROM gone
                """)
        } catch {
            throw ClusterError("deleting the key of \(id)", error)
        }
        guard !deleted.isEmpty else { throw BrineError(.io, "the key of \(id) was already gone: another master or brine key changed it") }
    }

    /// What `adopt` did: the keys added in their sections, and the ids the
    /// cluster already had in another section or with another key (the
    /// cluster's word was kept).
    public struct Adoption: Sendable, Equatable {
        public var added: [KeyStore.Status: Int] = [:]
        public var differing: [String] = []
    }

    /// Adds keys this master kept in `pki_dir` before it joined the cluster,
    /// in their sections (accepted, pending, rejected; denied keys are made
    /// again when their minion comes back), once per master (nil when done
    /// before; `ClusterDatabase.once`). An id the cluster already knows
    /// keeps the cluster's section and key: a master joining never overrides
    /// what the others decided. An id in two local sections counts where
    /// Salt looks first: rejected, then accepted, then pending.
    public func adopt(_ keys: [(id: String, status: KeyStore.Status, key: [UInt8])]) async throws -> Adoption? {
        let rank: [KeyStore.Status: Int] = [.rejected: 0, .accepted: 1, .pending: 2]
        var chosen: [String: (status: KeyStore.Status, key: [UInt8])] = [:]
        for entry in keys where entry.status != .denied && (try? KeyStore.validate(id: entry.id)) != nil {
            if let known = chosen[entry.id], rank[known.status, default: 3] <= rank[entry.status, default: 3] { continue }
            chosen[entry.id] = (entry.status, entry.key)
        }
        let kept = chosen.sorted { $0.key < $1.key }
        let ids = kept.map(\.key), states = kept.map(\.value.status.rawValue), raws = kept.map { ByteBuffer(bytes: $0.value.key) }
        do {
            return try await database.once("keys") { connection in
                var adoption = Adoption()
                guard !ids.isEmpty else { return adoption }
                let added = try await database.rows("""
                    INSERT INTO brine_keys (id, state, key)
                    SELECT id, state, key FROM unnest(\(ids)::text[], \(states)::text[], \(raws)::bytea[]) AS l(id, state, key)
                    ON CONFLICT DO NOTHING RETURNING id, state
                    """, on: connection)
                var notified: [String] = []
                for row in added {
                    let (id, state) = try row.decode((String, String).self)
                    notified.append(id)
                    if let status = KeyStore.Status(rawValue: state) { adoption.added[status, default: 0] += 1 }
                }
                try await database.rows("SELECT pg_notify('brine_cluster', 'k:' || id) FROM unnest(\(notified)::text[]) AS id", on: connection)
                let differing = try await database.rows("""
                    SELECT l.id FROM unnest(\(ids)::text[], \(states)::text[], \(raws)::bytea[]) AS l(id, state, key)
                    JOIN brine_keys k ON k.id = l.id AND k.state <> 'minions_denied'
                    WHERE k.state <> l.state OR k.key <> l.key ORDER BY l.id
                    """, on: connection)
                adoption.differing = try differing.map { try $0.decode(String.self) }
                return adoption
            }
        } catch {
            throw ClusterError("adding pki_dir's keys to the cluster", error)
        }
    }

    public func preseed(id: String, key: Curve25519.KeyAgreement.PublicKey) async throws {
        try KeyStore.validate(id: id)
        let raw = ByteBuffer(bytes: key.rawRepresentation)
        do {
            try await database.transaction { connection in
                try await database.rows("DELETE FROM brine_keys WHERE id = \(id)", on: connection)
                try await database.rows("INSERT INTO brine_keys (id, state, key) VALUES (\(id), 'minions', \(raw))", on: connection)
                try await database.rows("SELECT pg_notify('brine_cluster', \("k:" + id))", on: connection)
            }
        } catch {
            throw ClusterError("pre-seeding the key of \(id)", error)
        }
    }
}
