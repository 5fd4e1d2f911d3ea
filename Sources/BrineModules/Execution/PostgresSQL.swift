import BrineCore
import Foundation
import Logging
import OrderedCollections

/// Salt's `postgres` functions on a running server: roles, databases,
/// schemas, extensions and queries, through `psql` (`PSQLConnection`).
/// Names, arguments and return values are Salt 3008.4's; where Brine does
/// better (quoting, the SQL off the command line, `connections`) the
/// README's module notes say so.
extension PostgresModule {
    static let logger = Logger.brine("brine.loaded.postgres")

    /// The connection arguments every function takes (Salt's names).
    static let connection = [Parameter]
        .optional("user", "host", "port", "maintenance_db", "password", "runas")
    /// The schema functions' names for the same (`user` is the system user).
    static let schemaConnection = [Parameter].optional("user", "db_user", "db_password", "db_host", "db_port")

    static let roleFlags = ["createdb", "createroles", "encrypted", "superuser", "replication", "inherit", "login",
                            "connlimit", "rolepassword", "valid_until", "groups"]

    static let sqlFunctions: [ExecutionFunction] = [
        ExecutionFunction("version", doc: "The server's version (server_version), or None when it does not answer.", connection) { a, ctx in
            try serverVersion(a, ctx).map(Value.string) ?? .null
        },
        ExecutionFunction("psql_query", doc: "Run a query; its rows as a list of {column: text} (NULL as ''); [] when it fails.",
                          [Parameter("query")] + connection + [Parameter("write", default: false)]) { a, ctx in
            let rows = try PSQLConnection(a, ctx).query(a.string("query") ?? "", ctx) ?? []
            return .list(rows.map { .map(OrderedDictionary(uniqueKeysWithValues: dedupe($0).map { ($0.0, Value.string($0.1)) })) })
        },
        ExecutionFunction("db_list", doc: "Databases: {name: {Owner, Encoding, Collate, Ctype, Access privileges, Tablespace}}.", connection) { a, ctx in
            .map(try databases(a, ctx))
        },
        ExecutionFunction("db_exists", doc: "Whether database NAME exists.", [Parameter("name")] + connection) { a, ctx in
            .bool(try databases(a, ctx)[a.string("name") ?? ""] != nil)
        },
        ExecutionFunction("db_create", doc: "CREATE DATABASE NAME with tablespace, encoding, lc_collate, lc_ctype, owner, template; True on success.",
                          [Parameter("name")] + connection + .optional("tablespace", "encoding", "lc_collate", "lc_ctype", "owner", "template")) { a, ctx in
            .bool(try createDatabase(a, ctx))
        },
        ExecutionFunction("db_alter", doc: "Change database NAME's owner and/or tablespace; True on success.",
                          [Parameter("name")] + connection + .optional("tablespace", "owner") + [Parameter("owner_recurse", default: false)]) { a, ctx in
            .bool(try alterDatabase(a, ctx))
        },
        ExecutionFunction("db_remove", doc: "Drop database NAME (its connections closed first); True on success.", [Parameter("name")] + connection) { a, ctx in
            .bool(try removeDatabase(a, ctx))
        },
        ExecutionFunction("user_list", doc: "Roles with their attributes, groups, expiry time and (return_password) password verifier.",
                          connection + [Parameter("return_password", default: false)]) { a, ctx in
            try roles(a, ctx, withPassword: a.bool("return_password")).map(Value.map) ?? false
        },
        ExecutionFunction("role_get", doc: "One role as user_list shows it, or None.",
                          [Parameter("name")] + connection + [Parameter("return_password", default: false)]) { a, ctx in
            try roles(a, ctx, withPassword: a.bool("return_password"))?[a.string("name") ?? ""] ?? .null
        },
        ExecutionFunction("user_exists", doc: "Whether role NAME exists.", [Parameter("name")] + connection) { a, ctx in
            .bool(try roles(a, ctx, withPassword: false)?[a.string("name") ?? ""] != nil)
        },
        roleFunction("user_create", "username", kind: .user, create: true),
        roleFunction("user_update", "username", kind: .user, create: false),
        roleFunction("group_create", "groupname", kind: .group, create: true),
        roleFunction("group_update", "groupname", kind: .group, create: false),
        ExecutionFunction("user_remove", doc: "Drop role USERNAME; True when it is gone.", [Parameter("username")] + connection) { a, ctx in
            .bool(try removeRole(a.string("username") ?? "", a, ctx))
        },
        ExecutionFunction("group_remove", doc: "Drop role GROUPNAME; True when it is gone.", [Parameter("groupname")] + connection) { a, ctx in
            .bool(try removeRole(a.string("groupname") ?? "", a, ctx))
        },
        ExecutionFunction("schema_list", doc: "Schemas of database DBNAME: {name: {owner, acl}}.", [Parameter("dbname")] + schemaConnection) { a, ctx in
            .map(try schemas(a, ctx))
        },
        ExecutionFunction("schema_get", doc: "Schema NAME of database DBNAME ({owner, acl}), or None.",
                          [Parameter("dbname"), Parameter("name")] + schemaConnection) { a, ctx in
            try schemas(a, ctx)[a.string("name") ?? ""] ?? .null
        },
        ExecutionFunction("schema_exists", doc: "Whether schema NAME exists in database DBNAME.",
                          [Parameter("dbname"), Parameter("name")] + schemaConnection) { a, ctx in
            .bool(try schemas(a, ctx)[a.string("name") ?? ""] != nil)
        },
        ExecutionFunction("schema_create", doc: "CREATE SCHEMA NAME (AUTHORIZATION owner) in DBNAME; False when it exists or fails.",
                          [Parameter("dbname"), Parameter("name"), Parameter("owner", default: .null)] + schemaConnection) { a, ctx in
            .bool(try createSchema(a, ctx))
        },
        ExecutionFunction("schema_remove", doc: "DROP SCHEMA NAME in DBNAME; True when it is gone.",
                          [Parameter("dbname"), Parameter("name")] + schemaConnection) { a, ctx in
            .bool(try removeSchema(a, ctx))
        },
        ExecutionFunction("available_extensions", doc: "Extensions the server can install: {name: {name, default_version, comment}}.", connection) { a, ctx in
            .map(try extensions(a, ctx, installed: false))
        },
        ExecutionFunction("installed_extensions", doc: "Extensions installed in the database: {extname: {…, extversion, schema_name}}.", connection) { a, ctx in
            .map(try extensions(a, ctx, installed: true))
        },
        ExecutionFunction("get_available_extension", doc: "One available extension, or None.", [Parameter("name")] + connection) { a, ctx in
            try extensions(a, ctx, installed: false)[a.string("name") ?? ""] ?? .null
        },
        ExecutionFunction("get_installed_extension", doc: "One installed extension, or None.", [Parameter("name")] + connection) { a, ctx in
            try extensions(a, ctx, installed: true)[a.string("name") ?? ""] ?? .null
        },
        ExecutionFunction("is_available_extension", doc: "Whether the server can install extension NAME.", [Parameter("name")] + connection) { a, ctx in
            let name = (a.string("name") ?? "").lowercased()
            return .bool(try extensions(a, ctx, installed: false).keys.contains { $0.lowercased() == name })
        },
        ExecutionFunction("is_installed_extension", doc: "Whether extension NAME is installed.", [Parameter("name")] + connection) { a, ctx in
            .bool(try extensions(a, ctx, installed: true)[a.string("name") ?? ""] != nil)
        },
        ExecutionFunction("create_metadata", doc: "What present would do for extension NAME: EXTENSION NOT INSTALLED / INSTALLED, TO UPGRADE, TO MOVE.",
                          [Parameter("name"), Parameter("ext_version", default: .null), Parameter("schema", default: .null)] + connection) { a, ctx in
            .list(try extensionMetadata(a, ctx).map { .string($0.rawValue) })
        },
        ExecutionFunction("create_extension", doc: "Install extension NAME (or move/upgrade it); True when it is as asked.",
                          [Parameter("name")] + .optional("if_not_exists", "schema", "ext_version", "from_version") + connection) { a, ctx in
            .bool(try createExtension(a, ctx))
        },
        ExecutionFunction("drop_extension", doc: "Drop extension NAME (cascade by default); True when it is gone.",
                          [Parameter("name")] + .optional("if_exists", "restrict", "cascade") + connection) { a, ctx in
            .bool(try dropExtension(a, ctx))
        },
    ]

