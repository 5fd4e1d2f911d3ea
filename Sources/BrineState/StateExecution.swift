import BrineCore
import BrineModules
import Foundation
import OrderedCollections

/// Salt's `state` execution module: compile and run states, or show what
/// would run. Returns are keyed by state tag; a compile error returns the
/// list of errors (printed by the highstate outputter as "Data failed to
/// compile") and nothing is applied.
public enum StateExecutionModule: ExecutionModule {
    public static let name = "state"

    static let runParameters: [Parameter] = [Parameter("test", default: .null), Parameter("pillar", default: .null),
                                             Parameter("saltenv", default: .null), Parameter("exclude", default: .null),
                                             Parameter("queue", default: false)]

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("apply", doc: "Apply states: with SLS names like state.sls, without like state.highstate.",
                          [Parameter("mods", default: .null)] + runParameters, kwargs: true) { args, ctx in
            args["mods"].isNull ? try run(.highstate, args, ctx) : try run(.sls(mods(args["mods"])), args, ctx)
        },
        ExecutionFunction("sls", doc: "Apply the named SLS files (comma-separated or a list).",
                          [Parameter("mods")] + runParameters, kwargs: true) { args, ctx in
            try run(.sls(mods(args["mods"])), args, ctx)
        },
        ExecutionFunction("highstate", doc: "Apply every SLS the top file assigns to this minion.", runParameters, kwargs: true) { args, ctx in
            try run(.highstate, args, ctx)
        },
        ExecutionFunction("test", doc: "state.apply with test=True.", [Parameter("mods", default: .null)] + runParameters,
                          kwargs: true) { args, ctx in
            var a = args
            a.values["test"] = true
            return args["mods"].isNull ? try run(.highstate, a, ctx) : try run(.sls(mods(args["mods"])), a, ctx)
        },
        ExecutionFunction("sls_id", doc: "Apply one state ID from the named SLS files.", [Parameter("id"), Parameter("mods")] + runParameters,
                          kwargs: true) { args, ctx in
            try run(.slsID(args.string("id") ?? "", mods(args["mods"])), args, ctx)
        },
        ExecutionFunction("template", doc: "Apply the states of a template file on this machine (its path is their __sls__).",
                          [Parameter("tem"), Parameter("queue", default: false)], kwargs: true) { args, ctx in
            let path = args.string("tem") ?? ""
            guard FileOps.isFile(path) else { throw BrineError(.arguments, "Template was specified incorrectly: \(path)") }
            return try runTemplate(try FileOps.readText(path), file: path, sls: path, args, ctx)
        },
        ExecutionFunction("template_str", doc: "Apply the states of a template given as text.",
                          [Parameter("tem"), Parameter("queue", default: false)], kwargs: true) { args, ctx in
            try runTemplate(args.string("tem") ?? "", file: "<template-str>", sls: nil, args, ctx)
        },
        ExecutionFunction("single", doc: "Apply one state function directly: state.single pkg.installed name=vim.",
                          [Parameter("fun"), Parameter("name", default: .null)] + runParameters, kwargs: true) { args, ctx in
            try single(args, ctx)
        },
        ExecutionFunction("show_sls", doc: "Show the high data the named SLS files render to.", [Parameter("mods")] + runParameters,
                          kwargs: true) { args, ctx in
            let (compiler, context) = try prepare(args, ctx)
            try refuseOnPillarErrors(args, context)
            let high = compiler.sls(mods(args["mods"]), saltenv: context.saltenv)
            return high.errors.isEmpty ? high.asValue : failure(high.errors, ctx)
        },
        ExecutionFunction("show_highstate", doc: "Show the high data of the highstate.", runParameters, kwargs: true) { args, ctx in
            let (compiler, context) = try prepare(args, ctx)
            try refuseOnPillarErrors(args, context)
            let high = try compiler.highstate()
            return high.errors.isEmpty ? high.asValue : failure(high.errors, ctx)
        },
        ExecutionFunction("show_lowstate", doc: "Show the low chunks of the highstate, in run order.", runParameters, kwargs: true) { args, ctx in
            let (compiler, context) = try prepare(args, ctx)
            try refuseOnPillarErrors(args, context)
            let (chunks, errors) = compiler.lowChunks(try compiler.highstate())
            return errors.isEmpty ? .list(chunks.map(Value.map)) : failure(errors, ctx)
        },
        ExecutionFunction("show_low_sls", doc: "Show the low chunks of the named SLS files.", [Parameter("mods")] + runParameters,
                          kwargs: true) { args, ctx in
            let (compiler, context) = try prepare(args, ctx)
            try refuseOnPillarErrors(args, context)
            let (chunks, errors) = compiler.lowChunks(compiler.sls(mods(args["mods"]), saltenv: context.saltenv))
            return errors.isEmpty ? .list(chunks.map(Value.map)) : failure(errors, ctx)
        },
        ExecutionFunction("show_top", doc: "Show the SLS names the top file assigns to this minion, by environment.",
                          runParameters, kwargs: true) { args, ctx in
            let (compiler, context) = try prepare(args, ctx)
            try refuseOnPillarErrors(args, context)
            return .map(try compiler.top().mapValues { .list($0.map(Value.string)) })
        },
        ExecutionFunction("sls_exists", doc: "Whether the named SLS files exist and render.", [Parameter("mods")] + runParameters,
                          kwargs: true) { args, ctx in
            let (compiler, context) = try prepare(args, ctx)
            return .bool(compiler.sls(mods(args["mods"]), saltenv: context.saltenv).errors.isEmpty)
        },
    ]

    enum Target {
        case highstate
        case sls([String])
        case slsID(String, [String])
    }

    static func mods(_ value: Value) -> [String] {
        if case .list(let l) = value { return l.map(\.pythonString) }
        return value.pythonString.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Salt's answer when the pillar did not render: the `show_*` functions
    /// raise, the functions that run states return the messages (shown as
    /// "Data failed to compile"). `force=True` skips the check, as in Salt.
    static func pillarErrors(_ args: Arguments, _ context: ExecutionContext) throws -> [String]? {
        if args.extraKeywords["force"]?.asFlag ?? false { return nil }
        guard let errors = try context.pillar()["_errors"]?.listValue, !errors.isEmpty else { return nil }
        return errors.map(\.pythonString)
    }

    static func refuseOnPillarErrors(_ args: Arguments, _ context: ExecutionContext) throws {
        guard let errors = try pillarErrors(args, context) else { return }
        throw BrineError(.execution, "Pillar failed to render. Additional info follows:\n\n" + errors.map { "- " + $0 }.joined(separator: "\n"))
    }

    static func pillarFailure(_ args: Arguments, _ context: ExecutionContext) throws -> Value? {
        guard let errors = try pillarErrors(args, context) else { return nil }
        return failure(["Pillar failed to render with the following messages:"] + errors, context)
    }

    /// The state run's context: pillar overrides merged, saltenv chosen.
    static func prepare(_ args: Arguments, _ ctx: ExecutionContext) throws -> (StateCompiler, ExecutionContext) {
        var context = ctx
        if let env = args.string("saltenv") {
            context.saltenv = env
            context.saltenvOverride = env
        }
        if case .map = args["pillar"] {
            let base = try ctx.pillar()
            let merged = base.merged(with: args["pillar"])
            context.pillarSource = Lazy(value: merged)
        } else if !args["pillar"].isNull {
            throw BrineError(.arguments, "Pillar data must be formatted as a dictionary, unless pillar_enc is specified.")
        }
        return (StateCompiler(context: context), context)
    }

    static func failure(_ errors: [String], _ ctx: ExecutionContext) -> Value {
        ctx.outcome.fail(1)
        return .list(errors.map(Value.string))
    }

    static func isTest(_ args: Arguments, _ ctx: ExecutionContext) -> Bool {
        if let t = args.values["test"], !t.isNull { return t.asFlag }
        return ctx.opts.bool("test")
    }

    static func run(_ target: Target, _ args: Arguments, _ ctx: ExecutionContext) throws -> Value {
        let (compiler, context) = try prepare(args, ctx)
        if let refused = try pillarFailure(args, context) { return refused }
        var high: HighData
        switch target {
        case .highstate: high = try compiler.highstate()
        case .sls(let names):
            guard !names.isEmpty else { throw BrineError(.arguments, "no SLS names given") }
            high = compiler.sls(names, saltenv: context.saltenv)
        case .slsID(_, let names): high = compiler.sls(names, saltenv: context.saltenv)
        }
        if case .slsID(let id, _) = target, compiler.reconcileExtend(high).states[id] == nil {
            return failure(["No matches for ID '\(id)' found in SLS '\(mods(args["mods"]).joined(separator: ","))' within saltenv '\(context.saltenv)'"], ctx)
        }
        var exclusions = high.states["__exclude__"]?.listValue ?? []
        for exclusion in (args["exclude"].listValue ?? (args["exclude"].isNull ? [] : mods(args["exclude"]).map(Value.string))) {
            exclusions.append(exclusion.mapValue != nil ? exclusion : ["sls": exclusion])
        }
        if !exclusions.isEmpty { high.states["__exclude__"] = .list(exclusions) }
        var (chunks, errors) = compiler.lowChunks(high)
        guard errors.isEmpty else { return failure(errors, ctx) }
        if case .slsID(let id, _) = target { chunks = withRequisites(of: id, in: chunks) }
        if let refused = refuseUnknownFunctions(chunks, compiler, args, ctx) { return refused }
        return execute(chunks, context: context, compiler: compiler, test: isTest(args, ctx))
    }

    static func runTemplate(_ text: String, file: String, sls: String?, _ args: Arguments, _ ctx: ExecutionContext) throws -> Value {
        let (compiler, context) = try prepare(args, ctx)
        if let refused = try pillarFailure(args, context) { return refused }
        let high = compiler.template(text, file: file, sls: sls, saltenv: context.saltenv)
        guard high.errors.isEmpty else { return failure(high.errors, ctx) }
        let (chunks, errors) = compiler.lowChunks(high)
        guard errors.isEmpty else { return failure(errors, ctx) }
        if let refused = refuseUnknownFunctions(chunks, compiler, args, ctx) { return refused }
        return execute(chunks, context: context, compiler: compiler, test: isTest(args, ctx))
    }

    /// Said first when Brine refuses a run Salt would run around.
    public static let partialRunNote = "Brine applies nothing when a state names a function it does not have, where Salt runs the other states "
        + "and fails those. For Salt's way, pass partial=True (brine call --partial) or set 'partial_compile: True' in the minion config."

    /// Salt runs a tree whose states name missing functions and fails just
    /// those; Brine refuses it whole (a typo should not leave a machine half
    /// configured) unless asked for Salt's way: `partial=True` on the call,
    /// or `partial_compile: True` in the config (`brine call --partial`).
    static func refuseUnknownFunctions(_ chunks: [LowChunk], _ compiler: StateCompiler, _ args: Arguments, _ ctx: ExecutionContext) -> Value? {
        let partial = args.extraKeywords["partial"]?.asFlag ?? ctx.opts.bool("partial_compile")
        guard !partial else { return nil }
        let unknown = compiler.unknownFunctions(chunks)
        guard !unknown.isEmpty else { return nil }  // not `cond ? nil : …`: Value is nil-literal expressible
        return failure([partialRunNote] + unknown, ctx)
    }

    /// Salt's `sls_id`: the whole SLS is compiled, then the ID's chunks run
    /// with every chunk they depend on (any requisite kind, transitively),
    /// in run order; nothing else runs.
    static func withRequisites(of id: String, in chunks: [LowChunk]) -> [LowChunk] {
        let index = ChunkIndex(chunks)
        var wanted = Set(chunks.indices.filter { chunks[$0]["__id__"]?.pythonString == id })
        var queue = Array(wanted)
        while let next = queue.popLast() {
            for requisite in Requisite.allCases where requisite != .use {  // `use` only copies arguments
                for reference in chunks[next][requisite.rawValue]?.listValue ?? [] {
                    for found in index.match(reference) where wanted.insert(found).inserted { queue.append(found) }
                }
            }
        }
        return chunks.indices.filter(wanted.contains).map { chunks[$0] }
    }

    static func execute(_ chunks: [LowChunk], context: ExecutionContext, compiler: StateCompiler, test: Bool) -> Value {
        let options = StateRunner.Options(test: test, failhard: context.opts.bool("failhard"),
                                          parallel: context.opts.bool("state_run_parallel"))
        let (runner, errors) = StateRunner.prepare(chunks: chunks, context: context,
                                                   templates: JinjaTemplates(renderers: compiler.renderers), options: options)
        guard let runner else { return failure(errors, context) }
        let results = runner.run()
        if results.values.contains(where: { $0["result"] == .bool(false) }) { context.outcome.fail(2) }
        return .map(results)
    }

    static func single(_ args: Arguments, _ ctx: ExecutionContext) throws -> Value {
        let fun = args.string("fun") ?? ""
        let parts = fun.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw BrineError(.arguments, "state.single needs a state function like pkg.installed") }
        guard let name = args.string("name") else { throw BrineError(.arguments, "state.single needs name=…") }
        let (compiler, context) = try prepare(args, ctx)
        var chunk: LowChunk = ["state": .string(parts[0]), "name": .string(name), "__sls__": "single", "__env__": .string(context.saltenv),
                               "__id__": .string(name), "fun": .string(parts[1]), "order": 10000]
        for (k, v) in args.extraKeywords { chunk[k] = v }
        guard StateLoader.standard.has(fun) else {
            return failure(["State '\(fun)' was not found"], ctx)
        }
        return execute([chunk], context: context, compiler: compiler, test: isTest(args, ctx))
    }
}

/// Every execution module, the state module included.
public enum Modules {
    public static let loader: Loader = {
        var loader = Loader.standard
        loader.register(StateExecutionModule.self)
        for function in SlsutilRendering.functions { loader.register(function, module: "slsutil") }
        return loader
    }()
}
