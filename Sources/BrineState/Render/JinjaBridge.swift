import BrineCore
import BrineModules
import Jinja
import OrderedCollections

/// Converts between Brine's `Value` and the template engine's values.
/// The engine's lists and dicts are shared boxes (Python semantics inside
/// a render); Brine's are values, so each crossing copies.
public enum JinjaBridge {
    public static func toJinja(_ value: BrineCore.Value) -> Jinja.Value {
        switch value {
        case .null: .none
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .float(let d): .float(d)
        case .string(let s): .string(s)
        case .list(let l): .list(ListBox(l.map(toJinja)))
        case .map(let m): .dict(DictBox(m.map { (Jinja.Value.string($0.key), toJinja($0.value)) }))
        }
    }

    public static func fromJinja(_ value: Jinja.Value) -> BrineCore.Value {
        switch value {
        case .none, .undefined: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        case .string(let s), .markup(let s): return .string(s)
        case .list(let box): return .list(box.items.map(fromJinja))
        case .tuple(let items): return .list(items.map(fromJinja))
        case .dict(let box):
            var map = OrderedDictionary<String, BrineCore.Value>()
            for (k, v) in box.pairs { map[keyString(k)] = fromJinja(v) }
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

    init(context: ExecutionContext) {
        var nested = context
        nested.isDirectCall = false
        self.context = nested
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
        return Function(name) { args, _ in
            do {
                let result = try context.loader.call(name, JinjaBridge.callArguments(args), context: context)
                return JinjaBridge.toJinja(result)
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
