import BrineCore
import OrderedCollections

/// Salt's `postgres_user` states: a login role present with its attributes,
/// password and groups, or absent. Comments and `changes` are Salt 3008.4's;
/// the password itself never appears (changes say `password: True`).
public enum PostgresUserState: StateModule {
    public static let name = "postgres_user"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Role NAME exists with the attributes given (createdb, createroles, superuser, replication, inherit, login, password, valid_until, groups); missing groups are granted.",
                      PostgresRole.presentParameters + [Parameter].optional("default_password", "valid_until")) { call in
            try PostgresRole.present(call, kind: .user)
        },
        StateFunction("absent", doc: "Role NAME does not exist.", PostgresRole.connection) { call in
            try PostgresRole.absent(call, kind: .user)
        },
    ]
}

/// Salt's `postgres_group` states: a role without login by default.
public enum PostgresGroupState: StateModule {
    public static let name = "postgres_group"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Group role NAME exists with the attributes given; missing groups are granted.",
                      PostgresRole.presentParameters) { call in
            try PostgresRole.present(call, kind: .group)
        },
        StateFunction("absent", doc: "Group role NAME does not exist.", PostgresRole.connection) { call in
            try PostgresRole.absent(call, kind: .group)
        },
    ]
}

/// What the postgres_* states share: Salt's state arguments for the
/// connection (`user` is the system user psql runs as, `db_*` the server's).
enum PostgresConnectionArguments {
    static let parameters = [Parameter].optional("user", "maintenance_db", "db_user", "db_password", "db_host", "db_port")

    /// The execution module's names for the state's connection arguments.
    static func keywords(_ call: StateCall) -> [String: Value] {
        var out: [String: Value] = [:]
        for (state, module) in [("user", "runas"), ("maintenance_db", "maintenance_db"), ("db_user", "user"),
                                ("db_password", "password"), ("db_host", "host"), ("db_port", "port")] where !call[state].isNull {
            out[module] = call[state]
        }
        return out
    }
}

enum PostgresRole {
    enum Kind {
        case user, group
        var word: String { self == .user ? "User" : "Group" }
        var prefix: String { self == .user ? "user" : "group" }
    }

    static let connection = PostgresConnectionArguments.parameters
    static let presentParameters = [Parameter].optional("createdb", "createroles", "encrypted", "superuser", "replication", "inherit",
                                                        "login", "password", "refresh_password", "groups") + connection

    static func present(_ call: StateCall, kind: Kind) throws -> StateResult {
        let name = call.name, word = kind.word
        let db = PostgresConnectionArguments.keywords(call)
        let existing = try call.call("postgres.role_get", [.string(name)], db.merging(["return_password": .bool(!call.bool("refresh_password"))]) { $1 })
        let mode = existing.isNull ? "create" : "update"
        var password = call["password"]
        if existing.isNull, password.isNull, kind == .user { password = call["default_password"] }
        if !password.isNull, !existing.isNull, !call.bool("refresh_password"),
           PostgresPassword.matches(role: name, password: password.pythonString, stored: existing["password"]?.stringValue ?? "") {
            password = .null
        }
        var update = OrderedDictionary<String, Value>()
        if !existing.isNull {
            for (argument, attribute) in [("createdb", "can create databases"), ("inherit", "inherits privileges"), ("login", "can login"),
                                          ("createroles", "can create roles"), ("replication", "replication"), ("superuser", "superuser")]
            where !call[argument].isNull && existing[attribute]?.boolValue != call[argument].asFlag {
                update[argument] = call[argument]
            }
            if !password.isNull { update["password"] = true }
            if kind == .user, let until = call.string("valid_until") {
                let normalised = try call.call("postgres.psql_query", [.string("SELECT \(SQLQuote.literal(until))::timestamp(0) AS dt")], db)
                // as user_list shows it: a timestamp, else None ('infinity')
                let dt = normalised.listValue?.first?["dt"]?.stringValue ?? ""
                let wanted: Value = dt.count == 19 && dt.first?.isNumber == true ? .string(dt) : .null
                if wanted != existing["expiry time"] { update["valid_until"] = call["valid_until"] }
            }
            let have = Set((existing["groups"]?.listValue ?? []).map(\.pythonString))
            let missing = PostgresModule.groupNames(call["groups"]).filter { !have.contains($0) }
            if !missing.isEmpty { update["groups"] = .list(missing.map(Value.string)) }
        }
        guard mode == "create" || !update.isEmpty else {
            return StateResult(name: name, result: true, comment: "\(word) \(name) is already present")
        }
        if call.test {
            return StateResult(name: name, result: nil, changes: update.isEmpty ? [:] : [name: .map(update)],
                               comment: "\(word) \(name) is set to be \(mode)d")
        }
        var keyword = db
        keyword[kind == .user ? "username" : "groupname"] = .string(name)
        for key in ["createdb", "createroles", "encrypted", "superuser", "login", "inherit", "replication"] where !call[key].isNull {
            keyword[key] = call[key]
        }
        if !password.isNull { keyword["rolepassword"] = password }
        if kind == .user, !call["valid_until"].isNull { keyword["valid_until"] = call["valid_until"] }
        let groups = mode == "create" ? PostgresModule.groupNames(call["groups"]) : (update["groups"]?.listValue ?? []).map(\.pythonString)
        if !groups.isEmpty { keyword["groups"] = .list(groups.map(Value.string)) }
        guard try call.call("postgres.\(kind.prefix)_\(mode)", [], keyword).asFlag else {
            return StateResult(name: name, result: false, comment: "Failed to \(mode) \(kind.prefix) \(name)")
        }
        return StateResult(name: name, result: true, changes: [name: update.isEmpty ? "Present" : .map(update)],
                           comment: "The \(kind.prefix) \(name) has been \(mode)d")
    }

    static func absent(_ call: StateCall, kind: Kind) throws -> StateResult {
        let name = call.name, word = kind.word
        let db = PostgresConnectionArguments.keywords(call)
        guard try call.call("postgres.user_exists", [.string(name)], db).asFlag else {
            return StateResult(name: name, result: true, comment: "\(word) \(name) is not present, so it cannot be removed")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "\(word) \(name) is set to be removed") }
        guard try call.call("postgres.\(kind.prefix)_remove", [.string(name)], db).asFlag else {
            return StateResult(name: name, result: false, comment: "\(word) \(name) failed to be removed")
        }
        return StateResult(name: name, result: true, changes: [name: "Absent"], comment: "\(word) \(name) has been removed")
    }
}
