import BrineCore
import OrderedCollections

/// Salt's `mysql_database` states (from saltext-mysql, the states Salt
/// 3008 moved out of its core): a database present with its character
/// set and collation (changed in place when they differ), or absent.
public enum MySQLDatabaseState: StateModule {
    public static let name = "mysql_database"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Database NAME exists with character_set and collate (altered when they differ).",
                      [Parameter("character_set", default: .null), Parameter("collate", default: .null)]) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Database NAME does not exist.") { call in
            try absent(call)
        },
    ]

    /// The state's arguments as the module functions read them (the
    /// `connection_*` keywords ride along).
    static func arguments(_ call: StateCall, _ values: [String: Value]) -> Arguments {
        var a = call.arguments
        for (k, v) in values { a.values[k] = v }
        return a
    }

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context, note = MySQLModule.ErrorNote()
        var ret = StateResult(name: name, result: true, comment: "Database \(name) is already present")
        let a = arguments(call, ["name": .string(name)])
        let existing = try MySQLModule.databaseSettings(name, a, ctx, note)
        guard existing.mapValue?.isEmpty == false else {
            if let error = note.pop() { return StateResult.failed(name, error) }
            if call.test { return StateResult(name: name, result: nil, comment: "Database \(name) is not present and needs to be created") }
            let created = try MySQLModule.createDatabase(arguments(call, ["name": .string(name), "character_set": call["character_set"], "collate": call["collate"]]), ctx, note)
            guard created else {
                return StateResult.failed(name, "Failed to create database \(name)" + (note.pop().map { " (\($0))" } ?? ""))
            }
            return StateResult(name: name, result: true, changes: [name: "Present"], comment: "The database \(name) has been created")
        }
        var alter = false
        let currentSet = existing["character_set"]?.pythonString ?? "None"
        if let wanted = call.string("character_set"), !wanted.isEmpty, wanted != currentSet {
            alter = true
            ret.comment = "Database character set \(wanted) != \(currentSet) needs to be updated"
            if call.test { ret.result = nil }
        }
        let currentCollate = existing["collate"]?.pythonString ?? "None"
        if let wanted = call.string("collate"), !wanted.isEmpty, wanted != currentCollate {
            alter = true
            ret.comment += "\nDatabase collate \(wanted) != \(currentCollate) needs to be updated"
            if call.test { ret.result = nil; return ret }
        }
        if alter {
            if call.test {
                ret.comment += "\nDatabase \(name) is going to be updated"
            } else {
                _ = try MySQLModule.alterDatabase(arguments(call, ["name": .string(name), "character_set": call["character_set"], "collate": call["collate"]]), ctx, note)
            }
        }
        let current = try MySQLModule.databaseSettings(name, a, ctx, note)
        for key in ["collate", "character_set"] where existing[key] != current[key] {
            ret.changes[key] = ["before": existing[key] ?? .null, "now": current[key] ?? .null]
        }
        return ret
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context, note = MySQLModule.ErrorNote()
        let a = arguments(call, ["name": .string(name)])
        if try MySQLModule.databaseExists(name, a, ctx, note) {
            if call.test { return StateResult(name: name, result: nil, comment: "Database \(name) is present and needs to be removed") }
            if try MySQLModule.removeDatabase(name, a, ctx, note) {
                return StateResult(name: name, result: true, changes: [name: "Absent"], comment: "Database \(name) has been removed")
            }
            if let error = note.pop() { return StateResult.failed(name, "Unable to remove database \(name) (\(error))") }
        } else if let error = note.pop() {
            return StateResult.failed(name, error)
        }
        return StateResult(name: name, result: true, comment: "Database \(name) is not present, so it cannot be removed")
    }
}
