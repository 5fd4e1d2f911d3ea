import BrineCore

/// Salt's `match` module: does this minion match a target expression?
/// Templates use it to pick values by compound targets (`match.filter_by`,
/// the `ifelse` global).
public enum MatchModule: ExecutionModule {
    public static let name = "match"

    public static let functions: [ExecutionFunction] =
        [("compound", "compound"), ("glob", "glob"), ("pcre", "pcre"), ("list", "list"), ("grain", "grain"),
         ("grain_pcre", "grain_pcre"), ("pillar", "pillar"), ("pillar_pcre", "pillar_pcre"), ("ipcidr", "ipcidr"),
         ("nodegroup", "nodegroup")].map(matcherFunction) + [
        ExecutionFunction("filter_by", doc: "Return the value of the first lookup key that matches this minion (or lookup[default]).",
                          [Parameter("lookup"), Parameter("tgt_type", default: "compound"), Parameter("minion_id", default: .null),
                           Parameter("merge", default: .null), Parameter("merge_lists", default: false),
                           Parameter("default", default: "default")]) { a, ctx in
            try filterBy(a["lookup"], type: a.string("tgt_type") ?? "compound", minionID: a.string("minion_id"),
                         merge: a["merge"], mergeLists: a.bool("merge_lists"), default: a["default"], ctx)
        },
        ExecutionFunction("search_by", doc: "Return the values of every lookup key that matches this minion.",
                          [Parameter("lookup"), Parameter("tgt_type", default: "compound"),
                           Parameter("minion_id", default: .null)]) { a, ctx in
            guard case .map(let lookup) = a["lookup"] else { throw BrineError(.arguments, "lookup must be a dictionary") }
            let matcher = try makeMatcher(a.string("minion_id"), ctx)
            var found: [Value] = []
            for (key, values) in lookup where try matcher.matches(key, type: a.string("tgt_type") ?? "compound") {
                found += values.listValue ?? [values]
            }
            return .list(found)
        },
        // Salt's keyword-only arguments after *args: every positional
        // argument is a target or a value.
        ExecutionFunction("ifelse", doc: "ifelse(tgt1, value1, tgt2, value2, …, default): the value of the first target this minion matches.",
                          [], varargs: true, kwargs: true) { a, ctx in
            let options = a.extraKeywords
            return try ifelse(a.extra, type: options["tgt_type"]?.stringValue ?? "compound", minionID: options["minion_id"]?.stringValue,
                              merge: options["merge"] ?? .null, mergeLists: options["merge_lists"]?.asFlag ?? false, ctx)
        },
    ]

    static func matcherFunction(_ entry: (name: String, type: String)) -> ExecutionFunction {
        ExecutionFunction(entry.name, doc: "Whether this minion matches a \(entry.type) target.",
                          [Parameter("tgt"), Parameter("minion_id", default: .null), Parameter("delimiter", default: ":")]) { a, ctx in
            .bool(try makeMatcher(a.string("minion_id"), ctx).matches(a.string("tgt") ?? "", type: entry.type))
        }
    }

    static func makeMatcher(_ minionID: String?, _ ctx: ExecutionContext) throws -> Matcher {
        Matcher(minionID: minionID ?? ctx.opts.string("id") ?? "", grains: try ctx.grains(), pillar: try ctx.pillar(),
                nodegroups: ctx.opts.nodegroups)
    }

    static func filterBy(_ lookupValue: Value, type: String, minionID: String?, merge: Value, mergeLists: Bool,
                         default fallback: Value, _ ctx: ExecutionContext) throws -> Value {
        guard case .map(let lookup) = lookupValue else { throw BrineError(.arguments, "lookup must be a dictionary") }
        let matcher = try makeMatcher(minionID, ctx)
        for (key, value) in lookup where try matcher.matches(key, type: type) {
            guard !merge.isNull else { return value }
            guard case .map = merge else { throw BrineError(.arguments, "filter_by merge argument must be a dictionary.") }
            return value.isNull ? merge : value.merged(with: merge, mergeLists: mergeLists)
        }
        return fallback.stringValue.flatMap { lookup[$0] } ?? .null
    }

    /// Salt's `ifelse`: pairs of (target, value) then a default; `True`
    /// as a target matches every minion, `False` none.
    static func ifelse(_ args: [Value], type: String, minionID: String?, merge: Value, mergeLists: Bool,
                       _ ctx: ExecutionContext) throws -> Value {
        guard args.count % 2 == 1 else { throw BrineError(.arguments, "The ifelse function must have an odd number of arguments!") }
        guard args.count > 1, let fallback = args.last else { return args.first ?? .null }
        var lookup = Value.emptyMap.mapValue ?? [:]
        for pair in stride(from: 0, to: args.count - 1, by: 2) {
            let key: String
            switch args[pair] {
            case .bool(true): key = "*"
            case .bool(false): key = "SALT_IFELSE_MATCH_NOTHING"
            case .string(let s): key = s
            case let other: key = other.pythonString
            }
            if lookup[key] == nil { lookup[key] = args[pair + 1] }
        }
        lookup["SALT_IFELSE_FUNCTION_DEFAULT"] = fallback
        return try filterBy(.map(lookup), type: type, minionID: minionID, merge: merge, mergeLists: mergeLists,
                            default: "SALT_IFELSE_FUNCTION_DEFAULT", ctx)
    }
}
