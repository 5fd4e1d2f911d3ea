/// Compiles expression trees into nested closures once, at parse time, so
/// rendering calls straight into specialised code instead of re-dispatching
/// on the node enum (and copying its payloads) at every evaluation.
typealias EvalFn = @Sendable (Runtime, Frame) throws -> Value
typealias ArgsFn = @Sendable (Runtime, Frame) throws -> Arguments

/// An `EvalFn` for arrays and optionals (see `Step`: closures kept in
/// generic containers are called through reabstraction thunks).
struct Eval: Sendable {
    let run: EvalFn
    init(_ e: Expr) { run = Compiler.compile(e) }
}

/// A compiled expression; keeps the tree for analysis passes.
final class CompiledExpr: Sendable {
    let expr: Expr
    let run: EvalFn
    init(_ expr: Expr) {
        self.expr = expr
        run = Compiler.compile(expr)
    }
}

enum Compiler {
    static func recursionError() -> JinjaError { JinjaError(.recursionError, "maximum recursion depth exceeded") }

    static func compile(_ e: Expr) -> EvalFn {
        switch e {
        case .compiled(let c): return c.run
        case .const(let v): return { _, _ in v }
        case .name(let n):
            let name = VarName(n)
            return { rt, f in rt.lookup(name, f) }
        case .getattr(let o, let name):
            let oc = compile(o)
            return { rt, f in try rt.getattr(try oc(rt, f), name, f) }
        case .getitem(let o, .slice(let a, let b, let c)):
            let oc = compile(o)
            let ac = a.map(Eval.init), bc = b.map(Eval.init), cc = c.map(Eval.init)
            return { rt, f in
                let obj = try oc(rt, f)
                return try rt.slice(obj, try ac?.run(rt, f), try bc?.run(rt, f), try cc?.run(rt, f))
            }
        case .getitem(let o, let k):
            let oc = compile(o), kc = compile(k)
            return { rt, f in try rt.getitem(try oc(rt, f), try kc(rt, f), f) }
        case .slice:
            return { rt, f in try rt.eval(e, f) }
        case .binop(let op, let l, let r):
            let lc = compile(l), rc = compile(r)
            // int ⊕ int without overflow, the common case, skips the numeric tower
            switch op {
            case .add: return intArithmetic(.add, lc, rc) { $0.addingReportingOverflow($1) }
            case .sub: return intArithmetic(.sub, lc, rc) { $0.subtractingReportingOverflow($1) }
            case .mul: return intArithmetic(.mul, lc, rc) { $0.multipliedReportingOverflow(by: $1) }
            default: break
            }
            return { rt, f in try binop(op, try lc(rt, f), try rc(rt, f), autoescape: f.autoescape) }
        case .neg(let a):
            let ac = compile(a)
            return { rt, f in try negate(try ac(rt, f)) }
        case .pos:
            return { rt, f in try rt.eval(e, f) }
        case .not(let a):
            let ac = compile(a)
            return { rt, f in .bool(!(try ac(rt, f).truthy())) }
        case .and(let a, let b):
            let ac = compile(a), bc = compile(b)
            return { rt, f in
                let l = try ac(rt, f)
                return try l.truthy() ? try bc(rt, f) : l
            }
        case .or(let a, let b):
            let ac = compile(a), bc = compile(b)
            return { rt, f in
                let l = try ac(rt, f)
                return try l.truthy() ? l : try bc(rt, f)
            }
        case .compare(let first, let ops):
            let fc = compile(first)
            let oc = ops.map { ($0.0, Eval($0.1)) }
            if oc.count == 1 {
                let op = oc[0].0, rc = oc[0].1.run
                return { rt, f in .bool(try compare(op, try fc(rt, f), try rc(rt, f))) }
            }
            return { rt, f in
                var l = try fc(rt, f)
                for (op, rc) in oc {
                    let r = try rc.run(rt, f)
                    if !(try compare(op, l, r)) { return .bool(false) }
                    l = r
                }
                return .bool(true)
            }
        case .concat(let items):
            let ic = items.map(Eval.init)
            return { rt, f in
                if f.autoescape {
                    var parts: [Value] = []
                    parts.reserveCapacity(ic.count)
                    for c in ic { parts.append(try c.run(rt, f)) }
                    return try concatenate(parts, autoescape: true)
                }
                // without autoescaping `~` is str() of each part, joined
                var s = ""
                for c in ic {
                    switch try c.run(rt, f) {
                    case .string(let x), .markup(let x): s += x
                    case .int(let i): s += TextUtils.decimal(i)
                    case let v: s += try v.str()
                    }
                }
                return .string(s)
            }
        case .cond(let t, let a, let b):
            let tc = compile(t), ac = compile(a)
            let bc: EvalFn = b.map { compile($0) } ?? { @Sendable _, _ in
                .undefined(Undefined(name: nil, hint: "the inline if-expression evaluated to false and no else section was defined.", kind: .default))
            }
            return { rt, f in try tc(rt, f).truthy() ? try ac(rt, f) : try bc(rt, f) }
        case .list(let items):
            let ic = items.map(Eval.init)
            return { rt, f in
                var out: [Value] = []
                out.reserveCapacity(ic.count)
                for c in ic { out.append(try c.run(rt, f)) }
                return .list(ListBox(out))
            }
        case .tuple(let items):
            let ic = items.map(Eval.init)
            return { rt, f in
                var out: [Value] = []
                out.reserveCapacity(ic.count)
                for c in ic { out.append(try c.run(rt, f)) }
                return .tuple(out)
            }
        case .dict(let pairs):
            let pc = pairs.map { (Eval($0.0), Eval($0.1)) }
            let count = pc.count
            return { rt, f in
                let d = DictBox(capacity: count)
                for (kc, vc) in pc {
                    let key = try kc.run(rt, f)
                    guard HashKey(key) != nil else { throw JinjaError.type("unhashable type: '\(key.typeName)'") }
                    d[key] = try vc.run(rt, f)
                }
                return .dict(d)
            }
        case .call(.getattr(let objE, "get"), let argsE)
            where argsE.kwargs.isEmpty && argsE.dynArgs == nil && argsE.dynKwargs == nil && (1...2).contains(argsE.args.count):
            return dictGet(compile(objE), argsE)
        case .call(.getattr(let objE, let name), let argsE):
            let oc = compile(objE), ac = compileArgs(argsE)
            return { rt, f in
                if !rt.stack.hasRoom() { throw recursionError() }
                return try rt.callMethod(try oc(rt, f), name, f) { try ac(rt, f) }
            }
        case .call(let fnE, let argsE):
            let fc = compile(fnE), ac = compileArgs(argsE)
            return { rt, f in
                if !rt.stack.hasRoom() { throw recursionError() }
                let fn = try fc(rt, f)
                return try rt.call(fn, try ac(rt, f), f)
            }
        case .filter(let input, let ref, let argsE, _):
            let ic: EvalFn = input.map { compile($0) } ?? { @Sendable _, _ in .none }
            let ac = compileArgs(argsE)
            let name = ref.name
            if let fn = ref.fn {
                let pure = ref.pure
                return { rt, f in
                    if !pure { rt.impureCalls &+= 1 }
                    return try fn(try ic(rt, f), try ac(rt, f), rt.cc(f))
                }
            }
            return { rt, f in try rt.applyFilter(name, try ic(rt, f), try ac(rt, f), f) }
        case .test(let input, let ref, let argsE, let negated, _):
            let ic = compile(input), ac = compileArgs(argsE)
            let name = ref.name
            if let fn = ref.fn {
                let pure = ref.pure
                return { rt, f in
                    if !pure { rt.impureCalls &+= 1 }
                    let r = try fn(try ic(rt, f), try ac(rt, f), rt.cc(f))
                    return .bool(negated ? !r : r)
                }
            }
            return { rt, f in
                let r = try rt.applyTest(name, try ic(rt, f), try ac(rt, f), f)
                return .bool(negated ? !r : r)
            }
        }
    }

