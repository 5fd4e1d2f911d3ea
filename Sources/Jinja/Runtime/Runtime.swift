/// Executes parsed statements. One `Runtime` per render call; it holds
/// only per-render bookkeeping (recursion depth), so parsed templates stay
/// immutable and shareable. Its bookkeeping is only touched by the render's
/// own thread and never across a nested access, so dynamic exclusivity
/// checks are skipped for it.
final class Runtime {
    let env: Environment
    @exclusivity(unchecked) var depth = 0
    let stack = StackGuard()
    /// Raw output values per capture level when rendering natively.
    @exclusivity(unchecked) var nativeStack: [[Value]]? = nil
    /// Scopes created by this render. Macros, `self` and `super` refer back
    /// to the scope that holds them (reference cycles); `releaseScopes()`
    /// empties them when the render is over so nothing leaks.
    @exclusivity(unchecked) var scopes: [Scope] = []
    /// Modules imported without context during this render.
    @exclusivity(unchecked) var modules: [ObjectIdentifier: TemplateModule] = [:]
    /// The host's globals for this render (Salt puts a render's variables in
    /// the environment's globals, so templates imported without context see
    /// them); looked at after a template's own globals, before the
    /// environment's. Set before rendering, never changed during it.
    @exclusivity(unchecked) var renderGlobals: [String: Value] = [:]
    /// Whether this is a native render (a `let`, so hot paths skip the stack).
    let isNative: Bool
    /// Calls of host functions, host filters/tests and other impure
    /// callables so far: a `with context` import during which this did not
    /// change may be cached (ImportCache.swift).
    @exclusivity(unchecked) var impureCalls = 0
    /// Output buffers of finished macro calls, reused by the next calls
    /// (two allocations per call saved; a render makes thousands of calls).
    @exclusivity(unchecked) private var spareBuffers: [ByteBuffer] = []
    /// Policies read once per render (hashing their names per filter call
    /// was a few percent of a render).
    @exclusivity(unchecked) private var sortKeysPolicy: Bool?
    @exclusivity(unchecked) private var leewayPolicy: Int?

    func macroOutput(capacity: Int) -> Output {
        if let b = spareBuffers.popLast() { return Output(reusing: b) }
        return Output(capacity: capacity)
    }

    func recycle(_ out: Output) {
        if spareBuffers.count < 16 { spareBuffers.append(out.buffer) }
    }

    /// `json.dumps_kwargs["sort_keys"]` (true when unset).
    func jsonSortKeys() throws -> Bool {
        if let v = sortKeysPolicy { return v }
        var v = true
        if case .dict(let kw)? = env.policies["json.dumps_kwargs"], let sk = kw["sort_keys"] { v = try sk.truthy() }
        sortKeysPolicy = v
        return v
    }

    /// `truncate.leeway` (5 when unset or not an int).
    func truncateLeeway() -> Int {
        if let v = leewayPolicy { return v }
        var v = 5
        if case .int(let l)? = env.policies["truncate.leeway"] { v = l }
        leewayPolicy = v
        return v
    }

    init(env: Environment, native: Bool = false) {
        self.env = env
        self.isNative = native
        if native { nativeStack = [[]] }
    }


    func newScope(parent: Scope?) -> Scope {
        let s = Scope(parent: parent)
        scopes.append(s)
        return s
    }

    /// Breaks the reference cycles of this render's scopes (call once the
    /// rendered text has been produced and no value of the render escapes).
    func releaseScopes() {
        for s in scopes { s.vars.removeAll() }
        scopes = []
    }

    @inline(__always) func nativeAppend(_ v: Value) {
        guard isNative, let n = nativeStack?.count, n > 0 else { return }
        nativeStack?[n - 1].append(v)
    }

    /// Runs a capturing render without leaking raw values into native output.
    func capturing(_ body: () throws -> Void) rethrows {
        if !isNative { return try body() }
        nativeStack?.append([])
        defer { _ = nativeStack?.popLast() }
        try body()
    }

    func cc(_ f: Frame) -> CallContext { CallContext(runtime: self, frame: f) }

