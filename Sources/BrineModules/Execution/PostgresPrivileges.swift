import BrineCore
import Foundation
import OrderedCollections

/// Salt's `postgres` tablespace and privilege functions. Names are quoted
/// and values are literals here (Salt interpolates them raw); the fixes to
/// Salt 3008.4's behaviour are listed in README ("Where Brine differs").
extension PostgresModule {
    /// ACL letters (Salt's `_PRIVILEGES_MAP`).
    static let privilegeLetters: [Character: String] = ["a": "INSERT", "C": "CREATE", "D": "TRUNCATE", "c": "CONNECT", "t": "TRIGGER",
                                                        "r": "SELECT", "U": "USAGE", "T": "TEMPORARY", "w": "UPDATE", "X": "EXECUTE",
                                                        "x": "REFERENCES", "d": "DELETE", "m": "MAINTAIN"]
    /// The privileges of each object type (Salt's `_PRIVILEGE_TYPE_MAP`).
    static let typePrivileges: [String: String] = ["table": "arwdDxtm", "tablespace": "C", "language": "U", "sequence": "rwU",
                                                   "schema": "UC", "database": "CTc", "function": "X"]
    static let privilegeObjects: Set<String> = ["schema", "tablespace", "language", "sequence", "table", "group", "database", "function"]

    static let privilegeFunctions: [ExecutionFunction] = [
        ExecutionFunction("tablespace_list", doc: "Tablespaces: {name: {Owner, ACL, Opts, Location}}.", connection) { a, ctx in
            .map(try tablespaces(a, ctx))
        },
        ExecutionFunction("tablespace_exists", doc: "Whether tablespace NAME exists.", [Parameter("name")] + connection) { a, ctx in
            .bool(try tablespaces(a, ctx)[a.string("name") ?? ""] != nil)
        },
        ExecutionFunction("tablespace_create", doc: "CREATE TABLESPACE NAME (owner) LOCATION (options).",
                          [Parameter("name"), Parameter("location"), Parameter("options", default: .null), Parameter("owner", default: .null)] + connection) { a, ctx in
            var sql = "CREATE TABLESPACE \(SQLQuote.identifier(a.string("name") ?? ""))"
            if let owner = a.string("owner") { sql += " OWNER \(SQLQuote.identifier(owner))" }
            sql += " LOCATION \(SQLQuote.literal(a.string("location") ?? ""))"
            if let options = try tablespaceOptions(a["options"]) { sql += " WITH (\(options))" }
            return .bool(try failureLogged(PSQLConnection(a, ctx).run(sql, transaction: false, ctx)))
        },
        ExecutionFunction("tablespace_alter", doc: "Rename tablespace NAME, change its owner, set or reset options.",
                          [Parameter("name")] + connection + .optional("new_name", "new_owner", "set_option", "reset_option")) { a, ctx in
            .bool(try alterTablespace(a, ctx))
        },
        ExecutionFunction("tablespace_remove", doc: "DROP TABLESPACE NAME.", [Parameter("name")] + connection) { a, ctx in
            .bool(try failureLogged(PSQLConnection(a, ctx).run("DROP TABLESPACE \(SQLQuote.identifier(a.string("name") ?? ""))", transaction: false, ctx)))
        },
        ExecutionFunction("privileges_list", doc: "Who holds which privileges on NAME (object_type): {role: {PRIVILEGE: grant_option}}; for a group, {member: admin_option}.",
                          [Parameter("name"), Parameter("object_type"), Parameter("prepend", default: "public")] + connection) { a, ctx in
            .map(try privileges(on: a.string("name") ?? "", type: (a.string("object_type") ?? "").lowercased(), a, ctx))
        },
        ExecutionFunction("has_privileges", doc: "Whether role NAME holds PRIVILEGES (a comma list, or ALL) on OBJECT_NAME; the owner holds all.",
                          [Parameter("name"), Parameter("object_name"), Parameter("object_type")] + .optional("privileges", "grant_option")
                              + [Parameter("prepend", default: "public")] + connection) { a, ctx in
            .bool(try hasPrivileges(a, ctx))
        },
        ExecutionFunction("privileges_grant", doc: "GRANT PRIVILEGES on OBJECT_NAME to role NAME (grant_option: WITH GRANT/ADMIN OPTION).",
                          [Parameter("name"), Parameter("object_name"), Parameter("object_type")] + .optional("privileges", "grant_option")
                              + [Parameter("prepend", default: "public")] + connection) { a, ctx in
            .bool(try grant(a, ctx, revoke: false))
        },
        ExecutionFunction("privileges_revoke", doc: "REVOKE PRIVILEGES on OBJECT_NAME from role NAME.",
                          [Parameter("name"), Parameter("object_name"), Parameter("object_type"), Parameter("privileges", default: .null),
                           Parameter("prepend", default: "public")] + connection) { a, ctx in
            .bool(try grant(a, ctx, revoke: true))
        },
    ]