    /// `l op r`, with `fast` for two ints (falling back when it overflows).
    static func intArithmetic(_ op: BinOp, _ lc: @escaping EvalFn, _ rc: @escaping EvalFn,
                              _ fast: @escaping @Sendable (Int, Int) -> (partialValue: Int, overflow: Bool)) -> EvalFn {
        return { rt, f in
            let a = try lc(rt, f), b = try rc(rt, f)
            if case .int(let x) = a, case .int(let y) = b {
                let (result, overflow) = fast(x, y)
                if !overflow { return .int(result) }
            }
            return try binop(op, a, b, autoescape: f.autoescape)
        }
    }

    /// `x.get(key)` / `x.get(key, default)`, the commonest call in Salt
    /// templates: on a dict, looked up without building an argument list
    /// (arguments still evaluated in order, the default always, as Python does).
    static func dictGet(_ oc: @escaping EvalFn, _ argsE: CallArgs) -> EvalFn {
        let kc = compile(argsE.args[0])
        let dc: EvalFn = argsE.args.count == 2 ? compile(argsE.args[1]) : { @Sendable _, _ in .none }
        let general = compileArgs(argsE)
        return { rt, f in
            if !rt.stack.hasRoom() { throw recursionError() }
            let obj = try oc(rt, f)
            if case .dict(let d) = obj, rt.env.sandbox == .none {
                let key = try kc(rt, f)
                let fallback = try dc(rt, f)
                return d[key] ?? fallback
            }
            return try rt.callMethod(obj, "get", f) { try general(rt, f) }
        }
    }

