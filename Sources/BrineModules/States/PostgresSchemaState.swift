import BrineCore

/// Salt's `postgres_schema` states: schema NAME present in database DBNAME
/// (created with its owner; an existing schema's owner is left alone, as in
/// Salt), or absent. Their returns carry `dbname` as Salt's do.
public enum PostgresSchemaState: StateModule {
    public static let name = "postgres_schema"

    static let connection = [Parameter].optional("user", "db_user", "db_password", "db_host", "db_port")

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Schema NAME exists in database DBNAME (created with owner).",
                      [Parameter("dbname"), Parameter("owner", default: .null)] + connection) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Schema NAME does not exist in database DBNAME.", [Parameter("dbname")] + connection) { call in
            try absent(call)
        },
    ]

    static func arguments(_ call: StateCall) -> [String: Value] {
        var out: [String: Value] = ["dbname": call["dbname"], "name": .string(call.name)]
        for key in ["user", "db_user", "db_password", "db_host", "db_port"] where !call[key].isNull { out[key] = call[key] }
        return out
    }

    static func result(_ call: StateCall, _ result: Bool?, changes: Bool = false, _ comment: String) -> StateResult {
        var ret = StateResult(name: call.name, result: result, changes: changes ? [call.name: result == true ? "Present" : "Absent"] : [:],
                              comment: comment)
        ret.extra["dbname"] = call["dbname"]
        return ret
    }

    static func present(_ call: StateCall) throws -> StateResult {
        let (name, dbname) = (call.name, call["dbname"].pythonString)
        if try !call.call("postgres.schema_get", [], arguments(call)).isNull {
            return result(call, true, "Schema \(name) already exists in database \(dbname)")
        }
        if call.test { return result(call, nil, "Schema \(name) is set to be created in database \(dbname).") }
        var keyword = arguments(call)
        if !call["owner"].isNull { keyword["owner"] = call["owner"] }
        guard try call.call("postgres.schema_create", [], keyword).asFlag else {
            return result(call, false, "Failed to create schema \(name) in database \(dbname)")
        }
        return result(call, true, changes: true, "Schema \(name) has been created in database \(dbname)")
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let (name, dbname) = (call.name, call["dbname"].pythonString)
        guard try call.call("postgres.schema_exists", [], arguments(call)).asFlag else {
            return result(call, true, "Schema \(name) is not present in database \(dbname), so it cannot be removed")
        }
        if call.test { return result(call, nil, "Schema \(name) is set to be removed from database \(dbname)") }
        guard try call.call("postgres.schema_remove", [], arguments(call)).asFlag else {
            return result(call, false, "Schema \(name) failed to be removed")
        }
        var ret = result(call, true, "Schema \(name) has been removed from database \(dbname)")
        ret.changes = [name: "Absent"]
        return ret
    }
}
