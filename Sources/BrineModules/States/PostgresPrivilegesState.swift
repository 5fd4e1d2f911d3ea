import BrineCore

/// Salt's `postgres_privileges` states: role NAME holds (or not) the
/// privileges on an object (table, sequence, schema, tablespace, language,
/// database, function) or is (or not) a member of a group.
public enum PostgresPrivilegesState: StateModule {
    public static let name = "postgres_privileges"

    static let parameters = [Parameter("object_name"), Parameter("object_type"), Parameter("privileges", default: .null),
                             Parameter("prepend", default: "public")] + PostgresConnectionArguments.parameters

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Role NAME holds PRIVILEGES (a list, or ALL) on OBJECT_NAME of OBJECT_TYPE; grant_option adds WITH GRANT/ADMIN OPTION.",
                      parameters + [Parameter("grant_option", default: .null)]) { call in
            try change(call, present: true)
        },
        StateFunction("absent", doc: "Role NAME does not hold PRIVILEGES on OBJECT_NAME of OBJECT_TYPE.", parameters) { call in
            try change(call, present: false)
        },
    ]

    static func change(_ call: StateCall, present: Bool) throws -> StateResult {
        let name = call.name
        // Salt joins a list; a single privilege may be given as text too (Salt splits it into letters)
        let privileges: Value = call["privileges"].listValue.map { .string($0.map(\.pythonString).joined(separator: ",")) } ?? call["privileges"]
        var keyword = PostgresConnectionArguments.keywords(call)
        keyword["privileges"] = privileges
        keyword["prepend"] = call["prepend"]
        if present, !call["grant_option"].isNull { keyword["grant_option"] = call["grant_option"] }
        let positional: [Value] = [.string(name), call["object_name"], call["object_type"]]
        let what = call["object_type"].pythonString == "group" ? call["object_name"].pythonString : privileges.pythonString
        let has = try call.call("postgres.has_privileges", positional, keyword).asFlag
        if present == has {
            return StateResult(name: name, result: true, comment: present ? "The requested privilege(s) are already set"
                                                                          : "The requested privilege(s) are not set so cannot be revoked")
        }
        if call.test {
            return StateResult(name: name, result: nil, comment: present ? "The privilege(s): \(what) are set to be granted to \(name)"
                                                                         : "The privilege(s): \(what) are set to be revoked from \(name)")
        }
        guard try call.call(present ? "postgres.privileges_grant" : "postgres.privileges_revoke", positional, keyword).asFlag else {
            return StateResult.failed(name, present ? "Failed to grant privilege(s): \(what) to \(name)" : "Failed to revoke privilege(s): \(what) from \(name)")
        }
        return StateResult(name: name, result: true, changes: [name: present ? "Present" : "Absent"],
                           comment: present ? "The privilege(s): \(what) have been granted to \(name)" : "The privilege(s): \(what) have been revoked from \(name)")
    }
}

/// Salt's `postgres_tablespace` states: a tablespace at DIRECTORY with its
/// owner and options, or absent. Unlike Salt 3008.4, test mode changes
/// nothing, the connection arguments reach every call, and a failed
/// create, alter or drop fails the state.
public enum PostgresTablespaceState: StateModule {
    public static let name = "postgres_tablespace"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Tablespace NAME exists at DIRECTORY with owner and options (a different directory is an error).",
                      [Parameter("directory"), Parameter("options", default: .null), Parameter("owner", default: .null)] + PostgresConnectionArguments.parameters) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Tablespace NAME does not exist.", PostgresConnectionArguments.parameters) { call in
            try absent(call)
        },
    ]

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let db = PostgresConnectionArguments.keywords(call)
        var ret = StateResult(name: name, result: true, comment: "Tablespace \(name) is already present")
        guard let current = try call.call("postgres.tablespace_list", [], db)[name] else {
            if call.test { return StateResult(name: name, result: nil, comment: "Tablespace \(name) is set to be created") }
            var keyword = db
            keyword["name"] = .string(name)
            keyword["location"] = call["directory"]
            for key in ["options", "owner"] where !call[key].isNull { keyword[key] = call[key] }
            guard try call.call("postgres.tablespace_create", [], keyword).asFlag else {
                return StateResult.failed(name, "Failed to create tablespace \(name)")
            }
            return StateResult(name: name, result: true, changes: [name: "Present"], comment: "The tablespace \(name) has been created")
        }
        if current["Location"]?.stringValue != call["directory"].pythonString {
            return StateResult.failed(name, "Tablespace \(name) is not at the right location. This is\n            unfixable without dropping and recreating the tablespace.")
        }
        var changes: [String: Value] = [:]
        if let owner = call.string("owner"), current["Owner"]?.stringValue != owner {
            if call.test {
                ret.result = nil
                ret.comment = "Tablespace \(name) owner to be altered"
            } else {
                guard try call.call("postgres.tablespace_alter", [.string(name)], db.merging(["new_owner": .string(owner)]) { $1 }).asFlag else {
                    return StateResult.failed(name, "Failed to change the owner of tablespace \(name)")
                }
                ret.comment = "Tablespace \(name) owner changed"
                changes["owner"] = .string(owner)
            }
        }
        let opts = current["Opts"]?.stringValue ?? ""
        for (key, value) in call["options"].mapValue ?? [:] where !opts.contains("\(key)=\(value.pythonString)") {
            if call.test {
                ret.result = nil
                ret.comment = "Tablespace \(name) options to be\n                        altered"
                break
            }
            guard try call.call("postgres.tablespace_alter", [.string(name)], db.merging(["set_option": [key: value]]) { $1 }).asFlag else {
                return StateResult.failed(name, "Failed to change the options of tablespace \(name)")
            }
            ret.comment = "Tablespace \(name) opts changed"
            changes["options"] = (changes["options"] ?? .emptyMap).merged(with: [key: value])
        }
        if !changes.isEmpty { ret.changes[name] = .map(.init(uniqueKeysWithValues: changes.sorted { $0.key > $1.key })) }
        return ret
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let db = PostgresConnectionArguments.keywords(call)
        guard try call.call("postgres.tablespace_exists", [.string(name)], db).asFlag else {
            return StateResult(name: name, result: true, comment: "Tablespace \(name) is not present, so it cannot be removed")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "Tablespace \(name) is set to be removed") }
        guard try call.call("postgres.tablespace_remove", [.string(name)], db).asFlag else {
            return StateResult.failed(name, "Failed to remove tablespace \(name)")
        }
        return StateResult(name: name, result: true, changes: [name: "Absent"], comment: "Tablespace \(name) has been removed")
    }
}
