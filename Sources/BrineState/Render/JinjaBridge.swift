import BrineCore
import BrineModules
import Foundation
import Jinja
import OrderedCollections

/// Converts between Brine's `Value` and the template engine's values.
/// The engine's lists and dicts are shared boxes (Python semantics inside
/// a render); Brine's are values, so each crossing copies.
public enum JinjaBridge {
    /// `ordered`: the maps are Python OrderedDicts in Salt (pillar data),
    /// which Salt's `yaml` filter writes unsorted.
    public static func toJinja(_ value: BrineCore.Value, ordered: Bool = false) -> Jinja.Value {
        switch value {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        case .string(let s): return .string(s)
        case .list(let l): return .list(ListBox(l.map { toJinja($0, ordered: ordered) }))
        case .map(let m):
            let box = DictBox(m.map { (Jinja.Value.string($0.key), toJinja($0.value, ordered: ordered)) })
            box.keepsOrder = ordered
            return .dict(box)
        }
    }

    /// Data as Salt's `yaml` filter dumps it: PyYAML sorts the keys of
    /// plain dicts and keeps the order of OrderedDicts (pillar data).
    static func fromJinjaSortingPlainDicts(_ value: Jinja.Value) -> BrineCore.Value {
        switch value {
        case .list(let box): return .list(box.items.map(fromJinjaSortingPlainDicts))
        case .tuple(let items): return .list(items.map(fromJinjaSortingPlainDicts))
        case .dict(let box):
            var map = OrderedDictionary<String, BrineCore.Value>()
            for (k, v) in box.pairs { map[keyString(k)] = fromJinjaSortingPlainDicts(v) }
            if !box.keepsOrder { map.sort { $0.key < $1.key } }
            return .map(map)
        default: return fromJinja(value)
        }
    }

    public static func fromJinja(_ value: Jinja.Value) -> BrineCore.Value { fromJinja(value, depth: 0) }

    /// A template can make a list that holds itself (`l.append(l)`): past
    /// 512 levels the rest is `[...]`, as Python's repr writes it.
    static func fromJinja(_ value: Jinja.Value, depth: Int) -> BrineCore.Value {
        guard depth < 512 else { return .string("[...]") }
        switch value {
        case .none, .undefined: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        case .string(let s), .markup(let s): return .string(s)
        case .list(let box): return .list(box.items.map { fromJinja($0, depth: depth + 1) })
        case .tuple(let items): return .list(items.map { fromJinja($0, depth: depth + 1) })
        case .dict(let box):
            var map = OrderedDictionary<String, BrineCore.Value>()
            for (k, v) in box.pairs { map[keyString(k)] = fromJinja(v, depth: depth + 1) }
            return .map(map)
        case .function(let f): return .string("<function \(f.name)>")
        case .object(let o): return .string("<\(o.typeName) object>")
        }
    }

    static func keyString(_ key: Jinja.Value) -> String {
        switch key {
        case .string(let s), .markup(let s): s
        case .int(let i): String(i)
        case .bool(let b): b ? "True" : "False"
        case .none: "None"
        default: fromJinja(key).pythonRepr
        }
    }

    /// Host arguments from a template call, as Brine call arguments.
    public static func callArguments(_ args: Jinja.Arguments) -> CallArguments {
        var keyword = OrderedDictionary<String, BrineCore.Value>()
        for (name, value) in args.keywords { keyword[name] = fromJinja(value) }
        return CallArguments(positional: args.positional.map(fromJinja), keyword: keyword)
    }
}

/// `salt` in templates: `salt['pillar.get'](…)` and `salt.pillar.get(…)`
/// both reach the execution functions, called as cross-module calls
/// (`python_shell` defaults to False, pillar is not masked).
final class SaltFunctions: JinjaObject {
    let context: ExecutionContext
    /// Pillar as `pillar.get` answers it in Salt: one set of objects for
    /// every SLS render of this compile (Salt's `__pillar__`), apart from
    /// the templates' `pillar` variable. Only the SLS renders, one after
    /// another, see it (`SharedPillar` in their variables): file templates
    /// of parallel states render on several threads and get copies.
    let sharedPillar: SharedPillar

