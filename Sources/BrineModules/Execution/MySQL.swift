import BrineCore
import Foundation
import Logging
import OrderedCollections

/// Salt's `mysql` execution module on MariaDB and MySQL, through the client
/// program (`MySQLConnection`): databases, users, grants, queries. Names,
/// arguments, SQL shapes and return values are Salt 3008.4's; a failure is
/// logged as Salt words it and, for the states, kept in a `MySQLErrorNote`
/// (Salt's `__context__['mysql.error']`).
public enum MySQLModule: ExecutionModule {
    public static let name = "mysql"
    static let logger = Logger.brine("brine.loaded.mysql")

    /// Where a function leaves its failure for the state that called it.
    final class ErrorNote {
        var text: String?
        func set(_ failure: MySQLConnection.Failure) {
            text = failure.text
            logger.error("\(failure.text)")
        }
        /// Salt's `_get_mysql_error`: read once.
        func pop() -> String? { defer { text = nil }; return text }
    }

    static let connection = [Parameter]
        .optional("connection_host", "connection_user", "connection_pass", "connection_port", "connection_db",
                  "connection_unix_socket", "connection_default_file", "connection_charset")

    static func function(_ name: String, doc: String, _ parameters: [Parameter], _ body: @escaping @Sendable (Arguments, ExecutionContext, ErrorNote) throws -> Value) -> ExecutionFunction {
        ExecutionFunction(name, doc: doc, parameters + connection, kwargs: true) { a, ctx in try body(a, ctx, ErrorNote()) }
    }