    func enter() throws {
        depth += 1
        if depth > env.maxRecursionDepth || !stack.hasRoom() {
            depth -= 1
            throw JinjaError(.recursionError, "maximum recursion depth exceeded")
        }
    }

    /// Renders a template as the root of an extends chain and returns its context.
    @discardableResult
    func renderRoot(_ t: Template, parentScope: Scope, _ out: inout Output) throws -> Context {
        try enter()
        defer { depth -= 1 }
        let top = newScope(parent: parentScope)
        let ctx = Context(top: top)
        for (n, b) in t.parsed.blocks { ctx.blocks[n] = [(b, t)] }
        var f = Frame(scope: top, ctx: ctx, template: t, autoescape: env.autoescape.enabled(for: t.name), rootLevel: true, topLevel: true)
        top.vars["self"] = .object(TemplateReference(ctx: ctx, frame: f))
        try exec(t.parsed.body, f, &out)
        var guardCount = 0
        while let parent = ctx.parentTemplate {
            guardCount += 1
            if guardCount > env.maxRecursionDepth { throw JinjaError(.recursionError, "extends chain too deep") }
            ctx.parentTemplate = nil
            f = Frame(scope: top, ctx: ctx, template: parent, autoescape: env.autoescape.enabled(for: parent.name), rootLevel: true, topLevel: true)
            try exec(parent.parsed.body, f, &out)
        }
        return ctx
    }

    /// `{% import %}` without context: the template's module is rendered once
    /// per template (cached on it, as Jinja2 does), and each render gets its
    /// own deep copy, so a render that mutates imported dicts
    /// (`{% do cfg.update(...) %}`) affects neither later renders nor other
    /// threads. Within one render repeated imports share the copy.
    func importedModule(_ t: Template) throws -> TemplateModule {
        let key = ObjectIdentifier(t)
        if let m = modules[key] { return m }
        let pristine = try t.defaultModule(renderGlobals: renderGlobals)
        let m = TemplateModule(exports: pristine.exports.map { ($0.0, $0.1.deepCopy()) }, body: pristine.body, templateName: pristine.templateName)
        modules[key] = m
        return m
    }

    func makeModule(_ t: Template, parentScope: Scope) throws -> TemplateModule {
        var out = Output()
        let ctx = try renderRoot(t, parentScope: parentScope, &out)
        let exports = ctx.exported.compactMap { n in ctx.top.vars[n].map { (n, $0) } }
        return TemplateModule(exports: exports, body: out.string, templateName: t.name)
    }

    /// Attaches the template name and line to an error leaving a statement;
    /// host errors are wrapped so they carry a location too.
    func annotate(_ error: Error, _ line: Int, _ f: Frame) -> Error {
        guard var e = error as? JinjaError else {
            if error is LoopControl { return error }
            return JinjaError(.hostError, String(describing: error), templateName: f.template.name, line: line, underlying: error)
        }
        if e.line == nil { e.line = line; e.templateName = f.template.name }
        return e
    }

    func exec(_ body: [Stmt], _ f: Frame, _ out: inout Output) throws {
        if body.count == 1, case .compiledBody(let cb) = body[0] { return try cb.run(self, f, &out) }
        if !stack.hasRoom() { throw JinjaError(.recursionError, "maximum recursion depth exceeded") }
        // Output at a template's root level is dropped once `extends` ran;
        // only statements (not text/output) can change that.
        var suppressed = f.rootLevel && f.ctx.parentTemplate != nil
        for s in body {
            switch s {
            case .text(let t):
                if suppressed { continue }
                out.append(t)
                if isNative { nativeAppend(.string(t)) }
            case .output(let e, let line):
                if suppressed { continue }
                do {
                    try write(try eval(e, f), f, &out)
                } catch {
                    throw annotate(error, line, f)
                }
            default:
                try execStmt(s, f, &out)
                if f.rootLevel { suppressed = f.ctx.parentTemplate != nil }
            }
        }
    }

    /// Prints a value: finalize, then str(), escaping unless markup when autoescaping.
    @inline(__always) func write(_ value: Value, _ f: Frame, _ out: inout Output) throws {
        if !isNative && !f.autoescape && env.finalize == nil {
            switch value {
            case .string(let s), .markup(let s): return out.append(s)
            case .int(let i): return out.append(i)
            default: break
            }
        }
        try writeValue(value, f, &out)
    }

