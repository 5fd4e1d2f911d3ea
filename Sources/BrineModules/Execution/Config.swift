import BrineCore

/// Salt's `config` module: one value looked up in the minion's options,
/// then grains, then pillar.
public enum ConfigModule: ExecutionModule {
    public static let name = "config"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("get", doc: "Look up a value (':' traverses) in the options, grains, then pillar; default if absent.",
                          [Parameter("key"), Parameter("default", default: ""), Parameter("delimiter", default: ":"),
                           Parameter("merge", default: .null), Parameter("omit_opts", default: false),
                           Parameter("omit_grains", default: false), Parameter("omit_pillar", default: false),
                           Parameter("omit_master", default: false)]) { a, ctx in
            let key = a.string("key") ?? ""
            let delimiter = a.string("delimiter") ?? ":"
            if !a.bool("omit_opts"), let found = Value.map(ctx.opts.options).traverse(key, delimiter: delimiter) {
                return found
            }
            if !a.bool("omit_grains"), let found = try ctx.grains().traverse(key, delimiter: delimiter) { return found }
            if !a.bool("omit_pillar"), let found = try ctx.pillar().traverse(key, delimiter: delimiter) { return found }
            if !a.bool("omit_master"), let found = try ctx.pillar().traverse("master" + delimiter + key, delimiter: delimiter) {
                return found
            }
            return a["default"]
        },
        ExecutionFunction("option", doc: "Return the value of a minion option, or default.",
                          [Parameter("value"), Parameter("default", default: "")]) { a, ctx in
            ctx.opts[a.string("value") ?? ""] ?? a["default"]
        },
        ExecutionFunction("items", doc: "Return the complete options dictionary.") { _, ctx in
            .map(ctx.opts.options)
        },
    ]
}