    /// The values of constant expressions that are immutable scalars (a
    /// shared list or dict could be changed by the callee), else nil.
    static func scalarConstants(_ exprs: [Expr]) -> [Value]? {
        var values: [Value] = []
        for e in exprs {
            var inner = e
            if case .compiled(let c) = e { inner = c.expr }
            guard case .const(let v) = inner else { return nil }
            switch v {
            case .none, .bool, .int, .float, .string, .markup: values.append(v)
            default: return nil
            }
        }
        return values
    }

    static func compileArgs(_ a: CallArgs) -> ArgsFn {
        if a.args.isEmpty && a.kwargs.isEmpty && a.dynArgs == nil && a.dynKwargs == nil {
            return { _, _ in Arguments() }
        }
        // constant scalar arguments (`truncate(40)`, `replace('a', 'b')`):
        // one argument list made now instead of one per call
        if a.dynArgs == nil && a.dynKwargs == nil,
           let pos = scalarConstants(a.args), let kw = scalarConstants(a.kwargs.map(\.1)) {
            let args = Arguments(pos, keywords: zip(a.kwargs.map(\.0), kw).map { (name: $0, value: $1) })
            return { _, _ in args }
        }
        let pc = a.args.map(Eval.init)
        let kc = a.kwargs.map { ($0.0, Eval($0.1)) }
        let dc = a.dynArgs.map(Eval.init), dkc = a.dynKwargs.map(Eval.init)
        if kc.isEmpty && dc == nil && dkc == nil {
            if pc.count == 1 {
                let a0 = pc[0].run
                return { rt, f in Arguments([try a0(rt, f)]) }
            }
            if pc.count == 2 {
                let a0 = pc[0].run, a1 = pc[1].run
                return { rt, f in Arguments([try a0(rt, f), try a1(rt, f)]) }
            }
            return { rt, f in
                var pos: [Value] = []
                pos.reserveCapacity(pc.count)
                for c in pc { pos.append(try c.run(rt, f)) }
                return Arguments(pos)
            }
        }
        return { rt, f in
            var pos: [Value] = []
            for c in pc { pos.append(try c.run(rt, f)) }
            var kw: [(name: String, value: Value)] = []
            for (k, c) in kc { kw.append((k, try c.run(rt, f))) }
            if let d = dc { pos += try rt.iterate(try d.run(rt, f)) }
            if let d = dkc {
                let v = try d.run(rt, f)
                guard case .dict(let dict) = v else { throw JinjaError.type("argument after ** must be a mapping, not \(v.typeName)") }
                for (k, x) in dict.pairs { kw.append((try k.str(), x)) }
            }
            return Arguments(pos, keywords: kw)
        }
    }