    func writeValue(_ value: Value, _ f: Frame, _ out: inout Output) throws {
        var v = value
        if let fin = env.finalize { v = try fin(v) }
        if isNative { nativeAppend(v) }
        switch v {
        case .string(let s): out.append(f.autoescape ? escapeHTML(s) : s)
        case .markup(let s): out.append(s)
        case .int(let i): out.append(i)
        default:
            let s = try v.str()
            out.append(f.autoescape ? escapeHTML(s) : s)
        }
    }

    func execStmt(_ s: Stmt, _ f: Frame, _ out: inout Output) throws {
        switch s {
        case .text, .output:
            try exec([s], f, &out)
        case .compiledBody(let cb):
            try cb.run(self, f, &out)
        case .ifs(let branches, let elseBody, let line):
            for (test, body) in branches {
                let ok: Bool
                do { ok = try eval(test, f).truthy() } catch { throw annotate(error, line, f) }
                if ok { try exec(body, f, &out); return }
            }
            if let e = elseBody { try exec(e, f, &out) }
        case .forLoop(let node, let line):
            let iterValue: Value
            do { iterValue = try eval(node.iter, f) } catch { throw annotate(error, line, f) }
            try runFor(node, iterValue, depth0: 0, f, &out, line: line)
        case .assign(let target, let e, let line):
            do { try assign(target, try eval(e, f), f) } catch { throw annotate(error, line, f) }
        case .assignBlock(let target, let filter, let body, let line):
            var buf = Output()
            try capturing { try exec(body, f.with(scope: f.scope, topLevel: f.topLevel).asNonRoot, &buf) }
            do {
                var v: Value = f.autoescape ? .markup(buf.string) : .string(buf.string)
                if let fl = filter { v = try evalFilterChain(fl, input: v, f) }
                try assign(target, v, f)
            } catch { throw annotate(error, line, f) }
        case .macro(let def, let line):
            let m = MacroObject(def: def, scope: f.scope, ctx: f.ctx, template: f.template, autoescape: f.autoescape)
            do { try assign(.name(def.name), .object(m), f) } catch { throw annotate(error, line, f) }
        case .callBlock(let callExpr, let def, let line):
            if f.rootLevel && f.ctx.parentTemplate != nil { return }
            do {
                let caller = MacroObject(def: def, scope: f.scope, ctx: f.ctx, template: f.template, autoescape: f.autoescape)
                guard case .call(let fnE, let argsE) = callExpr else { return }
                let fn = try eval(fnE, f)
                var args = try evalArgs(argsE, f)
                args.keywords.append((name: "caller", value: .object(caller)))
                try write(try call(fn, args, f), f, &out)
            } catch { throw annotate(error, line, f) }
        case .filterBlock(let filterE, let body, let line):
            var buf = Output()
            try capturing { try exec(body, f.asNonRoot, &buf) }
            if f.rootLevel && f.ctx.parentTemplate != nil { return }
            do {
                let v = try evalFilterChain(filterE, input: f.autoescape ? .markup(buf.string) : .string(buf.string), f)
                try write(v, f, &out)
            } catch { throw annotate(error, line, f) }
        case .with(let pairs, let body, let line):
            let scope = newScope(parent: f.scope)
            let inner = f.with(scope: scope)
            do {
                for (t, e) in pairs { try assign(t, try eval(e, f), inner) }
            } catch { throw annotate(error, line, f) }
            try exec(body, inner, &out)
        case .block(let name, let line):
            if f.rootLevel && f.ctx.parentTemplate != nil { return }
            let scoped = f.template.parsed.blocks[name]?.scoped ?? false
            do { try renderBlock(name, index: 0, f, &out, scoped: scoped) } catch { throw annotate(error, line, f) }
        case .extends(let e, let line):
            do {
                if f.ctx.parentTemplate != nil { throw JinjaError.runtime("extended multiple times") }
                let parent = try resolveTemplate(try eval(e, f), from: f.template.name)
                for (n, b) in parent.parsed.blocks { f.ctx.blocks[n, default: []].append((b, parent)) }
                f.ctx.parentTemplate = parent
            } catch { throw annotate(error, line, f) }
        case .include(let e, let ignoreMissing, let withContext, let line):
            if f.rootLevel && f.ctx.parentTemplate != nil { return }
            do {
                let t: Template
                do { t = try resolveTemplate(try eval(e, f), from: f.template.name) } catch let err as JinjaError
                    where ignoreMissing && (err.kind == .templateNotFound || err.kind == .templatesNotFound) {
                    return
                }
                try renderInclude(t, f, withContext: withContext, &out)
            } catch { throw annotate(error, line, f) }
        case .importStmt(let e, let names, let withContext, let line):
            do {
                let t = try resolveTemplate(try eval(e, f), from: f.template.name)
                let module = withContext ? try contextModule(t, names, f) : try importedModule(t)
                switch names {
                case .module(let n):
                    try assign(.name(n), .object(module), f)
                case .names(let pairs):
                    for (n, alias) in pairs {
                        let v = module.lookup[n] ?? .undefined(Undefined(name: n,
                            hint: "the template \(pyRepr(t.name ?? "None")) (imported on line \(line)) does not export the requested name \(pyRepr(n))",
                            kind: env.undefined))
                        try assign(.name(alias), v, f)
                    }
                }
            } catch { throw annotate(error, line, f) }
        case .exprStmt(let e, let line):
            do { _ = try eval(e, f) } catch { throw annotate(error, line, f) }
        case .breakLoop: throw LoopControl.breakLoop
        case .continueLoop: throw LoopControl.continueLoop
        case .autoescape(let e, let body, let line):
            let enabled: Bool
            do { enabled = try eval(e, f).truthy() } catch { throw annotate(error, line, f) }
            let inner = Frame(scope: newScope(parent: f.scope), ctx: f.ctx, template: f.template, autoescape: enabled, rootLevel: f.rootLevel, topLevel: false)
            try exec(body, inner, &out)
        case .scope(let body):
            try exec(body, f.with(scope: newScope(parent: f.scope)), &out)
        case .ext(let st, let line):
            do {
                var rt = ExtensionRuntime(runtime: self, frame: f)
                try st.run(&rt)
                if !(f.rootLevel && f.ctx.parentTemplate != nil) { out.append(rt.output) }
            } catch { throw annotate(error, line, f) }
        case .debug:
            // jinja2.ext.debug: pprint of the visible context, filters and tests
            var visible = env.globals
            for (k, v) in f.template.globals { visible[k] = v }
            for (k, v) in f.scope.flattened() where k != "self" { visible[k] = v }
            let ctxPairs = visible.map { (Value.string($0.key), $0.value) }
            let info: Value = .dict([
                (.string("context"), .dict(ctxPairs)),
                (.string("filters"), .list(env.filters.keys.sorted().map { .string($0) })),
                (.string("tests"), .list(env.tests.keys.sorted().map { .string($0) })),
            ])
            out.append((try? pformat(info)) ?? "")
        }
    }

