import BrineCore
import OrderedCollections

/// Salt's `pillar` module. Like Salt 3008, values a user asks for directly
/// are shown as `**********` unless `unmask=True`; templates and states see
/// the real values.
public enum PillarModule: ExecutionModule {
    public static let name = "pillar"
    static let mask = Value.string("**********")

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("get", doc: "Return a pillar value (':' traverses nested dicts), or default.",
                          [Parameter("key"), Parameter("default", default: ""), Parameter("merge", default: false),
                           Parameter("merge_nested_lists", default: .null), Parameter("delimiter", default: ":"),
                           Parameter("pillarenv", default: .null), Parameter("saltenv", default: .null),
                           Parameter("unmask", default: false)]) { a, ctx in
            let key = a.string("key") ?? ""
            let found = try ctx.pillar().traverse(key, delimiter: a.string("delimiter") ?? ":")
            var result = found ?? a["default"]
            if a.bool("merge"), let found, case .map = a["default"] {
                result = a["default"].merged(with: found, mergeLists: a["merge_nested_lists"].asFlag)
            }
            return masked(result, a, ctx, found: found != nil)
        },
        ExecutionFunction("items", doc: "Return all of the minion's pillar data.", varargs: true, kwargs: true) { a, ctx in
            masked(try ctx.pillar(), a, ctx)
        },
        ExecutionFunction("data", doc: "Alias of pillar.items.", varargs: true, kwargs: true) { a, ctx in
            masked(try ctx.pillar(), a, ctx)
        },
        ExecutionFunction("raw", doc: "Return the raw pillar data, or one key of it.", [Parameter("key", default: .null)], kwargs: true) { a, ctx in
            let pillar = try ctx.pillar()
            let result = a.string("key").map { pillar.traverse($0) ?? .emptyMap } ?? pillar
            return masked(result, a, ctx)
        },
        ExecutionFunction("item", doc: "Return one or more pillar entries as a dict.", varargs: true, kwargs: true) { a, ctx in
            let pillar = try ctx.pillar()
            let delimiter = a.extraKeywords["delimiter"]?.pythonString ?? ":"
            var result = OrderedDictionary<String, Value>()
            for key in a.extra.map(\.pythonString) {
                result[key] = pillar.traverse(key, delimiter: delimiter) ?? a.extraKeywords["default"] ?? ""
            }
            return masked(.map(result), a, ctx)
        },
        ExecutionFunction("keys", doc: "Return the keys of the pillar dict at key.", [Parameter("key"), Parameter("delimiter", default: ":")]) { a, ctx in
            guard case .map(let m)? = try ctx.pillar().traverse(a.string("key") ?? "", delimiter: a.string("delimiter") ?? ":") else {
                throw BrineError(.execution, "Pillar key '\(a.string("key") ?? "")' is not a dictionary or does not exist")
            }
            return .list(m.keys.map(Value.string))
        },
        ExecutionFunction("ls", doc: "Return the top-level pillar keys.", varargs: true, kwargs: true) { _, ctx in
            .list((try ctx.pillar().mapValue?.keys.map(Value.string)) ?? [])
        },
        ExecutionFunction("filter_by", doc: "Look up a pillar key in lookup_dict, like grains.filter_by.",
                          [Parameter("lookup_dict"), Parameter("pillar", default: "os_family"), Parameter("merge", default: .null),
                           Parameter("default", default: "default"), Parameter("base", default: .null)]) { a, ctx in
            try FilterBy.apply(lookup: a["lookup_dict"], key: a.string("pillar") ?? "", data: ctx.pillar(), merge: a["merge"],
                               default: a.string("default") ?? "default", base: a.string("base"))
        },
    ]

    static func masked(_ value: Value, _ a: Arguments, _ ctx: ExecutionContext, found: Bool = true) -> Value {
        let unmask = (a.values["unmask"] ?? a.extraKeywords["unmask"])?.asFlag ?? false
        guard ctx.isDirectCall, !unmask, found else { return value }
        return maskLeaves(value)
    }

    static func maskLeaves(_ value: Value) -> Value {
        switch value {
        case .map(let m): .map(m.mapValues(maskLeaves))
        case .list(let l): .list(l.map(maskLeaves))
        default: mask
        }
    }
}