    // MARK: server

    static func serverVersion(_ a: Arguments, _ ctx: ExecutionContext) throws -> String? {
        let outcome = try PSQLConnection(a, ctx).run("SELECT setting FROM pg_catalog.pg_settings WHERE name = 'server_version'",
                                                     tuplesOnly: true, ctx)
        let first = outcome.stdout.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return first.isEmpty ? nil : first
    }

    /// Later columns of the same name win, as in Python's dict(zip(...)).
    static func dedupe(_ row: [(String, String)]) -> [(String, String)] {
        var seen = OrderedDictionary<String, String>()
        for (k, v) in row { seen[k] = v }
        return seen.map { ($0.key, $0.value) }
    }

    static func column(_ row: [(String, String)], _ name: String) -> String {
        row.last { $0.0 == name }?.1 ?? ""
    }

    // MARK: databases

    static func databases(_ a: Arguments, _ ctx: ExecutionContext) throws -> OrderedDictionary<String, Value> {
        let sql = """
            SELECT datname AS "Name", pga.rolname AS "Owner", pg_encoding_to_char(encoding) AS "Encoding", \
            datcollate AS "Collate", datctype AS "Ctype", datacl AS "Access privileges", spcname AS "Tablespace" \
            FROM pg_database pgd, pg_roles pga, pg_tablespace pgts \
            WHERE pga.oid = pgd.datdba AND pgts.oid = pgd.dattablespace
            """
        return try keyedByName(sql, a, ctx)
    }