    func resolveTemplate(_ v: Value, from parent: String?) throws -> Template {
        switch v {
        case .string(let s), .markup(let s): return try env.getTemplate(env.resolveName(s, parent: parent))
        case .object(let o as Template): return o
        case .list(let l): return try env.selectTemplate(l.items)
        case .tuple(let t): return try env.selectTemplate(t)
        case .undefined(let u): throw u.error()
        default: return try env.getTemplate(env.resolveName(try v.str(), parent: parent))
        }
    }

    func renderInclude(_ t: Template, _ f: Frame, withContext: Bool, _ out: inout Output) throws {
        let parent = withContext ? f.scope : Scope(parent: nil)
        try renderRoot(t, parentScope: parent, &out)
    }

    func renderBlock(_ name: String, index: Int, _ f: Frame, _ out: inout Output, scoped: Bool = false) throws {
        guard let stack = f.ctx.blocks[name], index < stack.count else {
            throw JinjaError.runtime("no block named '\(name)'")
        }
        let (node, tmpl) = stack[index]
        if node.required {
            throw JinjaError.runtime("Required block '\(name)' not found")
        }
        try enter()
        defer { depth -= 1 }
        let scope = newScope(parent: scoped || node.scoped ? f.scope : f.ctx.top)
        let bf = Frame(scope: scope, ctx: f.ctx, template: tmpl, autoescape: env.autoescape.enabled(for: tmpl.name), rootLevel: false, topLevel: false)
        if index + 1 < stack.count {
            scope.vars["super"] = .object(BlockRef(name: name, index: index + 1, ctx: f.ctx, frame: scoped ? f : bf, scoped: scoped))
        } else {
            scope.vars["super"] = .undefined(Undefined(name: "super", hint: "there is no parent block called '\(name)'.", kind: env.undefined))
        }
        try exec(node.body, bf, &out)
    }

