import BrineCore
import Foundation
import OrderedCollections

/// Salt's `mysql_query.run` (saltext-mysql): run a query in a database,
/// optionally keeping its result in a grain or a file (then, with
/// `overwrite: False`, only once). The comment is the result as Python
/// prints it, as in Salt (its `query time` is Brine's client run, a few
/// milliseconds more than Salt's in-process driver).
public enum MySQLQueryState: StateModule {
    public static let name = "mysql_query"

    public static let functions: [StateFunction] = [
        StateFunction("run", doc: "Run QUERY in DATABASE; output: grain (with grain, key) or a file path keeps the result.",
                      [Parameter("database"), Parameter("query")] + [Parameter].optional("output", "grain", "key")
                          + [Parameter("overwrite", default: true), Parameter("check_db_exists", default: true)]) { call in
            try run(call)
        },
    ]

    /// `str()` of Salt's result, where `columns` is a tuple: `('id',)`.
    static func pythonText(_ result: Value) -> String {
        guard case .map(let m) = result else { return result.pythonString }
        return "{" + m.map { key, value in
            var text = value.pythonRepr
            if key == "columns", let columns = value.listValue {
                text = "(" + columns.map(\.pythonRepr).joined(separator: ", ") + (columns.count == 1 ? ",)" : ")")
            }
            return Value.pythonQuote(key) + ": " + text
        }.joined(separator: ", ") + "}"
    }

    static func run(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context, note = MySQLModule.ErrorNote()
        let database = call["database"].pythonString
        var ret = StateResult(name: name, result: true, comment: "Database \(database) is already present")
        let a = MySQLDatabaseState.arguments(call, ["database": call["database"], "query": call["query"]])
        if call["check_db_exists"].asFlag, try !MySQLModule.databaseExists(database, a, ctx, note) {
            if let error = note.pop() { return StateResult.failed(name, error) }
            return StateResult(name: name, result: nil, comment: "Database \(name) is not present")
        }
        let overwrite = call["overwrite"].asFlag
        let output = call.string("output")
        var grainValue: Value = .emptyMap
        switch output {
        case "grain":
            guard let grain = call.string("grain") else {
                return StateResult.failed(name, "Error: output type 'grain' needs the grain parameter\n")
            }
            let grains = try ctx.grains().merged(with: .map(try GrainsFile.load(ctx)))
            if let key = call.string("key") {
                grainValue = grains[grain] ?? .emptyMap
                if !overwrite && grainValue[key] != nil {
                    ret.comment = "No execution needed. Grain \(grain):\(key) already set"
                    return ret
                }
                if call.test { return StateResult(name: name, result: nil, comment: "Query would execute, storing result in grain: \(grain):\(key)") }
            } else {
                if !overwrite && grains[grain] != nil {
                    ret.comment = "No execution needed. Grain \(grain) already set"
                    return ret
                }
                if call.test { return StateResult(name: name, result: nil, comment: "Query would execute, storing result in grain: \(grain)") }
            }
        case let path?:
            if !overwrite && FileOps.isFile(path) {
                ret.comment = "No execution needed. File \(path) already set"
                return ret
            }
            if call.test { return StateResult(name: name, result: nil, comment: "Query would execute, storing result in file: \(path)") }
        case nil:
            if call.test { return StateResult(name: name, result: nil, comment: "Query would execute, not storing result") }
        }
        var result = try MySQLModule.query(a, ctx, note)
        if case .map(var m) = result, let columns = m["columns"]?.listValue, let rows = m["results"]?.listValue {
            m["results"] = .list(rows.map { row in
                .map(OrderedDictionary(zip(columns.map(\.pythonString), row.listValue ?? []).map { ($0, $1) }, uniquingKeysWith: { $1 }))
            })
            result = .map(m)
        }
        guard result != false else { return StateResult.failed(name, note.pop() ?? "Query failed") }
        ret.comment = pythonText(result)
        switch output {
        case "grain":
            let grain = call.string("grain") ?? ""
            if let key = call.string("key") {
                var map = grainValue.mapValue ?? [:]
                map[key] = result
                _ = try GrainsFile.set(grain, .map(map), force: true, destructive: false, ctx)
                ret.changes["query"] = .string("Executed. Output into grain: \(grain):\(key)")
            } else {
                _ = try GrainsFile.set(grain, result, force: true, destructive: false, ctx)
                ret.changes["query"] = .string("Executed. Output into grain: \(grain)")
            }
        case let path?:
            var text = ""
            if let rows = result["results"]?.listValue {
                for row in rows { for (column, value) in row.mapValue ?? [:] { text += "\(column):\(value.pythonString)\n" } }
            } else {
                for (key, value) in result.mapValue ?? [:] { text += "\(key):\(value.pythonString)\n" }
            }
            try AtomicFile.write(text, to: path)
            ret.changes["query"] = .string("Executed. Output into \(path)")
        case nil:
            ret.changes["query"] = "Executed"
        }
        return ret
    }
}
