import BrineCore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// How Brine talks to PostgreSQL: the `psql` client, as Salt's `postgres`
/// module does, so BrineModules needs no driver (and no NIO).
///
/// Differences from Salt 3008.4, all on the side of safety:
/// - the SQL goes to psql on standard input, never on its command line (a
///   role's password hash, or a literal, is not in the process list);
/// - `ON_ERROR_STOP` and one transaction: several statements succeed or fail
///   together, as Salt's single `-c` does;
/// - identifiers and literals are quoted (`"a""b"`, `'it''s'`), so a name with
///   quotes, spaces or semicolons is data, never SQL (Salt wraps names in
///   double quotes without doubling them);
/// - the password goes in a 0600 pgpass file named by `PGPASSFILE`, with its
///   `:` and `\` escaped, and only when there is one.
public struct PSQLConnection: Sendable {
    public var user: String?
    public var host: String?
    public var port: String?
    public var maintenanceDB: String
    public var password: String?
    /// The system user psql runs as (Salt: `postgres` for a local socket).
    public var runas: String?
    var psql: String
    var timeout: Double?

    /// Salt's connection arguments (`user`, `host`, `port`, `maintenance_db`,
    /// `password`, `runas`) over the `postgres.*` options; a function's own
    /// argument wins, an unset option means "psql's default".
    public init(_ args: Arguments, _ ctx: ExecutionContext, keys: Keys = .plain) throws {
        func option(_ key: String) throws -> String? {
            let value = try ctx.call("config.option", [.string("postgres." + key)])
            return value.isNull || value == "" ? nil : value.pythonString
        }
        func argument(_ name: String) -> String? {
            let value = args[name]
            return value.isNull || value == "" ? nil : value.pythonString
        }
        user = try argument(keys.user) ?? option("user")
        host = try argument(keys.host) ?? option("host")
        port = try argument(keys.port) ?? option("port")
        maintenanceDB = try argument(keys.maintenanceDB) ?? option("maintenance_db") ?? "postgres"
        password = try argument(keys.password) ?? option("pass")
        runas = argument(keys.runas)
        if runas == nil, args[keys.runas].isNull, host == nil || host?.hasPrefix("/") == true {
            runas = "postgres"
        }
        if user == nil, let runas { user = runas }
        psql = try PSQLConnection.findPSQL(bins: option("bins_dir"))
        timeout = try option("timeout").flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil }
    }

    /// The argument names a function uses: the schema functions take
    /// `db_user`/`db_password`/`db_host`/`db_port` and `user` as the system user.
    public struct Keys: Sendable {
        var user = "user", host = "host", port = "port", maintenanceDB = "maintenance_db", password = "password", runas = "runas"
        public static let plain = Keys()
        public static let schema = Keys(user: "db_user", host: "db_host", port: "db_port", maintenanceDB: "dbname",
                                        password: "db_password", runas: "user")
    }

    static func findPSQL(bins: String?) throws -> String {
        if let bins, FileManager.default.isExecutableFile(atPath: bins + "/psql") { return bins + "/psql" }
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/lib/postgresql/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/psql") {
            return dir + "/psql"
        }
        throw BrineError(.notAvailable, "psql was not found", hint: "apt-get install postgresql-client, or set postgres.bins_dir")
    }

    /// The outcome of one psql run.
    public struct Outcome: Sendable {
        public var retcode: Int
        public var stdout: String
        public var stderr: String
        public var succeeded: Bool { retcode == 0 }
    }

    /// Runs SQL Brine generated (one or more statements, as one
    /// transaction unless `transaction` is false: CREATE/DROP DATABASE
    /// cannot run in one) from standard input; `commands` (SQL a user
    /// wrote) go as `--command`s instead, where psql reads no backslash
    /// commands (`\!` would run a shell). Every run starts with
    /// `standard_conforming_strings` on, which the literal quoting relies
    /// on, and psql's messages are terse: no excerpt of the statement (a
    /// password) in its errors.
    public func run(_ sql: String, database: String? = nil, tuplesOnly: Bool = false, transaction: Bool = true,
                    commands: [String] = [], _ ctx: ExecutionContext) throws -> Outcome {
        var argv = [psql, "--no-align", "--no-readline", "--no-psqlrc", "--no-password", "--quiet", "--set=ON_ERROR_STOP=1",
                    "--set=VERBOSITY=terse"]
        if transaction { argv.append("--single-transaction") }
        if tuplesOnly { argv.append("--tuples-only") }
        if let user { argv += ["--username", user] }
        if let host { argv += ["--host", host] }
        if let port { argv += ["--port", port] }
        // a connection string, so a name with `=` is not read as one
        argv += ["--dbname", "dbname=" + Self.conninfoQuoted(database ?? maintenanceDB)]
        var script = "SET standard_conforming_strings = on;\n" + sql
        if !commands.isEmpty {
            argv += ["--command", "SET standard_conforming_strings = on"] + commands.flatMap { ["--command", $0] }
            script = ""
        }
        return try run(argv, script, ctx)
    }

    static func conninfoQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    func run(_ argv: [String], _ sql: String, _ ctx: ExecutionContext) throws -> Outcome {
        guard let line = try passLine() else { return try run(argv, sql, passFile: nil, ctx) }
        return try FileOps.withScratchFile(Array(line.utf8)) { path in
            if let runas, let pw = getpwnam(runas), geteuid() == 0 { _ = chown(path, pw.pointee.pw_uid, pw.pointee.pw_gid) }
            return try run(argv, sql, passFile: path, ctx)
        }
    }

    func run(_ command: [String], _ sql: String, passFile: String?, _ ctx: ExecutionContext) throws -> Outcome {
        var argv = command
        var environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8", "PGAPPNAME": "brine"]
        if let passFile { environment["PGPASSFILE"] = passFile }
        if let runas, runas != CmdModule.currentUserName() {
            guard geteuid() == 0 else {
                throw BrineError(.permission, "running psql as '\(runas)' needs Brine to run as root",
                                 hint: "run as root, or give runas (or db_host) explicitly")
            }
            guard let pw = getpwnam(runas) else {
                throw BrineError(.execution, "User '\(runas)' is not available", hint: "install the PostgreSQL server, or give runas")
            }
            environment["HOME"] = String(cString: pw.pointee.pw_dir)
            environment["USER"] = runas
            argv = ["runuser", "-u", runas, "--"] + argv
        }
        let home = environment["HOME"] ?? "/"
        let command = Command(argv, cwd: access(home, R_OK | X_OK) == 0 ? home : "/", environment: environment,
                              stdin: sql, timeout: timeout)
        let result = try ctx.runner.run(command)
        if result.retcode != 0 {
            PostgresModule.logger.error("Error connecting to Postgresql server")
        }
        return Outcome(retcode: result.retcode, stdout: result.stdout, stderr: redacted(result.stderr))
    }

    /// psql's words with the password (and its md5 form) cut out.
    func redacted(_ text: String) -> String {
        guard let password, !password.isEmpty else { return text }
        return text.replacingOccurrences(of: password, with: "<redacted>")
    }

    /// Rows of a query as Salt's `psql_query` gives them: every value a
    /// string (NULL as ""), columns in order; nil when psql failed.
    public func query(_ sql: String, database: String? = nil, _ ctx: ExecutionContext) throws -> [[(String, String)]]? {
        var body = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        while body.hasSuffix(";") { body.removeLast() }
        // ISO dates whatever the server's DateStyle (Salt parses them as such);
        // the query on its own line, so a trailing `-- comment` ends there
        let outcome = try run("", database: database, commands: ["SET datestyle TO 'ISO, MDY'", "COPY (\(body)\n) TO STDOUT WITH CSV HEADER"], ctx)
        guard outcome.succeeded else { return nil }
        let records = CSVReader.records(outcome.stdout).filter { !$0.isEmpty }
        guard let header = records.first else { return [] }
        return records.dropFirst().map { Array(zip(header, $0)) }
    }

    /// The pgpass line for the password (`:` and `\` escaped), nil without
    /// one; it reaches psql in a 0600 scratch file owned by the user psql
    /// runs as.
    /// Every field but the password is `*`: the file serves this one run.
    func passLine() throws -> String? {
        guard let password, !password.isEmpty else { return nil }
        guard !password.contains("\n") && !password.contains("\r") else {
            throw BrineError(.arguments, "a PostgreSQL password cannot contain a line break", hint: "set the password with psql instead")
        }
        let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:")
        return "*:*:*:*:\(escaped)\n"
    }

}