    public static let functions: [ExecutionFunction] = [
        function("version", doc: "The server's version (SELECT VERSION()), '' when it does not answer.", []) { a, ctx, note in
            .string(try version(a, ctx, note))
        },
        function("query", doc: "Run QUERY in DATABASE: query time, and rows returned with columns and results, or rows affected.",
                 [Parameter("database"), Parameter("query")]) { a, ctx, note in
            try query(a, ctx, note)
        },
        function("db_list", doc: "The databases (SHOW DATABASES).", []) { a, ctx, note in
            .list(try rows(a, ctx, note, "SHOW DATABASES")?.map { .string($0.first.flatMap { $0 } ?? "") } ?? [])
        },
        function("db_exists", doc: "Whether database NAME exists.", [Parameter("name")]) { a, ctx, note in
            .bool(try databaseExists(a.string("name") ?? "", a, ctx, note))
        },
        function("db_get", doc: "Database NAME's character_set and collate; {} when missing.", [Parameter("name")]) { a, ctx, note in
            try databaseSettings(a.string("name") ?? "", a, ctx, note)
        },
        function("db_tables", doc: "The tables of database NAME; False when it does not exist.", [Parameter("name")]) { a, ctx, note in
            let name = a.string("name") ?? ""
            guard try databaseExists(name, a, ctx, note) else {
                logger.info("Database '\(name)' does not exist")
                return false
            }
            return .list(try rows(a, ctx, note, "SHOW TABLES IN \(MySQLQuote.identifier(name))")?.map { .string($0.first.flatMap { $0 } ?? "") } ?? [])
        },
        function("db_create", doc: "CREATE DATABASE NAME (character_set, collate); False when it exists or fails.",
                 [Parameter("name"), Parameter("character_set", default: .null), Parameter("collate", default: .null)]) { a, ctx, note in
            .bool(try createDatabase(a, ctx, note))
        },
        function("alter_db", doc: "Change database NAME's character set and/or collation.",
                 [Parameter("name"), Parameter("character_set", default: .null), Parameter("collate", default: .null)]) { a, ctx, note in
            .bool(try alterDatabase(a, ctx, note))
        },
        function("db_remove", doc: "DROP DATABASE NAME (never mysql or information_schema); True when it is gone.", [Parameter("name")]) { a, ctx, note in
            .bool(try removeDatabase(a.string("name") ?? "", a, ctx, note))
        },
        function("user_list", doc: "Every account as {User, Host}.", []) { a, ctx, note in
            .list(try rows(a, ctx, note, "SELECT User,Host FROM mysql.user")?.map { row in
                ["User": .string(row.first.flatMap { $0 } ?? ""), "Host": .string(row.dropFirst().first.flatMap { $0 } ?? "")]
            } ?? [])
        },
        function("user_exists", doc: "Whether USER@HOST exists (with that password, password_hash, or passwordless/unix_socket login when given).",
                 [Parameter("user"), Parameter("host", default: "localhost")] + .optional("password", "password_hash")
                    + [Parameter("passwordless", default: false), Parameter("unix_socket", default: false), Parameter("password_column", default: .null)]) { a, ctx, note in
            .bool(try userExists(a, ctx, note))
        },
        function("user_info", doc: "USER@HOST's row of mysql.user, or None.", [Parameter("user"), Parameter("host", default: "localhost")]) { a, ctx, note in
            let sql = "SELECT * FROM mysql.user WHERE User = \(MySQLQuote.literal(a.string("user") ?? "")) AND Host = \(MySQLQuote.literal(a.string("host") ?? "localhost"))"
            guard let sets = try execute(sql, a, ctx, note) else { return false }
            guard let set = sets.first, let row = set.rows.first else { return .null }
            return .map(OrderedDictionary(zip(set.columns, row).map { ($0, $1.map(Value.string) ?? .null) }, uniquingKeysWith: { $1 }))
        },
        function("user_create", doc: "CREATE USER USER@HOST with password, password_hash, or passwordless/unix_socket login; True when it then exists.",
                 userParameters + [Parameter("auth_plugin", default: "mysql_native_password")]) { a, ctx, note in
            .bool(try createUser(a, ctx, note))
        },
        function("user_chpass", doc: "Change USER@HOST's password (or clear it with allow_passwordless).", userParameters) { a, ctx, note in
            .bool(try changePassword(a, ctx, note))
        },
        function("user_remove", doc: "DROP USER USER@HOST; True when it is gone.", [Parameter("user"), Parameter("host", default: "localhost")]) { a, ctx, note in
            .bool(try removeUser(a, ctx, note))
        },
        function("user_grants", doc: "SHOW GRANTS for USER@HOST, passwords cut off; False when the user does not exist.",
                 [Parameter("user"), Parameter("host", default: "localhost")]) { a, ctx, note in
            try userGrants(a.string("user") ?? "", a.string("host") ?? "localhost", a, ctx, note).map { .list($0.map(Value.string)) } ?? false
        },
        function("grant_exists", doc: "Whether USER@HOST holds GRANT on DATABASE (db.table).", grantParameters) { a, ctx, note in
            .bool(try grantExists(a, ctx, note))
        },
        function("grant_add", doc: "GRANT … ON DATABASE TO USER@HOST (grant_option, escape, ssl_option); True when it then exists.",
                 grantParameters + [Parameter("ssl_option", default: false)]) { a, ctx, note in
            .bool(try addGrant(a, ctx, note))
        },
        function("grant_revoke", doc: "REVOKE … ON DATABASE FROM USER@HOST; True when it is gone.", grantParameters) { a, ctx, note in
            .bool(try revokeGrant(a, ctx, note))
        },
        function("plugin_status", doc: "A server plugin's status (ACTIVE…), '' when unknown.", [Parameter("name")]) { a, ctx, note in
            .string(try pluginStatus(a.string("name") ?? "", a, ctx, note))
        },
        function("quote_identifier", doc: "A name quoted with backticks, as Salt builds its SQL.",
                 [Parameter("identifier"), Parameter("for_grants", default: false)]) { a, _, _ in
            let quoted = MySQLQuote.identifier(a.string("identifier") ?? "", forGrants: a.bool("for_grants"))
            return .string(quoted.replacingOccurrences(of: "%", with: "%%"))
        },
    ]

    static let userParameters = [Parameter("user"), Parameter("host", default: "localhost")] + [Parameter].optional("password", "password_hash")
        + [Parameter("allow_passwordless", default: false), Parameter("unix_socket", default: false), Parameter("password_column", default: .null)]
    static let grantParameters = [Parameter("grant"), Parameter("database"), Parameter("user"), Parameter("host", default: "localhost"),
                                  Parameter("grant_option", default: false), Parameter("escape", default: true)]

    // MARK: running SQL

    /// The result sets, or nil with the failure noted.
    static func execute(_ sql: String, _ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote, database: String? = nil) throws -> [MySQLConnection.ResultSet]? {
        var secrets = [a.string("password_hash") ?? ""]
        if let password = a.string("password") { secrets += [password, nativeHash(password)] }
        switch try MySQLConnection(a, ctx).execute(sql, database: database, secrets: secrets, ctx) {
        case .success(let sets): return sets
        case .failure(let failure):
            note.set(failure)
            return nil
        }
    }

    /// The rows of the first result set ([] when none), or nil on failure.
    static func rows(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote, _ sql: String, database: String? = nil) throws -> [[String?]]? {
        try execute(sql, a, ctx, note, database: database).map { $0.first?.rows ?? [] }
    }

