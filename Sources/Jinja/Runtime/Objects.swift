/// A macro (or a `call` block's `caller`) bound to the scope it was defined in.
final class MacroObject: JinjaObject, @unchecked Sendable {
    let def: MacroDef
    let scope: Scope
    let ctx: Context
    let template: Template
    let autoescape: Bool
    /// The `caller` passed by a `{% call %}` block, if any.
    let caller: Value?

    init(def: MacroDef, scope: Scope, ctx: Context, template: Template, autoescape: Bool, caller: Value? = nil) {
        self.def = def
        self.scope = scope
        self.ctx = ctx
        self.template = template
        self.autoescape = autoescape
        self.caller = caller
    }

    var typeName: String { "Macro" }
    var isCallable: Bool { true }
    func call(_ args: Arguments, _ ctx: CallContext) throws -> Value {
        try ctx.runtime.invokeMacro(self, args, ctx.frame)
    }
    func attribute(_ name: String, _ ctx: CallContext) throws -> Value? {
        switch name {
        case "name": return .string(def.name)
        case "arguments": return .tuple(def.params.map { .string($0.0) })
        case "catch_kwargs": return .bool(def.usesKwargs)
        case "catch_varargs": return .bool(def.usesVarargs)
        case "caller": return .bool(def.usesCaller)
        default: return nil
        }
    }
    func str(_ ctx: CallContext?) throws -> String { "<Macro '\(def.name)'>" }
}

/// The `loop` variable of a for loop.
final class LoopObject: JinjaObject, LengthObject, @unchecked Sendable {
    let items: [Value]
    @exclusivity(unchecked) var index0 = -1
    let depth0: Int
    var lastChanged: [Value]? = nil
    /// Re-enters the loop body for `loop(children)` in recursive loops.
    let recurse: ((Value, CallContext) throws -> Value)?

    init(items: [Value], depth0: Int, recurse: ((Value, CallContext) throws -> Value)?) {
        self.items = items
        self.depth0 = depth0
        self.recurse = recurse
    }

    var typeName: String { "LoopContext" }
    var length: Int { items.count }
    var isCallable: Bool { recurse != nil }

    func call(_ args: Arguments, _ ctx: CallContext) throws -> Value {
        guard let r = recurse else {
            throw JinjaError.type("Tried to call non recursive loop.  Maybe you forgot the 'recursive' modifier.")
        }
        guard args.positional.count == 1 else { throw JinjaError.type("loop() takes exactly one argument") }
        return try r(args.positional[0], ctx)
    }

    func attribute(_ name: String, _ ctx: CallContext) throws -> Value? {
        switch name {
        case "index": return .int(index0 + 1)
        case "index0": return .int(index0)
        case "revindex": return .int(items.count - index0)
        case "revindex0": return .int(items.count - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == items.count - 1)
        case "length": return .int(items.count)
        case "depth": return .int(depth0 + 1)
        case "depth0": return .int(depth0)
        case "previtem":
            return index0 > 0 ? items[index0 - 1] : ctx.undefined(hint: "there is no previous item")
        case "nextitem":
            return index0 + 1 < items.count ? items[index0 + 1] : ctx.undefined(hint: "there is no next item")
        case "cycle":
            return .function(Function("cycle") { [self] args, _ in
                guard !args.positional.isEmpty else { throw JinjaError.type("no items for cycling given") }
                return args.positional[self.index0 % args.positional.count]
            })
        case "changed":
            return .function(Function("changed") { [self] args, _ in
                if let last = self.lastChanged, valuesEqual(.tuple(last), .tuple(args.positional)) { return .bool(false) }
                self.lastChanged = args.positional
                return .bool(true)
            })
        default: return nil
        }
    }

    func str(_ ctx: CallContext?) throws -> String { "<LoopContext \(index0 + 1)/\(items.count)>" }
}

/// `namespace()`: the one object templates may assign attributes to.
final class NamespaceObject: JinjaObject, @unchecked Sendable {
    let attrs: DictBox
    init(_ attrs: DictBox) { self.attrs = attrs }
    var typeName: String { "Namespace" }
    func attribute(_ name: String, _ ctx: CallContext) throws -> Value? { attrs[name] }
    func setAttribute(_ name: String, _ value: Value) throws { attrs[name] = value }
    func str(_ ctx: CallContext?) throws -> String { "<Namespace \(try Value.dict(attrs).repr())>" }
}

