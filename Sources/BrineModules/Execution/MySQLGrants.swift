import BrineCore
import Foundation

/// Salt's grant handling for the `mysql` module: a grant given as text
/// (`select, insert` on `db.*`) is normalised into a GRANT statement, and
/// GRANT statements (the target's and SHOW GRANTS') are read back into
/// tokens that are compared privilege by privilege — Salt 3008.4's
/// `__grant_generate`, `_grant_to_tokens` and `grant_exists`.
extension MySQLModule {
    /// Every privilege name Salt accepts (its `__grants__`).
    static let privileges: Set<String> = [
        "ALL PRIVILEGES", "ALTER", "ALTER ROUTINE", "BACKUP_ADMIN", "BINLOG_ADMIN", "BINLOG ADMIN", "BINLOG MONITOR", "BINLOG REPLAY",
        "CONNECTION_ADMIN", "CONNECTION ADMIN", "CREATE", "CREATE ROLE", "CREATE ROUTINE", "CREATE TABLESPACE", "CREATE TEMPORARY TABLES",
        "CREATE USER", "CREATE VIEW", "DELETE", "DELETE HISTORY", "DROP", "DROP ROLE", "ENCRYPTION_KEY_ADMIN", "EVENT", "EXECUTE",
        "FEDERATED ADMIN", "FILE", "GRANT OPTION", "GROUP_REPLICATION_ADMIN", "INDEX", "INSERT", "LOCK TABLES", "PERSIST_RO_VARIABLES_ADMIN",
        "PROCESS", "READ_ONLY ADMIN", "REFERENCES", "RELOAD", "REPLICA MONITOR", "REPLICATION CLIENT", "REPLICATION MASTER ADMIN",
        "REPLICATION REPLICA", "REPLICATION SLAVE", "REPLICATION_SLAVE_ADMIN", "REPLICATION SLAVE ADMIN", "RESOURCE_GROUP_ADMIN",
        "RESOURCE_GROUP_USER", "ROLE_ADMIN", "SELECT", "SET USER", "SET_USER_ID", "SERVICE_CONNECTION_ADMIN", "SHOW DATABASES", "SHOW VIEW",
        "SHUTDOWN", "SLAVE MONITOR", "SUPER", "SYSTEM_VARIABLES_ADMIN", "TRIGGER", "UPDATE", "USAGE", "XA_RECOVER_ADMIN",
    ]

    struct GrantError: Error { let message: String }