/// SQL quoting: an identifier or a literal is always data. The quotes
/// are doubled scalar by scalar (a quote followed by a combining mark is one
/// Swift Character, but two code points to PostgreSQL), and a NUL, which
/// psql would cut the line at, is dropped.
public enum SQLQuote {
    /// `"name"`, embedded double quotes doubled.
    public static func identifier(_ name: String) -> String { "\"" + doubled(name, "\"") + "\"" }

    /// `'text'`, embedded single quotes doubled (standard_conforming_strings,
    /// which every run sets, keeps backslashes literal).
    public static func literal(_ text: String) -> String { "'" + doubled(text, "'") + "'" }

    static func doubled(_ text: String, _ quote: Unicode.Scalar) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars where scalar != "\0" {
            out.append(scalar)
            if scalar == quote { out.append(scalar) }
        }
        return String(out)
    }
}

/// RFC 4180 records, as Python's `csv.reader` reads what `COPY … CSV` writes:
/// `,` between fields, `"` around fields that need it, `""` inside them,
/// newlines inside quoted fields kept.
public enum CSVReader {
    /// A blank line is an empty record (`[]`); a line holding `""` is one
    /// empty field.
    public static func records(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var started = false
        var bytes = Array(text.utf8).makeIterator()
        var pending: UInt8? = nil
        func next() -> UInt8? {
            if let p = pending { pending = nil; return p }
            return bytes.next()
        }
        func endField() { record.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true) }
        while let byte = next() {
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if let following = next() {
                        if following == UInt8(ascii: "\"") { field.append(following) } else { quoted = false; pending = following }
                    } else { quoted = false }
                } else { field.append(byte) }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): quoted = true; started = true
            case UInt8(ascii: ","): endField(); started = true
            case UInt8(ascii: "\r"): continue
            case UInt8(ascii: "\n"):
                if started || !field.isEmpty { endField() }
                records.append(record)
                record.removeAll()
                started = false
            default: field.append(byte); started = true
            }
        }
        if started || !field.isEmpty {
            endField()
            records.append(record)
        }
        return records
    }
}