    func runFor(_ node: ForNode, _ iterValue: Value, depth0: Int, _ f: Frame, _ out: inout Output, line: Int) throws {
        var items: [Value]
        do { items = try iterate(iterValue) } catch { throw annotate(error, line, f) }
        let scope = newScope(parent: f.scope)
        let lf = f.with(scope: scope)
        if let filter = node.filter {
            var kept: [Value] = []
            for item in items {
                do {
                    try assign(node.target, item, lf)
                    if try eval(filter, lf).truthy() { kept.append(item) }
                } catch { throw annotate(error, line, f) }
            }
            items = kept
        }
        if items.isEmpty {
            try exec(node.elseBody, lf, &out)
            return
        }
        var loop: LoopObject? = nil
        if node.usesLoop {
            let recurse: ((Value, CallContext) throws -> Value)?
            if node.recursive {
                recurse = { [unowned self] v, cc in
                    try self.enter()
                    defer { self.depth -= 1 }
                    var o = Output()
                    try self.runFor(node, v, depth0: depth0 + 1, f, &o, line: line)
                    return cc.frame.autoescape ? .markup(o.string) : .string(o.string)
                }
            } else { recurse = nil }
            let l = LoopObject(items: items, depth0: depth0, recurse: recurse)
            loop = l
            scope.vars["loop"] = .object(l)
        }
        // Each iteration needs fresh locals when the body assigns (so reads
        // before a `set` see the outer value, as in Jinja2). A single frame is
        // reused (cleared per iteration) unless something may capture it.
        let perIteration = node.freshScopes && !node.reuseScope
        let reused = node.freshScopes && node.reuseScope
        let body = StatementCompiler.runner(node.body)
        let targetName: String?
        if case .name(let n) = node.target { targetName = n } else { targetName = nil }
        if perIteration {
            for (i, item) in items.enumerated() {
                loop?.index0 = i
                let itf = f.with(scope: newScope(parent: scope))
                do { try assign(node.target, item, itf) } catch { throw annotate(error, line, f) }
                do {
                    try body(self, itf, &out)
                } catch LoopControl.breakLoop {
                    break
                } catch LoopControl.continueLoop {
                    continue
                }
            }
            return
        }
        // One frame for all iterations: the loop's own, or (when the body
        // assigns but nothing can capture the scope) one emptied per iteration.
        let fixed = reused ? f.with(scope: newScope(parent: scope)) : lf
        let table = fixed.scope
        var slot = -1
        // `for k, v in d.items()`: the names' fingerprints once per loop, not per item
        var unpackNames: [VarName]? = nil
        if case .tuple(let targets) = node.target {
            let names = targets.compactMap { t -> VarName? in if case .name(let n) = t { return VarName(n) } else { return nil } }
            if names.count == targets.count { unpackNames = names }
        }
        for i in 0..<items.count {
            loop?.index0 = i
            if reused { table.vars.removeAll() }
            if let n = targetName {
                if !reused && slot >= 0 && table.vars.name(at: slot) == n {
                    table.vars.setValue(items[i], at: slot)
                } else {
                    table.vars[n] = items[i]
                    slot = table.vars.position(n) ?? -1
                }
            } else if let names = unpackNames, case .tuple(let parts) = items[i], parts.count == names.count {
                for k in 0..<names.count { table.vars.set(names[k], parts[k]) }
            } else {
                do { try assign(node.target, items[i], fixed) } catch { throw annotate(error, line, f) }
            }
            do {
                try body(self, fixed, &out)
            } catch LoopControl.breakLoop {
                break
            } catch LoopControl.continueLoop {
                continue
            }
        }
    }