/// `cycler(...)`.
final class CyclerObject: JinjaObject, @unchecked Sendable {
    let items: [Value]
    var pos = 0
    init(_ items: [Value]) { self.items = items }
    var typeName: String { "Cycler" }
    func attribute(_ name: String, _ ctx: CallContext) throws -> Value? {
        switch name {
        case "current": return items.isEmpty ? .none : items[pos]
        case "next":
            return .function(Function("next") { [self] _, _ in
                guard !self.items.isEmpty else { return .none }
                let v = self.items[self.pos]
                self.pos = (self.pos + 1) % self.items.count
                return v
            })
        case "reset":
            return .function(Function("reset") { [self] _, _ in self.pos = 0; return .none })
        default: return nil
        }
    }
}

/// `joiner(sep)`: empty on first call, then the separator.
final class JoinerObject: JinjaObject, @unchecked Sendable {
    let sep: String
    var used = false
    init(_ sep: String) { self.sep = sep }
    var typeName: String { "Joiner" }
    var isCallable: Bool { true }
    func call(_ args: Arguments, _ ctx: CallContext) throws -> Value {
        if !used { used = true; return .string("") }
        return .string(sep)
    }
}

/// A method looked up on a value (`d.items`), called later.
final class BoundMethod: JinjaObject, @unchecked Sendable {
    let receiver: Value
    let name: String
    init(_ receiver: Value, _ name: String) { self.receiver = receiver; self.name = name }
    var typeName: String { "builtin_function_or_method" }
    var isCallable: Bool { true }
    func call(_ args: Arguments, _ ctx: CallContext) throws -> Value {
        try Methods.call(receiver, name, args, ctx)
    }
    func str(_ ctx: CallContext?) throws -> String { "<built-in method \(name) of \(receiver.typeName) object>" }
}

/// What `{% import %}` binds: the exported names plus the rendered body.
final class TemplateModule: JinjaObject, @unchecked Sendable {
    let exports: [(String, Value)]
    let lookup: [String: Value]
    let body: String
    let templateName: String?
    init(exports: [(String, Value)], body: String, templateName: String?) {
        self.exports = exports
        var d: [String: Value] = [:]
        for (k, v) in exports { d[k] = v }
        lookup = d
        self.body = body
        self.templateName = templateName
    }
    var typeName: String { "TemplateModule" }
    func attribute(_ name: String, _ ctx: CallContext) throws -> Value? { lookup[name] }
    func str(_ ctx: CallContext?) throws -> String { body }
}

/// `super` and `self.blockname`: renders one entry of a block stack.
final class BlockRef: JinjaObject, @unchecked Sendable {
    let name: String
    let index: Int
    let ctx: Context
    let frame: Frame
    let scoped: Bool
    init(name: String, index: Int, ctx: Context, frame: Frame, scoped: Bool = false) {
        self.scoped = scoped
        self.name = name
        self.index = index
        self.ctx = ctx
        self.frame = frame
    }
    var typeName: String { "BlockReference" }
    var isCallable: Bool { true }
    func call(_ args: Arguments, _ cc: CallContext) throws -> Value {
        guard let stack = ctx.blocks[name], index < stack.count else {
            throw JinjaError.runtime("no super block available for '\(name)'")
        }
        var out = Output()
        try cc.runtime.capturing { try cc.runtime.renderBlock(name, index: index, frame, &out, scoped: scoped) }
        return frame.autoescape ? .markup(out.string) : .string(out.string)
    }
    func attribute(_ attr: String, _ cc: CallContext) throws -> Value? {
        if attr == "super" {
            guard let stack = ctx.blocks[name], index + 1 < stack.count else {
                return cc.undefined(hint: "there is no parent block called '\(name)'.")
            }
            return .object(BlockRef(name: name, index: index + 1, ctx: ctx, frame: frame))
        }
        return nil
    }
}

/// `self`: access to the blocks of the current template chain.
final class TemplateReference: JinjaObject, @unchecked Sendable {
    let ctx: Context
    let frame: Frame
    init(ctx: Context, frame: Frame) { self.ctx = ctx; self.frame = frame }
    var typeName: String { "TemplateReference" }
    func attribute(_ name: String, _ cc: CallContext) throws -> Value? {
        guard ctx.blocks[name] != nil else { return nil }
        return .object(BlockRef(name: name, index: 0, ctx: ctx, frame: frame))
    }
    func str(_ ctx: CallContext?) throws -> String { "<TemplateReference \(pyRepr(frame.template.name ?? "None"))>" }
}