    /// The privilege names of a grant list (`SELECT (a, b), INSERT`):
    /// Salt's `__grant_split` regex `([\w\s]+)(\([^)(]*\))?\s*,?`.
    static func privilegeNames(_ grant: String) -> [String] {
        var names: [String] = []
        var current = ""
        var depth = 0
        for ch in grant {
            if depth > 0 {
                if ch == ")" { depth -= 1 }
                continue
            }
            if ch == "(" { depth += 1; if !current.isEmpty { names.append(current) }; current = ""; continue }
            if ch.isLetter || ch.isNumber || ch == "_" || ch.isWhitespace { current.append(ch) } else {
                if !current.trimmingCharacters(in: .whitespaces).isEmpty { names.append(current) }
                current = ""
            }
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { names.append(current) }
        return names
    }

    /// Salt's `__grant_normalize`: `ALL` is `ALL PRIVILEGES`; every name
    /// must be a known privilege.
    static func normalizeGrant(_ grant: String) throws(GrantError) -> String {
        if grant.trimmingCharacters(in: .whitespaces).uppercased() == "ALL" { return "ALL PRIVILEGES" }
        // the text goes into the statement: only words, spaces, commas and
        // column lists of plain or backquoted names (Salt's regex skips the rest)
        var depth = 0
        var inBackquote = false
        for ch in grant {
            if inBackquote { if ch == "`" { inBackquote = false }; continue }
            switch ch {
            case "(": depth += 1; if depth > 1 { throw GrantError(message: "Invalid grant : '\(grant)'") }
            case ")": depth -= 1; if depth < 0 { throw GrantError(message: "Invalid grant : '\(grant)'") }
            case "`" where depth == 1: inBackquote = true
            case ",", " ", "\t": continue
            default:
                guard ch.isLetter || ch.isNumber || ch == "_" else { throw GrantError(message: "Invalid grant : '\(grant)'") }
            }
        }
        guard depth == 0, !inBackquote else { throw GrantError(message: "Invalid grant : '\(grant)'") }
        for name in privilegeNames(grant) where !privileges.contains(name.trimmingCharacters(in: .whitespaces).uppercased()) {
            throw GrantError(message: "Invalid grant : '\(name)'")
        }
        return grant
    }

    /// `db.table` with Salt's quoting: a database is escaped for grants
    /// when the table is `*` (`_` is a wildcard there).
    static func grantTarget(_ database: String, escape: Bool) -> String {
        var (db, table) = rpartition(database)
        if escape {
            if db != "*" { db = MySQLQuote.identifier(db, forGrants: table == "*") }
            if table != "*" { table = MySQLQuote.identifier(table) }
        }
        return db + "." + table
    }

    static func rpartition(_ s: String) -> (String, String) {
        guard let dot = s.lastIndex(of: ".") else { return ("", s) }
        return (String(s[..<dot]), String(s[s.index(after: dot)...]))
    }

    /// Salt's `__grant_generate`: the GRANT statement for a state's arguments.
    static func generateGrant(_ grant: String, _ database: String, account: String, grantOption: Bool, escape: Bool,
                              ssl: Value = false) throws(GrantError) -> String {
        let spaced = grant.replacing(#/\s*,\s*/#, with: ", ").uppercased()
        let normal = try normalizeGrant(spaced)
        var sql = "GRANT \(normal) ON \(grantTarget(database, escape: escape)) TO \(account)"
        if case .list(let options) = ssl, !options.isEmpty { sql += try sslRequirement(options) }
        if grantOption { sql += " WITH GRANT OPTION" }
        return sql
    }

    /// Salt's `__ssl_option_sanitize`: ` REQUIRE SSL AND CIPHER '…'`.
    static func sslRequirement(_ options: [Value]) throws(GrantError) -> String {
        var parts: [String] = []
        for option in options {
            guard let entry = option.mapValue?.elements.first else { continue }
            let (key, value) = (entry.key, entry.value)
            let name = key.trimmingCharacters(in: .whitespaces).uppercased()
            switch name {
            case "CIPHER", "ISSUER", "SUBJECT": parts.append("\(name) \(MySQLQuote.literal(value.pythonString.replacingOccurrences(of: "'", with: "")))")
            case "SSL", "X509": if value.asFlag { parts.append(name) }
            default: throw GrantError(message: "Invalid SSL option : '\(key)'")
            }
        }
        return " REQUIRE " + parts.joined(separator: " AND ")
    }

    /// What a GRANT statement says: its privileges (column privileges as
    /// `SELECT.col`), `db.table`, user and host. `account` is given for the
    /// statements Brine generates (Salt's "dict mode").
    struct GrantTokens: Equatable {
        var user = "", host = "", database = ""
        var grants: [String] = []
    }

    static func grantTokens(_ statement: String, account: (user: String, host: String)? = nil) -> GrantTokens {
        let tokens = GrantLexer.tokens(statement)
        var out = GrantTokens()
        if let account { (out.user, out.host) = account }
        var multiword: [String] = []
        var phrase = "grants"
        var column = false
        var currentGrant = ""
        var position = 1
        func next() -> String? { position + 1 < tokens.count ? tokens[position + 1] : nil }
        loop: while position < tokens.count {
            let token = tokens[position]
            defer { position += 1 }
            if phrase == "grants" {
                switch token {
                case ",": continue loop
                case "(": column = true; continue loop
                case ")": column = false; continue loop
                case "ON": phrase = "db"; continue loop
                default: break
                }
            } else if token == "TO" && phrase == "tables" { phrase = "user"; continue loop }
            else if token == "@" && phrase == "pre-host" { phrase = "host"; continue loop }
            switch phrase {
            case "grants":
                if let following = next(), [",", "ON", "(", ")"].contains(following) {
                    if !multiword.isEmpty {
                        multiword.append(token)
                        out.grants.append(multiword.joined(separator: " "))
                        multiword = []
                    } else if !column {
                        currentGrant = token
                        out.grants.append(token)
                    } else {
                        out.grants.append("\(currentGrant).\(token)")
                    }
                } else {
                    multiword.append(token)
                }
            case "db":
                out.database += token
                guard let following = next() else { break loop }
                if following == "." { phrase = "tables" }
            case "tables":
                out.database += token
            case "user":
                if account != nil { break loop }
                out.user += token
                if next() == "@" { phrase = "pre-host" }
            case "host":
                out.host = token
                break loop
            default: break
            }
        }
        if account == nil {
            out.user = out.user.trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            out.host = out.host.trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        }
        return out
    }

    /// MariaDB's newer names for the same privileges (Salt's `_resolve_grant_aliases`).
    static func resolveAliases(_ grants: [String], _ version: String) -> [String] {
        guard isMariaDB(version) else { return grants }
        let v = version.split(separator: "-").first.map(String.init) ?? version
        var aliases: [String: String] = [:]
        if PostgresModule.looseCompare(v, "10.5.1") >= 0 { aliases["REPLICATION REPLICA"] = "REPLICATION SLAVE" }
        if PostgresModule.looseCompare(v, "10.5.2") >= 0 { aliases["REPLICATION CLIENT"] = "BINLOG MONITOR" }
        if PostgresModule.looseCompare(v, "10.5.9") >= 0 { aliases["REPLICA MONITOR"] = "SLAVE MONITOR" }
        return grants.map { aliases[$0] ?? $0 }
    }

    static func grantExists(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Bool {
        let server = try version(a, ctx, note)
        guard !server.isEmpty else {
            logger.error("MySQL Error: Unable to fetch current server version. Last error was: \"\(note.text ?? "None")\"")
            return false
        }
        let (user, host) = (a.string("user") ?? "", a.string("host") ?? "localhost")
        var grant = a.string("grant") ?? ""
        let database = a.string("database") ?? ""
        if grant.uppercased().contains("ALL") { grant = "ALL PRIVILEGES" }
        let statement: String
        do {
            statement = try generateGrant(grant, database, account: "%(user)s@%(host)s", grantOption: a["grant_option"].asFlag,
                                          escape: a["escape"].isNull || a["escape"].asFlag)
        } catch {
            logger.error("Error during grant generation.")
            logger.error("\(error.message)")
            return false
        }
        var target = grantTokens(statement, account: (user, host))
        guard let held = try userGrants(user, host, a, ctx, note) else {
            logger.error("Grant does not exist or may not be ordered properly. In some cases, this could also indicate a connection error. Check your configuration.")
            return false
        }
        var byDatabase: [(String, GrantTokens)] = []
        for line in held {
            var tokens = grantTokens(line)
            tokens.grants = resolveAliases(tokens.grants, server)
            if let i = byDatabase.firstIndex(where: { $0.0 == tokens.database }) {
                byDatabase[i].1.grants += tokens.grants
            } else {
                byDatabase.append((tokens.database, tokens))
            }
        }
        target.grants = resolveAliases(target.grants, server)
        func bare(_ s: String) -> String { s.filter { $0 != "\"" && $0 != "\\" && $0 != "`" } }
        for (_, tokens) in byDatabase where target.grants.allSatisfy(tokens.grants.contains)
            && bare(tokens.user) == bare(target.user) && bare(tokens.database) == bare(target.database) && bare(tokens.host) == bare(target.host) {
            return true
        }
        logger.debug("Grant does not exist, or is perhaps not ordered properly?")
        return false
    }

    static func addGrant(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Bool {
        let grant = (a.string("grant") ?? "").trimmingCharacters(in: .whitespaces)
        let statement: String
        do {
            statement = try generateGrant(grant, a.string("database") ?? "", account: account(a), grantOption: a["grant_option"].asFlag,
                                          escape: a["escape"].isNull || a["escape"].asFlag, ssl: a["ssl_option"])
        } catch {
            logger.error("Error during grant generation")
            logger.error("\(error.message)")
            return false
        }
        guard try execute(statement, a, ctx, note) != nil else { return false }
        var check = a
        check.values["grant"] = .string(grant)
        let added = try grantExists(check, ctx, note)
        logger.info("Grant '\(grant)' on '\(a.string("database") ?? "")' for user '\(a.string("user") ?? "")' has\(added ? "" : " NOT") been added")
        return added
    }

    static func revokeGrant(_ a: Arguments, _ ctx: ExecutionContext, _ note: ErrorNote) throws -> Bool {
        var grant: String
        do { grant = try normalizeGrant(a.string("grant") ?? "") } catch {
            logger.error("\(error.message)")
            return false
        }
        if a["grant_option"].asFlag { grant += ", GRANT OPTION" }
        let (db, table) = rpartition(a.string("database") ?? "")
        let target = (db == "*" ? "*" : MySQLQuote.identifier(db, forGrants: table == "*")) + "." + (table == "*" ? "*" : MySQLQuote.identifier(table))
        guard try execute("REVOKE \(grant) ON \(target) FROM \(account(a))", a, ctx, note) != nil else { return false }
        var check = a
        check.values["grant"] = .string(grant)
        let revoked = try !grantExists(check, ctx, note)
        logger.info("Grant '\(grant)' on '\(a.string("database") ?? "")' for user '\(a.string("user") ?? "")' has\(revoked ? "" : " NOT") been revoked")
        return revoked
    }
}

/// Python's `shlex` as Salt sets it up for grants (non-POSIX, quotes `'`
/// and backtick kept inside their token, `"` a word character, no
/// comments): words, quoted strings, and every other character alone.
enum GrantLexer {
    static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        var token = ""
        var quote: Character? = nil
        var inWord = false
        func isWord(_ c: Character) -> Bool { (c.isASCII && (c.isLetter || c.isNumber)) || c == "_" || c == "\"" }
        func flush() { if !token.isEmpty { out.append(token) }; token = ""; inWord = false }
        for c in text {
            if let q = quote {
                token.append(c)
                if c == q { quote = nil; out.append(token); token = "" }
                continue
            }
            if c.isWhitespace { flush(); continue }
            if inWord {
                if isWord(c) || c == "'" || c == "`" { token.append(c); continue }
                flush()
            }
            if isWord(c) { token = String(c); inWord = true }
            else if c == "'" || c == "`" { token = String(c); quote = c }
            else { out.append(String(c)) }
        }
        if quote == nil { flush() } else if !token.isEmpty { out.append(token) }
        return out
    }
}