    func assign(_ target: Target, _ value: Value, _ f: Frame) throws {
        switch target {
        case .name(let n):
            f.scope.vars[n] = value
            if f.topLevel { f.ctx.export(n) }
        case .tuple(let targets):
            let items = try iterate(value)
            if items.count < targets.count {
                throw JinjaError.value("not enough values to unpack (expected \(targets.count), got \(items.count))")
            }
            if items.count > targets.count {
                throw JinjaError.value("too many values to unpack (expected \(targets.count))")
            }
            for (t, v) in zip(targets, items) { try assign(t, v, f) }
        case .nsattr(let ns, let attr):
            guard case .object(let o) = lookup(ns, f), let nso = o as? NamespaceObject else {
                throw JinjaError.runtime("cannot assign attribute on non-namespace object")
            }
            try nso.setAttribute(attr, value)
        }
    }

    func invokeMacro(_ m: MacroObject, _ args: Arguments, _ callerFrame: Frame) throws -> Value {
        try enter()
        defer { depth -= 1 }
        let def = m.def
        // only scopes that can end up in a reference cycle need releasing later
        let scope = def.capturesScope ? newScope(parent: m.scope) : Scope(parent: m.scope)
        scope.vars.reserve(def.params.count + (def.usesCaller ? 1 : 0) + (def.usesVarargs ? 1 : 0) + (def.usesKwargs ? 1 : 0))
        let mf = Frame(scope: scope, ctx: m.ctx, template: m.template, autoescape: m.autoescape, rootLevel: false, topLevel: false)
        let pos = args.positional
        if pos.count > def.params.count && !def.usesVarargs {
            throw JinjaError.type("macro '\(def.name)' takes not more than \(def.params.count) argument(s)")
        }
        let names = def.paramNames.count == def.params.count ? def.paramNames : def.params.map { VarName($0.0) }
        var usedKw = 0
        for i in 0..<def.params.count {
            let pname = names[i]
            if i < pos.count {
                scope.vars.set(pname, pos[i])
                if !args.keywords.isEmpty && args.keyword(pname.string) != nil {
                    throw JinjaError.type("macro '\(def.name)' got multiple values for argument '\(pname.string)'")
                }
            } else if !args.keywords.isEmpty, let kv = args.keyword(pname.string) {
                scope.vars.set(pname, kv)
                usedKw += 1
            } else if let d = def.params[i].1 {
                scope.vars.set(pname, try eval(d, mf))
            } else {
                scope.vars.set(pname, .undefined(Undefined(name: pname.string, hint: "parameter \(pyRepr(pname.string)) was not provided", kind: env.undefined)))
            }
        }
        var extraKw: [(Value, Value)] = []
        var callerValue: Value? = m.caller
        if usedKw < args.keywords.count {
            // keywords naming a parameter past the positional ones were used above
            let taken = Set(def.params.dropFirst(pos.count).map(\.0))
            for (k, v) in args.keywords where !taken.contains(k) {
                if k == "caller" && def.usesCaller { callerValue = v; continue }
                if def.usesKwargs { extraKw.append((.string(k), v)); continue }
                throw JinjaError.type("macro '\(def.name)' takes no keyword argument '\(k)'")
            }
        }
        if def.usesCaller && !def.params.contains(where: { $0.0 == "caller" }) {
            scope.vars["caller"] = callerValue ?? .undefined(Undefined(name: "caller", hint: "No caller defined", kind: env.undefined))
        }
        if def.usesVarargs {
            scope.vars["varargs"] = .tuple(pos.count > def.params.count ? Array(pos[def.params.count...]) : [])
        }
        if def.usesKwargs { scope.vars["kwargs"] = .dict(extraKw) }
        var out = macroOutput(capacity: def.outputHint)
        if isNative {
            nativeStack?.append([])
            try exec(def.body, mf, &out)
            return try nativeConcat(nativeStack?.popLast() ?? [])
        }
        try exec(def.body, mf, &out)
        let text = out.string
        recycle(out)
        return callerFrame.autoescape ? .markup(text) : .string(text)
    }
}

