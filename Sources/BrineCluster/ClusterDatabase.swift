import BrineCore
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// The cluster's shared state in PostgreSQL (`cluster_database`): minion
/// keys, where each minion is connected, jobs, the batches they were sent
/// in and their returns, the masters' heartbeats. The database is the truth; the
/// notifications on `brine_cluster` are hints that wake the other masters
/// (`ClusterListener`), which re-read what they may have missed whenever
/// they reconnect.
///
/// One `PostgresClient` (a pool) per process; `run()` must be running for
/// queries to go out (the master runs it in its task group, `brine key` for
/// the length of its command). The database user needs no superuser right:
/// it creates and owns these tables, nothing else.
public final class ClusterDatabase: Sendable {
    public let url: DatabaseURL
    /// This master's name in the cluster (`master_id`, else host:port).
    public let master: String
    let client: PostgresClient
    let logger: Logger

    /// The notification channel: payloads `k:ID`, `j:JID`, `r:JID`.
    static let channel = "brine_cluster"

    public init(url: DatabaseURL, master: String, logger: Logger) throws(BrineError) {
        self.url = url
        self.master = master
        self.logger = logger
        client = PostgresClient(configuration: try url.clientConfiguration(), backgroundLogger: Logger(label: "brine.cluster.pool", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Keeps the pool's connections; returns when the surrounding task is cancelled.
    public func run() async {
        await client.run()
    }

    /// Runs `body` with the pool running (for one-shot commands such as
    /// `brine key`), once one connection was made (`checkConnection`) and
    /// the tables exist (keys can be accepted before any master started).
    /// `migrating: false` for a command that only reads (`brine stats`, run
    /// by Munin every five minutes): no schema statements, whose locks would
    /// queue the masters' writes behind them.
    public func withRunning<T: Sendable>(migrating: Bool = true, _ body: (ClusterDatabase) async throws -> T) async throws -> T {
        try await checkConnection()
        return try await withBackground(run) {
            if migrating {
                do { try await migrate() } catch { throw ClusterError("creating the tables", error) }
            }
            return try await body(self)
        }
    }

    /// Opens one connection and closes it: the database's or the TLS
    /// layer's own reason when that fails (the wrong `sslmode` for the
    /// server's pg_hba.conf, a certificate `sslrootcert` does not vouch for,
    /// a wrong password). The pool would retry quietly and fail its queries
    /// only after its minute-long circuit breaker.
    public func checkConnection() async throws {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try url.connectionConfiguration(), id: 0, logger: logger)
        } catch {
            throw ClusterError("connecting to \(url.redacted)", error)
        }
        try? await connection.close()
    }

    /// Creates the tables (idempotent), serialised by a transaction-level
    /// advisory lock so that masters starting together do not race.
    public func migrate() async throws {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            for statement in Self.schema {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    static let migrationLock: Int64 = 0x6272_696E_6501  // "brine" + 1

    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS brine_keys (
            id TEXT NOT NULL, state TEXT NOT NULL, key BYTEA NOT NULL, changed TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (id, state))
        """,
        // One of accepted/pending/rejected per id; a denied key (the id came back with another key) beside it.
        "CREATE UNIQUE INDEX IF NOT EXISTS brine_keys_one_admitted ON brine_keys (id) WHERE state <> 'minions_denied'",
        "CREATE INDEX IF NOT EXISTS brine_keys_state ON brine_keys (state)",
        """
        CREATE TABLE IF NOT EXISTS brine_masters (
            name TEXT PRIMARY KEY, seen TIMESTAMPTZ NOT NULL DEFAULT now(), tree_digest TEXT NOT NULL DEFAULT '')
        """,
        """
        CREATE TABLE IF NOT EXISTS brine_minions (
            id TEXT PRIMARY KEY, master TEXT, grains BYTEA, pillar BYTEA, changed TIMESTAMPTZ NOT NULL DEFAULT now())
        """,
        "CREATE INDEX IF NOT EXISTS brine_minions_master ON brine_minions (master)",
        """
        CREATE TABLE IF NOT EXISTS brine_jobs (
            jid TEXT PRIMARY KEY, fun TEXT NOT NULL, arguments BYTEA NOT NULL, target TEXT NOT NULL, target_type TEXT NOT NULL,
            minions TEXT[] NOT NULL, started DOUBLE PRECISION NOT NULL, expires DOUBLE PRECISION NOT NULL,
            "user" TEXT NOT NULL, origin TEXT NOT NULL, payload BYTEA NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS brine_jobs_started ON brine_jobs (started)",
        // The masters that have a minion find a job's unexpired ones fast (a minion that connects).
        "CREATE INDEX IF NOT EXISTS brine_jobs_expires ON brine_jobs (expires)",
        // One row per batch a job was sent in (one without `-b`: `minions` NULL, every minion of
        // the job), and which of its minions were connected to no live master then. The master
        // that has a minion sends it the batch (`j:JID`), and one where it connects later every
        // unexpired job it has not returned: no row per minion to write, claim and delete (they
        // were most of PostgreSQL's work for a fleet-wide job; bench/README.md).
        """
        CREATE TABLE IF NOT EXISTS brine_sends (
            jid TEXT NOT NULL, seq INTEGER NOT NULL, minions TEXT[], unconnected TEXT[] NOT NULL DEFAULT '{}', PRIMARY KEY (jid, seq))
        """,
        // Per-minion deliveries of the versions before (session 15 and earlier): read by nobody now.
        "DROP TABLE IF EXISTS brine_deliveries",
        // Which way of passing jobs a master speaks (NULL: the per-minion deliveries before), so
        // that masters of both sides of that change in one cluster are told about.
        """
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                           WHERE table_schema = current_schema() AND table_name = 'brine_masters' AND column_name = 'protocol') THEN
                ALTER TABLE brine_masters ADD COLUMN protocol INTEGER;
            END IF;
        END $$
        """,
        """
        CREATE TABLE IF NOT EXISTS brine_returns (
            jid TEXT NOT NULL, minion TEXT NOT NULL, value BYTEA NOT NULL,
            retcode BIGINT NOT NULL, received DOUBLE PRECISION NOT NULL, master TEXT NOT NULL,
            tx BIGINT NOT NULL DEFAULT pg_current_xact_id()::text::bigint, PRIMARY KEY (jid, minion))
        """,
        """
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'brine_returns_jid_fkey' AND conrelid = 'brine_returns'::regclass) THEN
                ALTER TABLE brine_returns DROP CONSTRAINT brine_returns_jid_fkey;
            END IF;
        END $$
        """,
        "CREATE INDEX IF NOT EXISTS brine_returns_tx ON brine_returns (jid, tx)",
        // State runs among the returns (their jobs' function is a state run's), and their states:
        // what `brine stats`, `/metrics` and the fleet page read on any master.
        """
        CREATE TABLE IF NOT EXISTS brine_state_runs (
            jid TEXT NOT NULL, minion TEXT NOT NULL, fun TEXT NOT NULL, finished DOUBLE PRECISION NOT NULL,
            duration_ms DOUBLE PRECISION NOT NULL, succeeded BIGINT NOT NULL, changed BIGINT NOT NULL, failed BIGINT NOT NULL,
            PRIMARY KEY (jid, minion))
        """,
        "CREATE INDEX IF NOT EXISTS brine_state_runs_finished ON brine_state_runs (finished)",
        """
        CREATE TABLE IF NOT EXISTS brine_state_results (
            jid TEXT NOT NULL, minion TEXT NOT NULL, tag TEXT NOT NULL, state_id TEXT NOT NULL, function TEXT NOT NULL,
            sls TEXT NOT NULL, result BOOLEAN, changed BOOLEAN NOT NULL, duration_ms DOUBLE PRECISION NOT NULL)
        """,
        // Not the tag in a key: a tag holds the state's name (a long inline script), and a btree
        // entry over 2,704 bytes is refused. A run's states are written once, with the run.
        "CREATE INDEX IF NOT EXISTS brine_state_results_run ON brine_state_results (jid, minion)",
        // What each master brought from before it joined (its pki_dir keys, its monitor checks), once.
        """
        CREATE TABLE IF NOT EXISTS brine_adoptions (
            master TEXT NOT NULL, what TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (master, what))
        """,
        // The monitor's checks (the uptime app's fields), their polls and up/down changes.
        """
        CREATE TABLE IF NOT EXISTS brine_checks (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, url TEXT NOT NULL, interval_ms BIGINT NOT NULL,
            max_time_ms BIGINT NOT NULL, alert_threshold BIGINT NOT NULL, error_count BIGINT NOT NULL DEFAULT 0, tags TEXT NOT NULL,
            is_paused BOOLEAN NOT NULL, is_up BOOLEAN, last_changed DOUBLE PRECISION, first_tested DOUBLE PRECISION,
            last_tested DOUBLE PRECISION, uptime_ms DOUBLE PRECISION NOT NULL DEFAULT 0, downtime_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
            created DOUBLE PRECISION NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS brine_pings (
            check_id TEXT NOT NULL REFERENCES brine_checks ON DELETE CASCADE, timestamp DOUBLE PRECISION NOT NULL,
            is_up BOOLEAN NOT NULL, is_responsive BOOLEAN NOT NULL, time_ms DOUBLE PRECISION NOT NULL, status BIGINT, error TEXT)
        """,
        "CREATE INDEX IF NOT EXISTS brine_pings_check ON brine_pings (check_id, timestamp)",
        """
        CREATE TABLE IF NOT EXISTS brine_check_events (
            check_id TEXT NOT NULL REFERENCES brine_checks ON DELETE CASCADE, timestamp DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL)
        """,
        // Polls counted per check as they are recorded: pings older than the monitor's `ping_history`
        // are dropped, the counts go on (a database from before counts the pings it has, once).
        """
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM information_schema.tables
                           WHERE table_schema = current_schema() AND table_name = 'brine_check_counts') THEN
                CREATE TABLE brine_check_counts (
                    check_id TEXT PRIMARY KEY REFERENCES brine_checks ON DELETE CASCADE, up BIGINT NOT NULL, down BIGINT NOT NULL);
                INSERT INTO brine_check_counts
                    SELECT check_id, count(*) FILTER (WHERE is_up), count(*) FILTER (WHERE NOT is_up) FROM brine_pings GROUP BY check_id;
            END IF;
        END $$
        """,
    ]

    /// Whether this master has served the cluster before (it has a heartbeat row).
    public func hasServed() async throws -> Bool {
        do {
            return try await !rows("SELECT 1 FROM brine_masters WHERE name = \(master)").isEmpty
        } catch {
            throw ClusterError("reading the masters", error)
        }
    }

    /// Runs `body` in a transaction, once per master and `what` (recorded in
    /// `brine_adoptions` with what `body` did), one master at a time (so two
    /// masters joining together do not wait on each other's rows); nil when
    /// it was done before.
    package func once<T: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> T) async throws -> T? {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.adoptionLock))", logger: logger)
            let done = try await rows("SELECT 1 FROM brine_adoptions WHERE master = \(master) AND what = \(what)", on: connection)
            guard done.isEmpty else { return nil }
            let result = try await body(connection)
            try await rows("INSERT INTO brine_adoptions (master, what) VALUES (\(master), \(what))", on: connection)
            return result
        }
    }

    static let adoptionLock: Int64 = 0x6272_696E_6502  // "brine" + 2

    package func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// A query's rows, all read (the connection goes back to the pool).
    @discardableResult
    package func rows(_ query: PostgresQuery, on connection: PostgresConnection? = nil) async throws -> [PostgresRow] {
        let sequence = if let connection { try await connection.query(query, logger: logger) } else { try await client.query(query, logger: logger) }
        var rows: [PostgresRow] = []
        for try await row in sequence { rows.append(row) }
        return rows
    }
}

/// What the database said, as an error the master can log and a client can show.
public struct ClusterError: Error, CustomStringConvertible, Sendable {
    public let description: String

    package init(_ what: String, _ error: any Error) {
        let detail = (error as? PSQLError).map { psql in
            if let message = psql.serverInfo?[.message] { return "\(message)" }
            if let reason = psql.underlying, reason is NIOSSLError || reason is NIOSSLExtraError {
                return "TLS handshake failed (is the server's certificate signed by sslrootcert, else by this system's roots, "
                    + "and, with verify-full, made for this host?): \(reason)"
            }
            return psql.underlying.map { "\(psql.code): \($0)" } ?? "\(psql.code)"
        } ?? "\(error)"
        description = "cluster database: \(what): \(detail)"
    }
}

extension ByteBuffer {
    init(value: Value) { self.init(bytes: MessagePack.encode(value)) }

    var decodedValue: Value { (try? MessagePack.decode(Array(readableBytesView))) ?? .null }
}