/// Role password verifiers as PostgreSQL stores them (and as Salt's
/// `_maybe_encrypt_password` computes them).
public enum PostgresPassword {
    /// `md5` + md5(password + role).
    public static func md5(role: String, password: String) -> String {
        "md5" + ((try? Hashing.hexDigest(Array((password + role).utf8), algorithm: "md5")) ?? "")
    }

    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (RFC 5802/7677).
    public static func scram(password: String, salt: [UInt8], iterations: Int = 4096) -> String {
        let salted = Hashing.pbkdf2SHA256(password: Array(password.utf8), salt: salt, iterations: iterations, length: 32)
        let clientKey = Hashing.hmacSHA256(key: salted, message: Array("Client Key".utf8))
        let storedKey = Hashing.sha256(clientKey)
        let serverKey = Hashing.hmacSHA256(key: salted, message: Array("Server Key".utf8))
        func b64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
        return "SCRAM-SHA-256$\(iterations):\(b64(salt))$\(b64(storedKey)):\(b64(serverKey))"
    }

    /// The verifier to store for a password: kept when it already is one,
    /// else hashed with `method` (`md5`, `scram-sha-256`, or `false` for
    /// the clear text Salt still allows).
    public static func verifier(role: String, password: String, method: String) throws -> String {
        switch method.lowercased() {
        case "md5", "true":
            return password.hasPrefix("md5") ? password : md5(role: role, password: password)
        case "scram-sha-256":
            guard !password.hasPrefix("SCRAM-SHA-256") else { return password }
            var salt = [UInt8](repeating: 0, count: 16)
            var generator = SystemRandomNumberGenerator()
            for i in salt.indices { salt[i] = generator.next() }
            return scram(password: password, salt: salt)
        case "false":
            return password
        default:
            throw BrineError(.arguments, "Unknown password algorithm: \(method)", hint: "use md5, scram-sha-256 or False")
        }
    }

    /// Whether `password` is what the stored verifier holds, whatever way
    /// it was hashed (so a role's password is checked as the server stored
    /// it, not as the state's `encrypted` would store it today).
    public static func matches(role: String, password: String, stored: String) -> Bool {
        if stored.hasPrefix("SCRAM-SHA-256$") {
            if password.hasPrefix("SCRAM-SHA-256$") { return password == stored }
            let parts = stored.dropFirst("SCRAM-SHA-256$".count).split(separator: "$", maxSplits: 1)
            let fields = parts.first?.split(separator: ":") ?? []
            guard fields.count == 2, let iterations = Int(fields[0]), iterations > 0, iterations <= 1_000_000,
                  let salt = Data(base64Encoded: String(fields[1])) else { return false }
            return scram(password: password, salt: Array(salt), iterations: iterations) == stored
        }
        if stored.hasPrefix("md5") {
            return (password.hasPrefix("md5") ? password : md5(role: role, password: password)) == stored
        }
        return password == stored
    }
}
