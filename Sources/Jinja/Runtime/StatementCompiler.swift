/// Statements compiled to closures, as expressions are (Compiler.swift):
/// a body becomes one closure calling its statements' closures, each with
/// its operands extracted once, so rendering neither switches on the
/// statement enum nor copies its payloads per execution. The hot kinds
/// (text, output, if, for, set, do) get their own closures; the rest run
/// through `Runtime.execStmt`.
typealias ExecFn = @Sendable (Runtime, Frame, inout Output) throws -> Void

/// A closure stored in an array or optional through a struct: closures
/// stored directly in generic containers are kept at their most general
/// calling convention, and every call then goes through reabstraction
/// thunks (several levels of them when such closures are composed).
struct Step: Sendable {
    let run: ExecFn
}

/// A compiled body; keeps the statements for analysis passes.
final class CompiledBody: Sendable {
    let stmts: [Stmt]
    let run: ExecFn
    init(_ stmts: [Stmt]) {
        self.stmts = stmts
        run = StatementCompiler.body(stmts)
    }
}

/// One `if`/`elif` test and its body.
struct Branch: Sendable {
    let test: EvalFn
    let then: ExecFn
}

enum StatementCompiler {
    static func body(_ stmts: [Stmt]) -> ExecFn {
        let fns = mergingText(stmts).map { Step(run: statement($0)) }
        switch fns.count {
        case 0:
            return { _, _, _ in }
        case 1:
            let a = fns[0].run
            return { rt, f, out in
                if !rt.stack.hasRoom() { throw Compiler.recursionError() }
                try a(rt, f, &out)
            }
        default:
            return { rt, f, out in
                if !rt.stack.hasRoom() { throw Compiler.recursionError() }
                for fn in fns { try fn.run(rt, f, &out) }
            }
        }
    }

    /// Adjacent text nodes (left by comments and whitespace control) become one.
    static func mergingText(_ stmts: [Stmt]) -> [Stmt] {
        var out: [Stmt] = []
        out.reserveCapacity(stmts.count)
        for s in stmts {
            if case .text(let t) = s, let last = out.last, case .text(let prev) = last {
                out[out.count - 1] = .text(prev + t)
            } else {
                out.append(s)
            }
        }
        return out
    }

    static func evaluator(_ e: Expr) -> EvalFn {
        if case .compiled(let c) = e { return c.run }
        return Compiler.compile(e)
    }

    static func runner(_ body: [Stmt]) -> ExecFn {
        if body.count == 1, case .compiledBody(let cb) = body[0] { return cb.run }
        return self.body(body)
    }

    static func statement(_ s: Stmt) -> ExecFn {
        switch s {
        case .text(let t):
            let bytes = StaticText(t)
            return { rt, f, out in
                // root-level output is dropped once `extends` ran
                if f.rootLevel && f.ctx.parentTemplate != nil { return }
                out.append(bytes.buffer)
                if rt.isNative { rt.nativeAppend(.string(t)) }
            }
        case .output(let e, let line):
            let ev = evaluator(e)
            return { rt, f, out in
                if f.rootLevel && f.ctx.parentTemplate != nil { return }
                do { try rt.write(try ev(rt, f), f, &out) } catch { throw rt.annotate(error, line, f) }
            }
        case .ifs(let branches, let elseBody, let line):
            let tests = branches.map { Branch(test: evaluator($0.0), then: runner($0.1)) }
            let otherwise = runner(elseBody ?? [])
            if tests.count == 1 {
                let test = tests[0].test, then = tests[0].then
                return { rt, f, out in
                    let ok: Bool
                    do { ok = try test(rt, f).truthy() } catch { throw rt.annotate(error, line, f) }
                    if ok { try then(rt, f, &out) } else { try otherwise(rt, f, &out) }
                }
            }
            return { rt, f, out in
                for b in tests {
                    let ok: Bool
                    do { ok = try b.test(rt, f).truthy() } catch { throw rt.annotate(error, line, f) }
                    if ok { return try b.then(rt, f, &out) }
                }
                try otherwise(rt, f, &out)
            }
        case .forLoop(let node, let line):
            let iter = evaluator(node.iter)
            return { rt, f, out in
                let iterValue: Value
                do { iterValue = try iter(rt, f) } catch { throw rt.annotate(error, line, f) }
                try rt.runFor(node, iterValue, depth0: 0, f, &out, line: line)
            }
        case .assign(.name(let n), let e, let line):
            let ev = evaluator(e)
            let name = VarName(n)
            return { rt, f, _ in
                do {
                    let v = try ev(rt, f)
                    f.scope.vars.set(name, v)
                    if f.topLevel { f.ctx.export(n) }
                } catch { throw rt.annotate(error, line, f) }
            }
        case .assign(.nsattr(let ns, let attr), let e, let line):
            let ev = evaluator(e)
            let name = VarName(ns)
            let key = Value.string(attr)
            return { rt, f, _ in
                do {
                    let v = try ev(rt, f)
                    guard case .object(let o) = rt.lookup(name, f), let nso = o as? NamespaceObject else {
                        throw JinjaError.runtime("cannot assign attribute on non-namespace object")
                    }
                    nso.attrs[key] = v
                } catch { throw rt.annotate(error, line, f) }
            }
        case .assign(let target, let e, let line):
            let ev = evaluator(e)
            return { rt, f, _ in
                do { try rt.assign(target, try ev(rt, f), f) } catch { throw rt.annotate(error, line, f) }
            }
        case .exprStmt(let e, let line):
            let ev = evaluator(e)
            return { rt, f, _ in
                do { _ = try ev(rt, f) } catch { throw rt.annotate(error, line, f) }
            }
        case .breakLoop:
            return { _, _, _ in throw LoopControl.breakLoop }
        case .continueLoop:
            return { _, _, _ in throw LoopControl.continueLoop }
        case .compiledBody(let cb):
            return cb.run
        default:
            return { rt, f, out in try rt.execStmt(s, f, &out) }
        }
    }
}
