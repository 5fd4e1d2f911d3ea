import BrineCore
import OrderedCollections

/// Salt's `grains` module: read the static facts about this system.
public enum GrainsModule: ExecutionModule {
    public static let name = "grains"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("items", doc: "Return all of the minion's grains.", [Parameter("sanitize", default: false)]) { _, ctx in
            try ctx.grains()
        },
        ExecutionFunction("get", doc: "Attempt to retrieve the named value from grains; ':' traverses nested dicts.",
                          [Parameter("key"), Parameter("default", default: ""), Parameter("delimiter", default: ":"),
                           Parameter("ordered", default: true)]) { args, ctx in
            try ctx.grains().traverse(args.string("key") ?? "", delimiter: args.string("delimiter") ?? ":") ?? args["default"]
        },
        ExecutionFunction("item", doc: "Return one or more grains: grains.item os osrelease.", varargs: true, kwargs: true) { args, ctx in
            let grains = try ctx.grains()
            var result = OrderedDictionary<String, Value>()
            for key in args.extra.map(\.pythonString) {
                result[key] = grains.traverse(key) ?? ""
            }
            return .map(result)
        },
        ExecutionFunction("ls", doc: "Return a list of all available grains.") { _, ctx in
            .list((try ctx.grains().mapValue?.keys.sorted() ?? []).map(Value.string))
        },
        ExecutionFunction("has_value", doc: "Determine whether a key exists in the grains dictionary and is truthy.",
                          [Parameter("key")]) { args, ctx in
            .bool(try ctx.grains().traverse(args.string("key") ?? "")?.isTruthy ?? false)
        },
        ExecutionFunction("filter_by", doc: "Look up the grain (os_family by default) in lookup_dict and return the matching entry.",
                          [Parameter("lookup_dict"), Parameter("grain", default: "os_family"), Parameter("merge", default: nil),
                           Parameter("default", default: "default"), Parameter("base", default: nil)].map(fillNull)) { args, ctx in
            try FilterBy.apply(lookup: args["lookup_dict"], key: args.string("grain") ?? "os_family",
                               data: ctx.grains(), merge: args["merge"], default: args.string("default") ?? "default",
                               base: args.string("base"))
        },
    ] + GrainsFile.functions

    static func fillNull(_ p: Parameter) -> Parameter { Parameter(p.name, default: p.defaultValue ?? .null) }
}

/// Salt's `filter_by` (shared by `grains.filter_by` and `pillar.filter_by`).
public enum FilterBy {
    public static func apply(lookup: Value, key: String, data: Value, merge: Value, default defaultKey: String,
                             base: String?) throws(BrineError) -> Value
    {
        guard case .map(let table) = lookup else {
            throw BrineError(.arguments, "filter_by needs a dictionary to look up, got \(lookup.typeName)")
        }
        let found = data.traverse(key) ?? .list([])
        var result: Value? = nil
        for each in found.listValue ?? [found] {
            if let (_, value) = table.first(where: { Glob.match(each.pythonString, $0.key) }) { result = value }
            if let current = result, !current.isNull { break }
        }
        if result?.isNull ?? true { result = table[defaultKey] }
        if let base, !base.isEmpty, let baseValues = table[base] {
            if let current = result, !current.isNull {
                if case .map = baseValues {
                    guard case .map = current else {
                        throw BrineError(.arguments, "filter_by default and look-up values must both be dictionaries.")
                    }
                    result = baseValues.merged(with: current)
                }
            } else {
                result = baseValues
            }
        }
        // Salt tests `if merge:`: an empty string (pillar.get's default) or an
        // empty mapping is no merge at all.
        if merge.isTruthy {
            guard case .map = merge else { throw BrineError(.arguments, "filter_by merge argument must be a dictionary.") }
            if let current = result, !current.isNull { result = current.merged(with: merge) } else { result = merge }
        }
        return result ?? .null
    }
}