    static func version(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> String {
        (try rows(a, ctx, note, "SELECT VERSION()")?.first?.first).flatMap { $0 } ?? ""
    }

    static func isMariaDB(_ version: String) -> Bool { version.contains("MariaDB") }

    static func query(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Value {
        // Salt's query without arguments turns %% into % (its pyformat escape).
        let sql = (a.string("query") ?? "").replacingOccurrences(of: "%%", with: "%")
        let selects = ["SELECT", "SHOW", "DESC"].contains { sql.uppercased().trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix($0) }
        let started = Date()
        // on its own line: a trailing `-- comment` ends there
        guard let sets = try execute(selects ? sql : sql + "\n;\nSELECT ROW_COUNT()", a, ctx, note, database: a.string("database")) else { return false }
        let elapsed = Date().timeIntervalSince(started)
        var result: OrderedDictionary<String, Value> = ["query time": ["human": .string(humanTime(elapsed)), "raw": .string(Value.pythonFloat(rounded(elapsed, 5)))]]
        if selects {
            let set = sets.first ?? MySQLConnection.ResultSet()
            result["rows returned"] = .int(set.rows.count)
            result["columns"] = .list(set.columns.map(Value.string))
            result["results"] = .list(set.rows.map { .list($0.map { $0.map(Value.string) ?? .null }) })
        } else {
            let count = (sets.last?.rows.first?.first).flatMap { $0 }.flatMap(Int.init) ?? 0
            result["rows affected"] = .int(max(count, 0))
        }
        return .map(result)
    }

    static func rounded(_ x: Double, _ places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (x * scale).rounded() / scale
    }

    /// Salt's "0.6ms" under 200 ms, else "0.25s".
    static func humanTime(_ seconds: Double) -> String {
        seconds < 0.2 ? Value.pythonFloat(rounded(seconds * 1000, 1)) + "ms" : Value.pythonFloat(rounded(seconds, 2)) + "s"
    }

    // MARK: databases

    /// Exact name match (Salt uses `SHOW DATABASES LIKE`, where `_` and `%`
    /// are wildcards: `db_exists('a_b')` is true when only `axb` exists).
    static func databaseExists(_ name: String, _ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Bool {
        let sql = "SELECT SCHEMA_NAME FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = \(MySQLQuote.literal(name))"
        return try rows(a, ctx, note, sql)?.count == 1
    }

    static func databaseSettings(_ name: String, _ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Value {
        let sql = "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = \(MySQLQuote.literal(name))"
        guard let rows = try rows(a, ctx, note, sql) else { return [] }
        guard let row = rows.first, row.count >= 2 else { return .emptyMap }
        return ["character_set": row[0].map(Value.string) ?? .null, "collate": row[1].map(Value.string) ?? .null]
    }

    static func createDatabase(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Bool {
        let name = a.string("name") ?? ""
        if try databaseExists(name, a, ctx, note) {
            logger.info("DB '\(name)' already exists")
            return false
        }
        var sql = "CREATE DATABASE IF NOT EXISTS \(MySQLQuote.identifier(name))"
        if let set = a.string("character_set") { sql += " CHARACTER SET \(MySQLQuote.literal(set))" }
        if let collate = a.string("collate") { sql += " COLLATE \(MySQLQuote.literal(collate))" }
        guard let sets = try execute(sql + ";\nSELECT ROW_COUNT()", a, ctx, note) else { return false }
        let created = ((sets.last?.rows.first?.first).flatMap { $0 }.flatMap(Int.init) ?? 0) > 0
        if created { logger.info("DB '\(name)' created") }
        return created
    }

    static func alterDatabase(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Bool {
        let name = a.string("name") ?? ""
        let existing = try databaseSettings(name, a, ctx, note)
        guard let set = a.string("character_set") ?? existing["character_set"]?.stringValue,
              let collate = a.string("collate") ?? existing["collate"]?.stringValue else { return false }
        let sql = "ALTER DATABASE \(MySQLQuote.identifier(name)) CHARACTER SET \(MySQLQuote.literal(set)) COLLATE \(MySQLQuote.literal(collate))"
        guard try execute(sql, a, ctx, note) != nil else { return false }
        logger.info("DB '\(name)' altered")
        return true
    }

    static func removeDatabase(_ name: String, _ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Bool {
        guard try databaseExists(name, a, ctx, note) else {
            logger.info("DB '\(name)' does not exist")
            return false
        }
        guard !["mysql", "information_schema"].contains(name) else {
            logger.info("DB '\(name)' may not be removed")
            return false
        }
        guard try execute("DROP DATABASE \(MySQLQuote.identifier(name))", a, ctx, note) != nil else { return false }
        let gone = try !databaseExists(name, a, ctx, note)
        logger.info("Database '\(name)' has\(gone ? "" : " not") been removed")
        return gone
    }

    // MARK: users

    /// mysql_native_password's stored form: `*` + SHA1(SHA1(password)), upper-case.
    static func nativeHash(_ password: String) -> String {
        let inner = Hashing.sha1(Array(password.utf8))
        return "*" + Hashing.sha1(inner).map { String(format: "%02X", $0) }.joined()
    }

    static func account(_ a: Arguments) -> String {
        MySQLQuote.literal(a.string("user") ?? "") + "@" + MySQLQuote.literal(a.string("host") ?? "localhost")
    }

    static func passwordColumn(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> String {
        if let given = a.string("password_column") {
            guard ["Password", "authentication_string"].contains(given) else {
                throw BrineError(.arguments, "password_column must be Password or authentication_string, not '\(given)'")
            }
            return given
        }
        let sql = "SELECT column_name FROM information_schema.COLUMNS WHERE table_schema = 'mysql' AND table_name = 'user' AND column_name = 'Password'"
        return try rows(a, ctx, note, sql).map { $0.isEmpty ? "authentication_string" : "Password" } ?? "Password"
    }

    static func userExists(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Bool {
        let server = try version(a, ctx, note)
        guard !server.isEmpty else {
            logger.error("MySQL Error: Unable to fetch current server version. Last error was: \"\(note.text ?? "None")\"")
            return false
        }
        let column = try passwordColumn(a, ctx, note)
        var sql = "SELECT User,Host FROM mysql.user WHERE User = \(MySQLQuote.literal(a.string("user") ?? "")) AND Host = \(MySQLQuote.literal(a.string("host") ?? "localhost"))"
        if a["passwordless"].asFlag {
            if a["unix_socket"].asFlag {
                sql += " AND plugin = \(MySQLQuote.literal(isMariaDB(server) ? "unix_socket" : "auth_socket"))"
            } else {
                sql += " AND \(column) = ''"
            }
        } else if let password = a.string("password"), !password.isEmpty {
            // the hash is compared, never the clear text sent (Salt: PASSWORD(%s))
            sql += " AND \(column) = \(MySQLQuote.literal(nativeHash(password)))"
        } else if let hash = a.string("password_hash"), !hash.isEmpty {
            sql += " AND \(column) = \(MySQLQuote.literal(hash))"
        }
        return try rows(a, ctx, note, sql)?.count == 1
    }

    static func pluginStatus(_ name: String, _ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> String {
        guard !name.isEmpty else { return "" }
        let sql = "SELECT PLUGIN_STATUS FROM INFORMATION_SCHEMA.PLUGINS WHERE PLUGIN_NAME = \(MySQLQuote.literal(name))"
        return (try rows(a, ctx, note, sql)?.first?.first).flatMap { $0 } ?? ""
    }

    /// The arguments with only the account (for checks without a password).
    static func accountOnly(_ a: Arguments, passwordless: Bool = false, unixSocket: Bool = false) -> Arguments {
        var b = a
        for key in ["password", "password_hash"] { b.values[key] = .null }
        b.values["passwordless"] = .bool(passwordless)
        b.values["unix_socket"] = .bool(unixSocket)
        return b
    }

    /// An authentication plugin's name, checked: it is a word in the SQL.
    static func authPlugin(_ a: Arguments) throws -> String {
        let plugin = a.string("auth_plugin") ?? "mysql_native_password"
        guard !plugin.isEmpty, plugin.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw BrineError(.arguments, "'\(plugin)' is not an authentication plugin name")
        }
        return plugin
    }

    static func createUser(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Bool {
        let (user, host) = (a.string("user") ?? "", a.string("host") ?? "localhost")
        let plugin = try authPlugin(a)
        let server = try version(a, ctx, note)
        guard !server.isEmpty else { return false }
        if try userExists(accountOnly(a), ctx, note) {
            logger.info("User '\(user)'@'\(host)' already exists")
            return false
        }
        let mariadb = isMariaDB(server)
        var sql = "CREATE USER \(account(a))"
        if a["unix_socket"].asFlag {
            let plugin = mariadb ? "unix_socket" : "auth_socket"
            guard try !pluginStatus(plugin, a, ctx, note).isEmpty else {
                note.text = "The \(plugin) plugin is not enabled."
                return false
            }
            guard host == "localhost" else {
                note.text = "Auth via unix_socket can be set only for host=localhost"
                logger.error("Auth via unix_socket can be set only for host=localhost")
                return false
            }
            sql += mariadb ? " IDENTIFIED VIA unix_socket" : " IDENTIFIED WITH auth_socket"
        } else if !a["allow_passwordless"].asFlag {
            if let password = a.string("password") {
                sql += mariadb ? " IDENTIFIED BY PASSWORD \(MySQLQuote.literal(nativeHash(password)))"
                               : " IDENTIFIED WITH \(plugin) BY \(MySQLQuote.literal(password))"
            } else if let hash = a.string("password_hash") {
                sql += mariadb ? " IDENTIFIED BY PASSWORD \(MySQLQuote.literal(hash))"
                               : " IDENTIFIED WITH \(plugin) AS \(MySQLQuote.literal(hash))"
            } else {
                logger.error("password or password_hash must be specified, unless allow_passwordless=True")
                return false
            }
        }
        guard try execute(sql, a, ctx, note) != nil else { return false }
        var check = a
        check.values["passwordless"] = .bool(a.string("password") == nil && a.string("password_hash") == nil)
        guard try userExists(check, ctx, note) else {
            logger.info("User '\(user)'@'\(host)' was not created")
            return false
        }
        logger.info("User '\(user)'@'\(host)' has been created")
        return true
    }

    static func changePassword(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Bool {
        let (user, host) = (a.string("user") ?? "", a.string("host") ?? "localhost")
        let server = try version(a, ctx, note)
        guard !server.isEmpty else { return false }
        guard try userExists(accountOnly(a), ctx, note) else {
            logger.info("User '\(user)'@'\(host)' does not exists")
            return false
        }
        let mariadb = isMariaDB(server)
        let verifier: String
        if let password = a.string("password") {
            verifier = mariadb ? "mysql_native_password USING \(MySQLQuote.literal(nativeHash(password)))" : "mysql_native_password BY \(MySQLQuote.literal(password))"
        } else if let hash = a.string("password_hash") {
            verifier = mariadb ? "mysql_native_password USING \(MySQLQuote.literal(hash))" : "mysql_native_password AS \(MySQLQuote.literal(hash))"
        } else if a["allow_passwordless"].asFlag {
            if a["unix_socket"].asFlag, host == "localhost" {
                verifier = mariadb ? "unix_socket" : "auth_socket"
            } else {
                verifier = mariadb ? "mysql_native_password USING ''" : "mysql_native_password BY ''"
            }
        } else {
            logger.error("password or password_hash must be specified, unless allow_passwordless=True")
            return false
        }
        let sql = "ALTER USER \(account(a)) IDENTIFIED \(mariadb ? "VIA" : "WITH") \(verifier);\nFLUSH PRIVILEGES"
        guard try execute(sql, a, ctx, note) != nil else { return false }
        logger.info("Password for user '\(user)'@'\(host)' has been \(a.string("password") != nil || a.string("password_hash") != nil ? "changed" : "cleared")")
        return true
    }

    static func removeUser(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Bool {
        let (user, host) = (a.string("user") ?? "", a.string("host") ?? "localhost")
        guard try userExists(accountOnly(a), ctx, note) else {
            note.text = "User '\(user)'@'\(host)' does not exists"
            logger.info("User '\(user)'@'\(host)' does not exists")
            return false
        }
        guard try execute("DROP USER \(account(a))", a, ctx, note) != nil else { return false }
        let gone = try !userExists(accountOnly(a), ctx, note)
        logger.info("User '\(user)'@'\(host)' has \(gone ? "" : "NOT ")been removed")
        return gone
    }

    static func userGrants(_ user: String, _ host: String, _ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> [String]? {
        var b = accountOnly(a)
        b.values["user"] = .string(user)
        b.values["host"] = .string(host)
        guard try userExists(b, ctx, note) else {
            logger.info("User '\(user)'@'\(host)' does not exist")
            return nil
        }
        guard let rows = try rows(a, ctx, note, "SHOW GRANTS FOR \(account(b))") else { return nil }
        return rows.map { row in
            let text = row.first.flatMap { $0 } ?? ""
            guard let cut = text.range(of: " IDENTIFIED BY") else { return text }
            return String(text[..<cut.lowerBound]) + (text.hasSuffix(" WITH GRANT OPTION") ? " WITH GRANT OPTION" : "")
        }
    }
}