    /// A query's rows as {Name: {other columns}} (db_list, tablespace_list); {} when it fails.
    static func keyedByName(_ sql: String, _ a: Arguments, _ ctx: ExecutionContext) throws -> OrderedDictionary<String, Value> {
        var result = OrderedDictionary<String, Value>()
        for row in try PSQLConnection(a, ctx).query(sql, ctx) ?? [] {
            var entry = OrderedDictionary<String, Value>()
            for (k, v) in dedupe(row) where k != "Name" { entry[k] = .string(v) }
            result[column(row, "Name")] = .map(entry)
        }
        return result
    }

    static func createDatabase(_ a: Arguments, _ ctx: ExecutionContext) throws -> Bool {
        var with: [String] = []
        if let v = a.string("tablespace") { with.append("TABLESPACE = " + SQLQuote.identifier(v)) }
        if let v = a.string("owner") { with.append("OWNER = " + SQLQuote.identifier(v)) }
        if let v = a.string("template") { with.append("TEMPLATE = " + SQLQuote.identifier(v)) }
        if let v = a.string("encoding") { with.append("ENCODING = " + SQLQuote.literal(v)) }
        if let v = a.string("lc_collate") { with.append("LC_COLLATE = " + SQLQuote.literal(v)) }
        if let v = a.string("lc_ctype") { with.append("LC_CTYPE = " + SQLQuote.literal(v)) }
        let sql = "CREATE DATABASE " + SQLQuote.identifier(a.string("name") ?? "") + (with.isEmpty ? "" : " WITH " + with.joined(separator: " "))
        return try failureLogged(PSQLConnection(a, ctx).run(sql, transaction: false, ctx))
    }

