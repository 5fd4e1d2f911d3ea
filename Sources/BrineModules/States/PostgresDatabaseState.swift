import BrineCore

/// Salt's `postgres_database` states: a database present with its owner,
/// tablespace, encoding and locale, or absent. Encoding and locale cannot
/// change on the fly (an error, as in Salt); owner and tablespace can.
public enum PostgresDatabaseState: StateModule {
    public static let name = "postgres_database"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Database NAME exists; owner and tablespace are changed when they differ, encoding/lc_collate/lc_ctype cannot be.",
                      [Parameter].optional("tablespace", "encoding", "lc_collate", "lc_ctype", "owner", "template")
                          + [Parameter("owner_recurse", default: false)] + PostgresConnectionArguments.parameters) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Database NAME does not exist (its connections are closed first).", PostgresConnectionArguments.parameters) { call in
            try absent(call)
        },
    ]

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let db = PostgresConnectionArguments.keywords(call)
        let databases = try call.call("postgres.db_list", [], db)
        let current = databases[name]
        func differs(_ argument: String, _ field: String, caseInsensitive: Bool = false) -> Bool {
            guard let wanted = call.string(argument), !wanted.isEmpty else { return false }
            let have = current?[field]?.stringValue ?? ""
            return caseInsensitive ? have.lowercased() != wanted.lowercased() : have != wanted
        }
        if current != nil {
            let fixed = differs("encoding", "Encoding", caseInsensitive: true) || differs("lc_collate", "Collate") || differs("lc_ctype", "Ctype")
            if !fixed && !differs("tablespace", "Tablespace") && !differs("owner", "Owner") {
                return StateResult(name: name, result: true, comment: "Database \(name) is already present")
            }
            if fixed {
                return StateResult(name: name, result: false, comment: "Database \(name) has wrong parameters which couldn't be changed on fly.")
            }
        }
        if call.test {
            return StateResult(name: name, result: nil, comment: current == nil ? "Database \(name) is set to be created"
                                                                               : "Database \(name) exists, but parameters need to be changed")
        }
        var keyword = db
        keyword["name"] = .string(name)
        if current == nil {
            for key in ["tablespace", "encoding", "lc_collate", "lc_ctype", "owner", "template"] where !call[key].isNull { keyword[key] = call[key] }
            guard try call.call("postgres.db_create", [], keyword).asFlag else {
                return StateResult(name: name, result: false, comment: "Failed to create database \(name)")
            }
            return StateResult(name: name, result: true, changes: [name: "Present"], comment: "The database \(name) has been created")
        }
        for key in ["tablespace", "owner", "owner_recurse"] where !call[key].isNull { keyword[key] = call[key] }
        guard try call.call("postgres.db_alter", [], keyword).asFlag else {
            return StateResult(name: name, result: false, comment: "Failed to change parameters for database \(name)")
        }
        return StateResult(name: name, result: true, changes: [name: "Parameters changed"], comment: "Parameters for database \(name) have been changed")
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let db = PostgresConnectionArguments.keywords(call)
        guard try call.call("postgres.db_exists", [.string(name)], db).asFlag else {
            return StateResult(name: name, result: true, comment: "Database \(name) is not present, so it cannot be removed")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "Database \(name) is set to be removed") }
        guard try call.call("postgres.db_remove", [.string(name)], db).asFlag else {
            return StateResult(name: name, result: false, comment: "Database \(name) failed to be removed")
        }
        return StateResult(name: name, result: true, changes: [name: "Absent"], comment: "Database \(name) has been removed")
    }
}