    init(context: ExecutionContext) {
        var nested = context
        nested.isDirectCall = false
        self.context = nested
        sharedPillar = SharedPillar(context: nested)
    }

    /// The context for one call from a template: no pillar masking, and a
    /// shell by default (see `ExecutionContext.shellByDefault`).
    /// A command failing inside a template does not decide the exit code.
    var templateContext: ExecutionContext {
        var ctx = context
        ctx.shellByDefault = true
        ctx.outcome = Outcome()
        return ctx
    }

    var typeName: String { "LazyLoader" }

    /// An undefined value passed to a Salt function fails at the call, as
    /// Salt's StrictUndefined does when the function touches it (rather
    /// than reaching the function as None).
    static func refuseUndefined(_ args: Jinja.Arguments) throws {
        for value in args.positional + args.keywords.map(\.value) {
            if case .undefined(let undefined) = value { throw undefined.error() }
        }
    }

    /// Functions whose answers are pillar data as Salt keeps it: OrderedDicts,
    /// which Salt's `yaml` filter writes in their own order. (Salt's merges
    /// are done on template values, TemplateMerges.swift; other paths through
    /// execution functions lose the distinction, as bench/README.md lists.)
    static let returnsPillarData: Set<String> = ["pillar.get", "pillar.items", "pillar.item", "pillar.raw",
                                                  "config.get", "config.option"]

    func attribute(_ name: String, _ ctx: CallContext) throws -> Jinja.Value? {
        if name.contains(".") {
            guard context.loader.functions[name] != nil else { return nil }
            return .function(function(name))
        }
        guard context.loader.moduleNames.contains(name) else { return nil }
        return .object(SaltModuleProxy(module: name, owner: self))
    }

    func function(_ name: String) -> Function {
        let context = templateContext
        let answersWithPillar = Self.returnsPillarData.contains(name)
        let mergesHere = TemplateMerges.names.contains(name)
        return Function(name) { args, call in
            do {
                try Self.refuseUndefined(args)
                if mergesHere, let answer = try TemplateMerges.call(name, args, context: context, template: call) {
                    return answer
                }
                let result = try context.loader.call(name, JinjaBridge.callArguments(args), context: context)
                return JinjaBridge.toJinja(result, ordered: answersWithPillar)
            } catch let error as BrineError {
                throw JinjaError(.templateRuntimeError, "\(name): \(error.description)")
            }
        }
    }
}

/// `salt.cmd` in `salt.cmd.run(...)`.
final class SaltModuleProxy: JinjaObject {
    let module: String
    let owner: SaltFunctions

    init(module: String, owner: SaltFunctions) {
        self.module = module
        self.owner = owner
    }

    var typeName: String { "module" }

    func attribute(_ name: String, _ ctx: CallContext) throws -> Jinja.Value? {
        let full = "\(module).\(name)"
        guard owner.context.loader.functions[full] != nil else { return nil }
        return .function(owner.function(full))
    }
}

/// The pillar objects `pillar.get` answers from during a compile, converted
/// on first use. A render variable (`SharedPillar.variable`) of SLS renders only.
final class SharedPillar: JinjaObject, @unchecked Sendable {
    static let variable = "__brine_shared_pillar__"
    private let context: ExecutionContext
    private let lock = NSLock()
    private var converted: Jinja.Value?

    init(context: ExecutionContext) { self.context = context }

    var typeName: String { "SharedPillar" }

    /// Converted on the first `pillar.get` of the compile, then the same
    /// objects (pillar does not change during a compile).
    func value() throws -> Jinja.Value {
        lock.lock()
        defer { lock.unlock() }
        if let converted { return converted }
        let value = ConvertedVariables.convert("pillar", try context.pillar())
        converted = value
        return value
    }
}