    // MARK: tablespaces

    static func tablespaces(_ a: Arguments, _ ctx: ExecutionContext) throws -> OrderedDictionary<String, Value> {
        let sql = """
            SELECT spcname AS "Name", pga.rolname AS "Owner", spcacl AS "ACL", spcoptions AS "Opts", \
            pg_tablespace_location(pgts.oid) AS "Location" FROM pg_catalog.pg_tablespace pgts, pg_catalog.pg_roles pga \
            WHERE pga.oid = pgts.spcowner
            """
        return try keyedByName(sql, a, ctx)
    }

    /// `seq_page_cost = 1.1, …`: option names are identifiers, values literals.
    static func tablespaceOptions(_ options: Value) throws -> String? {
        guard case .map(let m) = options, !m.isEmpty else { return nil }
        return try m.map { key, value in
            guard key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw BrineError(.arguments, "'\(key)' is not a tablespace option name")
            }
            return "\(key) = \(SQLQuote.literal(value.pythonString))"
        }.joined(separator: ", ")
    }

    static func alterTablespace(_ a: Arguments, _ ctx: ExecutionContext) throws -> Bool {
        let name = SQLQuote.identifier(a.string("name") ?? "")
        var statements: [String] = []
        if let owner = a.string("new_owner") { statements.append("ALTER TABLESPACE \(name) OWNER TO \(SQLQuote.identifier(owner))") }
        if let options = try tablespaceOptions(a["set_option"]) { statements.append("ALTER TABLESPACE \(name) SET (\(options))") }
        if let reset = a.string("reset_option") {
            guard reset.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw BrineError(.arguments, "'\(reset)' is not a tablespace option name")
            }
            statements.append("ALTER TABLESPACE \(name) RESET (\(reset))")
        }
        // renamed last: the other statements name it as it was
        if let newName = a.string("new_name") { statements.append("ALTER TABLESPACE \(name) RENAME TO \(SQLQuote.identifier(newName))") }
        guard !statements.isEmpty else { return true }
        return try failureLogged(PSQLConnection(a, ctx).run(statements.joined(separator: ";\n"), ctx))
    }

    // MARK: privileges

    /// The privilege names of a type: MAINTAIN only from PostgreSQL 17 on.
    static func privilegeNames(_ type: String, _ a: Arguments, _ ctx: ExecutionContext) throws -> [String] {
        var letters = typePrivileges[type] ?? ""
        if letters.contains("m"), let version = try serverVersion(a, ctx), looseCompare(version, "17") < 0 {
            letters.removeAll { $0 == "m" }
        }
        return letters.compactMap { privilegeLetters[$0] }
    }

    /// The requested privileges, upper-cased and checked (Salt's `_mod_priv_opts` and `_validate_privileges`).
    static func requestedPrivileges(_ a: Arguments, type: String, _ ctx: ExecutionContext) throws -> [String] {
        guard privilegeObjects.contains(type) else { throw BrineError(.arguments, "Invalid object_type: \(type) provided") }
        let text = a["privileges"].listValue.map { $0.map(\.pythonString).joined(separator: ",") } ?? (a.string("privileges") ?? "")
        let requested = text.uppercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if type == "group" {
            guard requested.isEmpty else { throw BrineError(.arguments, "The privileges option should not be set for object_type group") }
            return []
        }
        let allowed = Set(try privilegeNames(type, a, ctx) + ["MAINTAIN", "ALL"])
        guard !requested.isEmpty, requested.allSatisfy(allowed.contains) else {
            throw BrineError(.arguments, "Invalid privilege(s): \(text) provided for object \(type)")
        }
        return requested
    }

    /// Where an object lives: `schema.name` for tables, sequences and
    /// functions (`prepend`), its name for the others.
    static func objectTarget(_ name: String, type: String, prepend: String) throws -> String {
        guard ["table", "sequence", "function"].contains(type) else { return SQLQuote.identifier(name) }
        // a function is named with its signature, `f(integer)`: the name is quoted, the arguments are not
        if type == "function", let paren = name.firstIndex(of: "("), name.hasSuffix(")") {
            // argument types as PostgreSQL prints them (`integer, character varying`):
            // letters, digits, `_`, spaces, commas, dots and brackets only, so the
            // list can carry no quote, comment or statement
            let types = name[name.index(after: paren)..<name.index(before: name.endIndex)]
            guard types.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || " _,.[]".unicodeScalars.contains($0)) }) else {
                throw BrineError(.arguments, "'\(name)' is not a function signature such as f(integer, text)")
            }
            return SQLQuote.identifier(prepend) + "." + SQLQuote.identifier(String(name[..<paren])) + "(" + types + ")"
        }
        return SQLQuote.identifier(prepend) + "." + SQLQuote.identifier(name)
    }

    static func aclQuery(_ name: String, type: String, prepend: String) -> String {
        let (n, p) = (SQLQuote.literal(name), SQLQuote.literal(prepend))
        switch type {
        case "table", "sequence":
            return "SELECT COALESCE(array_to_json(relacl::text[]), '[]') AS name, pg_get_userbyid(relowner) AS owner FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE nspname = \(p) AND relname = \(n) AND relkind \(type == "table" ? "IN ('r', 'v', 'p')" : "= 'S'")"
        case "function":
            return "SELECT COALESCE(array_to_json(proacl::text[]), '[]') AS name, pg_get_userbyid(proowner) AS owner FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                + "WHERE nspname = \(p) AND p.oid::regprocedure::text = \(n)"
        case "schema": return "SELECT COALESCE(array_to_json(nspacl::text[]), '[]') AS name, pg_get_userbyid(nspowner) AS owner FROM pg_catalog.pg_namespace WHERE nspname = \(n)"
        case "tablespace": return "SELECT COALESCE(array_to_json(spcacl::text[]), '[]') AS name, pg_get_userbyid(spcowner) AS owner FROM pg_catalog.pg_tablespace WHERE spcname = \(n)"
        case "language": return "SELECT COALESCE(array_to_json(lanacl::text[]), '[]') AS name, pg_get_userbyid(lanowner) AS owner FROM pg_catalog.pg_language WHERE lanname = \(n)"
        case "database": return "SELECT COALESCE(array_to_json(datacl::text[]), '[]') AS name, pg_get_userbyid(datdba) AS owner FROM pg_catalog.pg_database WHERE datname = \(n)"
        default:
            return "SELECT rolname, admin_option FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON m.member = r.oid "
                + "WHERE m.roleid IN (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = \(n)) ORDER BY rolname"
        }
    }

    /// The object's ACL as {role: {PRIVILEGE: grant_option}} (a group:
    /// {member: admin_option}), and its owner.
    static func acl(on name: String, type: String, _ a: Arguments, _ ctx: ExecutionContext) throws -> (OrderedDictionary<String, Value>, owner: String?) {
        guard privilegeObjects.contains(type) else { throw BrineError(.arguments, "Invalid object_type: \(type) provided") }
        let rows = try PSQLConnection(a, ctx).query(aclQuery(name, type: type, prepend: a.string("prepend") ?? "public"), ctx) ?? []
        var result = OrderedDictionary<String, Value>()
        if type == "group" {
            for row in rows { result[column(row, "rolname")] = .bool(column(row, "admin_option") == "t") }
            return (result, nil)
        }
        guard let row = rows.first else { return (result, nil) }
        let items = ((try? JSON.decode(column(row, "name"), file: "acl"))?.listValue ?? []).compactMap(\.stringValue)
        for item in items {
            guard let equals = item.lastIndex(of: "="), let slash = item.lastIndex(of: "/"), equals < slash else { continue }
            var role = String(item[..<equals])
            if role.isEmpty { role = "public" }
            if role.hasPrefix("\""), role.hasSuffix("\""), role.count >= 2 { role = String(role.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"") }
            var privileges = OrderedDictionary<String, Value>()
            var previous: String?
            for letter in item[item.index(after: equals)..<slash] {
                if letter == "*", let previous { privileges[previous] = true } else if let name = privilegeLetters[letter] {
                    privileges[name] = false
                    previous = name
                }
            }
            result[role] = .map(privileges)
        }
        return (result, column(row, "owner"))
    }

    static func privileges(on name: String, type: String, _ a: Arguments, _ ctx: ExecutionContext) throws -> OrderedDictionary<String, Value> {
        try acl(on: name, type: type, a, ctx).0
    }

    static func hasPrivileges(_ a: Arguments, _ ctx: ExecutionContext) throws -> Bool {
        let type = (a.string("object_type") ?? "").lowercased()
        let role = a.string("name") ?? ""
        let requested = try requestedPrivileges(a, type: type, ctx)
        let (held, owner) = try acl(on: a.string("object_name") ?? "", type: type, a, ctx)
        if type != "group", owner == role { return true }
        guard let mine = held[role] else { return false }
        if type == "group" { return a["grant_option"].asFlag ? mine == true : true }
        let wanted = requested.contains("ALL") ? try privilegeNames(type, a, ctx) : requested
        let have = mine.mapValue ?? [:]
        // with grant_option, each wanted privilege must carry it (Salt asks for every privilege of the type)
        return wanted.allSatisfy { have[$0] != nil && (!a["grant_option"].asFlag || have[$0] == true) }
    }

    static func grant(_ a: Arguments, _ ctx: ExecutionContext, revoke: Bool) throws -> Bool {
        let type = (a.string("object_type") ?? "").lowercased()
        let requested = try requestedPrivileges(a, type: type, ctx)
        let has = try hasPrivileges(a, ctx)
        if has != revoke {
            logger.info("The object: \(a.string("object_name") ?? "") of type: \(type) \(revoke ? "does not have" : "already has") privileges: \(a["privileges"].pythonString) set")
            return false
        }
        let role = SQLQuote.identifier(a.string("name") ?? "")
        let object = a.string("object_name") ?? ""
        let option = !revoke && a["grant_option"].asFlag
        let sql: String
        if type == "group" {
            sql = revoke ? "REVOKE \(SQLQuote.identifier(object)) FROM \(role)"
                         : "GRANT \(SQLQuote.identifier(object)) TO \(role)\(option ? " WITH ADMIN OPTION" : "")"
        } else {
            let target = ["table", "sequence", "function"].contains(type) && object.uppercased() == "ALL"
                ? "ALL \(type.uppercased())S IN SCHEMA \(SQLQuote.identifier(a.string("prepend") ?? "public"))"
                : "\(type.uppercased()) \(try objectTarget(object, type: type, prepend: a.string("prepend") ?? "public"))"
            let list = requested.joined(separator: ",")
            sql = revoke ? "REVOKE \(list) ON \(target) FROM \(role)" : "GRANT \(list) ON \(target) TO \(role)\(option ? " WITH GRANT OPTION" : "")"
        }
        return try failureLogged(PSQLConnection(a, ctx).run(sql, ctx))
    }
}