    /// Owner and tablespace, each its own statement (SET TABLESPACE cannot
    /// run in a transaction); owner_recurse also hands over what the old
    /// owner owned in that database (Salt 3008.4 fails there, a TypeError).
    static func alterDatabase(_ a: Arguments, _ ctx: ExecutionContext) throws -> Bool {
        let name = SQLQuote.identifier(a.string("name") ?? "")
        let connection = try PSQLConnection(a, ctx)
        var ok = true
        if let owner = a.string("owner") {
            if a.bool("owner_recurse"), let current = try databases(a, ctx)[a.string("name") ?? ""]?["Owner"]?.stringValue, current != owner {
                ok = try failureLogged(connection.run("REASSIGN OWNED BY \(SQLQuote.identifier(current)) TO \(SQLQuote.identifier(owner))",
                                                      database: a.string("name"), ctx)) && ok
            }
            ok = try failureLogged(connection.run("ALTER DATABASE \(name) OWNER TO \(SQLQuote.identifier(owner))", ctx)) && ok
        }
        if let tablespace = a.string("tablespace") {
            ok = try failureLogged(connection.run("ALTER DATABASE \(name) SET TABLESPACE \(SQLQuote.identifier(tablespace))", transaction: false, ctx)) && ok
        }
        return ok
    }

    static func removeDatabase(_ a: Arguments, _ ctx: ExecutionContext) throws -> Bool {
        let raw = a.string("name") ?? ""
        let name = SQLQuote.identifier(raw)
        let connection = try PSQLConnection(a, ctx)
        let closed = try connection.run("""
            REVOKE CONNECT ON DATABASE \(name) FROM public;
            SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(SQLQuote.literal(raw)) AND pid <> pg_backend_pid();
            """, ctx)
        guard failureLogged(closed) else { return false }
        return try failureLogged(connection.run("DROP DATABASE \(name)", transaction: false, ctx))
    }