    // MARK: statements

    static func c(_ e: Expr) -> Expr {
        if case .compiled = e { return e }
        return .compiled(CompiledExpr(e))
    }

    /// Compiles the argument expressions of a call while keeping the call
    /// node itself (call blocks destructure it).
    static func cArgs(_ a: CallArgs) -> CallArgs {
        CallArgs(args: a.args.map(c), kwargs: a.kwargs.map { ($0.0, c($0.1)) }, dynArgs: a.dynArgs.map(c), dynKwargs: a.dynKwargs.map(c))
    }

    /// Filter chains stay nodes (filter blocks feed them an input) but get compiled arguments.
    static func cFilterChain(_ e: Expr) -> Expr {
        guard case .filter(let inner, let ref, let args, let line) = e else { return c(e) }
        return .filter(inner.map(cFilterChain), ref, cArgs(args), line: line)
    }

    static func macro(_ m: MacroDef) -> MacroDef {
        var m = m
        m.params = m.params.map { ($0.0, $0.1.map(c)) }
        m.paramNames = m.params.map { VarName($0.0) }
        m.outputHint = textLength(m.body)
        m.body = compile(m.body)
        return m
    }

    /// Compiles a body's expressions, then the body itself to one closure.
    static func compile(_ body: [Stmt]) -> [Stmt] {
        if body.count == 1, case .compiledBody = body[0] { return body }
        if body.isEmpty { return body }
        return [.compiledBody(CompiledBody(body.map(compile)))]
    }

    static func compile(_ s: Stmt) -> Stmt {
        switch s {
        case .text, .breakLoop, .continueLoop, .debug, .block, .ext, .compiledBody: return s
        case .output(let e, let l): return .output(c(e), line: l)
        case .ifs(let branches, let els, let l):
            return .ifs(branches.map { (c($0.0), compile($0.1)) }, els.map(compile), line: l)
        case .forLoop(var node, let l):
            node.iter = c(node.iter)
            node.filter = node.filter.map(c)
            node.body = compile(node.body)
            node.elseBody = compile(node.elseBody)
            return .forLoop(node, line: l)
        case .assign(let t, let e, let l): return .assign(t, c(e), line: l)
        case .assignBlock(let t, let f, let body, let l): return .assignBlock(t, f.map(cFilterChain), compile(body), line: l)
        case .macro(let m, let l): return .macro(macro(m), line: l)
        case .callBlock(let call, let m, let l):
            guard case .call(let fn, let args) = call else { return s }
            return .callBlock(.call(c(fn), cArgs(args)), macro(m), line: l)
        case .filterBlock(let f, let body, let l): return .filterBlock(cFilterChain(f), compile(body), line: l)
        case .with(let pairs, let body, let l): return .with(pairs.map { ($0.0, c($0.1)) }, compile(body), line: l)
        case .extends(let e, let l): return .extends(c(e), line: l)
        case .include(let e, let ignore, let ctx, let l): return .include(c(e), ignoreMissing: ignore, withContext: ctx, line: l)
        case .importStmt(let e, let names, let ctx, let l): return .importStmt(c(e), names, withContext: ctx, line: l)
        case .exprStmt(let e, let l): return .exprStmt(c(e), line: l)
        case .autoescape(let e, let body, let l): return .autoescape(c(e), compile(body), line: l)
        case .scope(let body): return .scope(compile(body))
        }
    }
}

extension Compiler {
    /// Bytes of literal text a body prints at its own level (a lower bound
    /// of its output, used to size output buffers).
    static func textLength(_ body: [Stmt]) -> Int {
        body.reduce(0) { n, s in
            if case .text(let t) = s { return n + t.utf8.count }
            return n
        }
    }
}