    /// Logs psql's complaint (Salt logs the whole run's result) and says
    /// whether it succeeded.
    static func failureLogged(_ outcome: PSQLConnection.Outcome) -> Bool {
        if !outcome.succeeded { logger.error("psql: \(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
        return outcome.succeeded
    }

    // MARK: roles

    /// `user_list`: nil when the server does not answer (Salt: False).
    static func roles(_ a: Arguments, _ ctx: ExecutionContext, withPassword: Bool) throws -> OrderedDictionary<String, Value>? {
        let sql = """
            SELECT r.rolname AS "name", r.rolsuper AS "superuser", r.rolinherit AS "inherits privileges", \
            r.rolcreaterole AS "can create roles", r.rolcreatedb AS "can create databases", \
            NULL AS "can update system catalogs", r.rolcanlogin AS "can login", r.rolreplication AS "replication", \
            r.rolconnlimit AS "connections", \
            (SELECT COALESCE(array_to_json(array_agg(g.rolname)), '[]') FROM pg_catalog.pg_auth_members m \
            JOIN pg_catalog.pg_roles g ON m.roleid = g.oid WHERE m.member = r.oid) AS "groups", \
            r.rolvaliduntil::timestamp(0) AS "expiry time", r.rolconfig AS "defaults variables"\
            \(withPassword ? ", a.rolpassword AS \"password\"" : "") \
            FROM pg_catalog.pg_roles r\(withPassword ? " LEFT JOIN pg_catalog.pg_authid a ON a.oid = r.oid" : "")
            """
        guard let rows = try PSQLConnection(a, ctx).query(sql, ctx) else { return nil }
        var result = OrderedDictionary<String, Value>()
        for row in rows {
            var role = OrderedDictionary<String, Value>()
            for key in ["superuser", "inherits privileges", "can create roles", "can create databases",
                        "can update system catalogs", "can login", "replication"] {
                switch column(row, key) { case "t": role[key] = true; case "f": role[key] = false; default: role[key] = .null }
            }
            role["connections"] = Int(column(row, "connections")).map(Value.int) ?? .null
            let expiry = column(row, "expiry time")
            role["expiry time"] = expiry.count == 19 && expiry.first?.isNumber == true ? .string(expiry) : .null
            role["defaults variables"] = .string(column(row, "defaults variables"))
            if withPassword { role["password"] = .string(column(row, "password")) }
            // JSON, as array text escapes quotes and backslashes its own way
            role["groups"] = (try? JSON.decode(column(row, "groups"), file: "groups")).flatMap { $0.listValue.map(Value.list) } ?? []
            result[column(row, "name")] = .map(role)
        }
        return result
    }

    enum RoleKind { case user, group }

    static func roleFunction(_ name: String, _ nameParameter: String, kind: RoleKind, create: Bool) -> ExecutionFunction {
        var parameters = [Parameter(nameParameter)] + connection + [Parameter].optional("createdb", "createroles", "encrypted", "superuser",
                                                                                          "inherit", "login", "replication", "rolepassword", "groups")
        if kind == .user { parameters += [Parameter].optional("connlimit", "valid_until") }
        let what = kind == .user ? "User" : "Group"
        return ExecutionFunction(name, doc: create ? "CREATE ROLE \(nameParameter.uppercased()) with its attributes and groups; False when it exists or fails."
                                               : "ALTER ROLE \(nameParameter.uppercased()) to the attributes given, granting the groups; False when it is missing or fails.",
                                 parameters) { a, ctx in
            let role = a.string(nameParameter) ?? ""
            let existing = try roles(a, ctx, withPassword: false)?[role]
            if create, existing != nil {
                logger.info("\(what) '\(role)' already exists")
                return false
            }
            if !create, existing == nil {
                logger.info("\(what) '\(role)' could not be found")
                return false
            }
            let clauses = try roleClauses(role, a, ctx, kind: create ? kind : nil, current: existing)
            let verb = create ? "CREATE ROLE" : "ALTER ROLE"
            var sql = clauses.options.isEmpty && !create ? "" : "\(verb) \(SQLQuote.identifier(role))"
            if !clauses.options.isEmpty { sql += " WITH " + clauses.options.joined(separator: " ") }
            if !sql.isEmpty { sql += ";\n" }
            for group in clauses.groups { sql += "GRANT \(SQLQuote.identifier(group)) TO \(SQLQuote.identifier(role));\n" }
            guard !sql.isEmpty else { return true }
            return .bool(try failureLogged(PSQLConnection(a, ctx).run(sql, ctx)))
        }
    }

    /// The role options of CREATE/ALTER ROLE, in Salt's order, and the groups
    /// to grant. `kind` (on create) brings Salt's defaults: INHERIT, and
    /// LOGIN for a user, NOLOGIN for a group.
    static func roleClauses(_ role: String, _ a: Arguments, _ ctx: ExecutionContext, kind: RoleKind?, current: Value?)
        throws -> (options: [String], groups: [String])
    {
        func flag(_ key: String) -> Bool? { a[key].isNull ? nil : a[key].asFlag }
        var options: [String] = []
        func add(_ word: String, _ value: Bool?) { if let value { options.append(value ? word : "NO" + word) } }
        add("INHERIT", flag("inherit") ?? (kind != nil ? true : nil))
        add("CREATEDB", flag("createdb"))
        add("CREATEROLE", flag("createroles"))
        if let superuser = flag("superuser"), current?["superuser"]?.boolValue != superuser { add("SUPERUSER", superuser) }
        add("REPLICATION", flag("replication"))
        add("LOGIN", flag("login") ?? kind.map { $0 == .user })
        if let limit = a.int("connlimit") { options.append("CONNECTION LIMIT \(limit)") }
        switch a["rolepassword"] {
        case .bool(false): options.append("PASSWORD NULL")
        case .null, .bool(true): break
        case let value where value.pythonString.isEmpty: break
        case let value:
            let method = a["encrypted"].isNull ? try passwordEncryption(a, ctx) : a["encrypted"].pythonString
            options.append("PASSWORD " + SQLQuote.literal(try PostgresPassword.verifier(role: role, password: value.pythonString, method: method)))
        }
        if let until = a.string("valid_until") {
            options.append(until.isEmpty ? "VALID UNTIL 'infinity'" : "VALID UNTIL " + SQLQuote.literal(until))
        }
        return (options, groupNames(a["groups"]))
    }

    /// Salt's `groups`: a list, or a comma-separated string.
    static func groupNames(_ value: Value) -> [String] {
        switch value {
        case .null: return []
        case .list(let l): return l.map(\.pythonString)
        default: return value.pythonString.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    /// How the server hashes passwords (`password_encryption`): what Brine
    /// uses when `encrypted` is not given (Salt always uses md5, which a
    /// PostgreSQL 14+ server set to scram-sha-256 rejects at login).
    static func passwordEncryption(_ a: Arguments, _ ctx: ExecutionContext) throws -> String {
        let outcome = try PSQLConnection(a, ctx).run("SHOW password_encryption", tuplesOnly: true, ctx)
        let method = outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return ["md5", "scram-sha-256"].contains(method) ? method : "md5"
    }

    static func removeRole(_ name: String, _ a: Arguments, _ ctx: ExecutionContext) throws -> Bool {
        guard try roles(a, ctx, withPassword: false)?[name] != nil else {
            logger.info("User '\(name)' does not exist")
            return false
        }
        _ = try failureLogged(PSQLConnection(a, ctx).run("DROP ROLE \(SQLQuote.identifier(name))", ctx))
        let gone = try roles(a, ctx, withPassword: false)?[name] == nil
        if !gone { logger.info("Failed to delete user '\(name)'.") }
        return gone
    }

    // MARK: schemas

    static func schemas(_ a: Arguments, _ ctx: ExecutionContext) throws -> OrderedDictionary<String, Value> {
        let sql = """
            SELECT n.nspname AS "name", n.nspacl AS "acl", r.rolname AS "owner" \
            FROM pg_catalog.pg_namespace n LEFT JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
            """
        var result = OrderedDictionary<String, Value>()
        for row in try PSQLConnection(a, ctx, keys: .schema).query(sql, ctx) ?? [] {
            result[column(row, "name")] = ["owner": .string(column(row, "owner")), "acl": .string(column(row, "acl"))]
        }
        return result
    }

    static func createSchema(_ a: Arguments, _ ctx: ExecutionContext) throws -> Bool {
        let name = a.string("name") ?? ""
        if try schemas(a, ctx)[name] != nil {
            logger.info("'\(name)' already exists in '\(a.string("dbname") ?? "")'")
            return false
        }
        var sql = "CREATE SCHEMA " + SQLQuote.identifier(name)
        if let owner = a.string("owner") { sql += " AUTHORIZATION " + SQLQuote.identifier(owner) }
        return try failureLogged(PSQLConnection(a, ctx, keys: .schema).run(sql, ctx))
    }

    static func removeSchema(_ a: Arguments, _ ctx: ExecutionContext) throws -> Bool {
        let name = a.string("name") ?? ""
        guard try schemas(a, ctx)[name] != nil else {
            logger.info("Schema '\(name)' does not exist in '\(a.string("dbname") ?? "")'")
            return false
        }
        _ = failureLogged(try PSQLConnection(a, ctx, keys: .schema).run("DROP SCHEMA " + SQLQuote.identifier(name), ctx))
        return try schemas(a, ctx)[name] == nil
    }

    // MARK: extensions

    static func extensions(_ a: Arguments, _ ctx: ExecutionContext, installed: Bool) throws -> OrderedDictionary<String, Value> {
        let sql = installed
            ? "SELECT a.*, b.nspname AS schema_name FROM pg_catalog.pg_extension a, pg_catalog.pg_namespace b WHERE a.extnamespace = b.oid"
            : "SELECT * FROM pg_catalog.pg_available_extensions()"
        let key = installed ? "extname" : "name"
        let version = installed ? "extversion" : "default_version"
        var result = OrderedDictionary<String, Value>()
        for row in try PSQLConnection(a, ctx).query(sql, ctx) ?? [] {
            let fields = dedupe(row)
            guard fields.contains(where: { $0.0 == version }), let name = fields.first(where: { $0.0 == key })?.1 else { continue }
            result[name] = .map(OrderedDictionary(uniqueKeysWithValues: fields.map { ($0.0, Value.string($0.1)) }))
        }
        return result
    }

    enum ExtensionState: String { case notInstalled = "EXTENSION NOT INSTALLED", installed = "EXTENSION INSTALLED",
                                       toUpgrade = "EXTENSION TO UPGRADE", toMove = "EXTENSION TO MOVE" }

    static func extensionMetadata(_ a: Arguments, _ ctx: ExecutionContext) throws -> [ExtensionState] {
        guard let installed = try extensions(a, ctx, installed: true)[a.string("name") ?? ""] else { return [.notInstalled] }
        var states: [ExtensionState] = [.installed]
        if let wanted = a.string("ext_version"), looseCompare(installed["extversion"]?.stringValue ?? wanted, wanted) < 0 {
            states.append(.toUpgrade)
        }
        if let schema = a.string("schema"), installed["extrelocatable"]?.stringValue == "t",
           installed["schema_name"]?.stringValue ?? schema != schema {
            states.append(.toMove)
        }
        return states
    }

    static func createExtension(_ a: Arguments, _ ctx: ExecutionContext) throws -> Bool {
        let raw = a.string("name") ?? ""
        let name = SQLQuote.identifier(raw)
        let before = try extensionMetadata(a, ctx)
        let available = try extensions(a, ctx, installed: false).keys.contains { $0.lowercased() == raw.lowercased() }
        var sql = ""
        if available, before.contains(.notInstalled) {
            sql = "CREATE EXTENSION " + (a["if_not_exists"].isNull || a.bool("if_not_exists") ? "IF NOT EXISTS " : "") + name
            var with: [String] = []
            if let schema = a.string("schema") { with.append("SCHEMA " + SQLQuote.identifier(schema)) }
            if let version = a.string("ext_version") { with.append("VERSION " + SQLQuote.literal(version)) }
            if let from = a.string("from_version") { with.append("FROM " + SQLQuote.literal(from)) }
            if !with.isEmpty { sql += " WITH " + with.joined(separator: " ") }
        } else if available {
            if let schema = a.string("schema"), before.contains(.toMove) { sql += "ALTER EXTENSION \(name) SET SCHEMA \(SQLQuote.identifier(schema));\n" }
            if let version = a.string("ext_version"), before.contains(.toUpgrade) { sql += "ALTER EXTENSION \(name) UPDATE TO \(SQLQuote.literal(version));\n" }
        }
        if !sql.isEmpty { _ = failureLogged(try PSQLConnection(a, ctx).run(sql, ctx)) }
        let after = try extensionMetadata(a, ctx)
        let done = after == [.installed]
        if !done { logger.error("Failed to create ext: \(raw)") }
        return done
    }

    static func dropExtension(_ a: Arguments, _ ctx: ExecutionContext) throws -> Bool {
        let raw = a.string("name") ?? ""
        if try extensions(a, ctx, installed: true)[raw] != nil {
            var sql = "DROP EXTENSION " + (a.bool("if_exists") ? "IF EXISTS " : "") + SQLQuote.identifier(raw)
            if a.bool("restrict") { sql += " RESTRICT" } else if a["cascade"].isNull || a.bool("cascade") { sql += " CASCADE" }
            _ = failureLogged(try PSQLConnection(a, ctx).run(sql, ctx))
        }
        return try extensions(a, ctx, installed: true)[raw] == nil
    }

    /// Python's LooseVersion order (Salt's): runs of digits compare as
    /// numbers, runs of letters as text.
    static func looseCompare(_ x: String, _ y: String) -> Int {
        func parts(_ s: String) -> [Either] {
            var out: [Either] = []
            var current = ""
            var digits = false
            func flush() { if !current.isEmpty { out.append(digits ? .number(Int(current.prefix(18)) ?? 0) : .text(current)) }; current = "" }
            for ch in s {
                if ch == "." { flush(); continue }
                let isDigit = ch.isASCII && ch.isNumber
                if !current.isEmpty && isDigit != digits { flush() }
                digits = isDigit
                current.append(ch)
            }
            flush()
            return out
        }
        let (p, q) = (parts(x), parts(y))
        for (l, r) in zip(p, q) {
            switch (l, r) {
            case (.number(let m), .number(let n)) where m != n: return m < n ? -1 : 1
            case (.text(let m), .text(let n)) where m != n: return m < n ? -1 : 1
            case (.number, .text): return -1
            case (.text, .number): return 1
            default: continue
            }
        }
        return p.count == q.count ? 0 : (p.count < q.count ? -1 : 1)
    }

    enum Either { case number(Int), text(String) }
}
