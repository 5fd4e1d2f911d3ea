/// Finds whether a name is referenced in a subtree; used at parse time to
/// decide whether a for loop needs a `loop` object or a macro takes
/// `caller`/`varargs`/`kwargs`, so renders skip work nobody observes.
enum NameScan {
    /// Whether a body assigns local names at its own level (so each loop
    /// iteration needs a fresh scope for Jinja2's per-iteration semantics).
    /// Whether a body may capture its scope beyond one loop iteration
    /// (macros and call blocks close over the scope they are defined in).
    static func capturesScope(_ body: [Stmt]) -> Bool {
        body.contains { s in
            switch s {
            case .macro, .callBlock, .ext: return true
            case .compiledBody(let cb): return capturesScope(cb.stmts)
            case .ifs(let branches, let els, _): return branches.contains { capturesScope($0.1) } || capturesScope(els ?? [])
            case .forLoop(let f, _): return capturesScope(f.body) || capturesScope(f.elseBody)
            case .with(_, let b, _), .autoescape(_, let b, _), .scope(let b), .filterBlock(_, let b, _), .assignBlock(_, _, let b, _):
                return capturesScope(b)
            default: return false
            }
        }
    }

    static func assigns(_ body: [Stmt]) -> Bool {
        body.contains { s in
            switch s {
            case .assign(.nsattr, _, _): return false
            case .assign, .assignBlock, .macro, .importStmt, .ext: return true
            case .compiledBody(let cb): return assigns(cb.stmts)
            case .ifs(let branches, let els, _): return branches.contains { assigns($0.1) } || assigns(els ?? [])
            default: return false
            }
        }
    }

    static func references(_ body: [Stmt], _ name: String) -> Bool {
        body.contains { references($0, name) }
    }

    static func references(_ s: Stmt, _ name: String) -> Bool {
        switch s {
        case .text, .breakLoop, .continueLoop, .debug: return false
        case .output(let e, _), .exprStmt(let e, _), .extends(let e, _): return references(e, name)
        case .ifs(let branches, let els, _):
            return branches.contains { references($0.0, name) || references($0.1, name) } || references(els ?? [], name)
        case .forLoop(let f, _):
            // a nested loop's own `loop` shadows ours, but its iterable/else may still see ours
            if name == "loop" {
                return references(f.iter, name) || references(f.elseBody, name)
            }
            return references(f.iter, name) || references(f.body, name) || references(f.elseBody, name)
                || (f.filter.map { references($0, name) } ?? false)
        case .assign(_, let e, _): return references(e, name)
        case .assignBlock(_, let f, let body, _): return references(body, name) || (f.map { references($0, name) } ?? false)
        case .macro(let m, _):
            return m.params.contains { $0.1.map { references($0, name) } ?? false }
        case .callBlock(let call, let m, _):
            return references(call, name) || references(m.body, name)
        case .filterBlock(let f, let body, _): return references(f, name) || references(body, name)
        case .with(let pairs, let body, _): return pairs.contains { references($0.1, name) } || references(body, name)
        case .block: return name == "loop"  // block bodies live elsewhere; assume scoped blocks may use `loop`
        case .include(let e, _, _, _), .importStmt(let e, _, _, _): return references(e, name)
        case .autoescape(let e, let body, _): return references(e, name) || references(body, name)
        case .scope(let body): return references(body, name)
        case .compiledBody(let cb): return references(cb.stmts, name)
        case .ext: return true
        }
    }

    static func references(_ e: Expr, _ name: String) -> Bool {
        switch e {
        case .const: return false
        case .compiled(let c): return references(c.expr, name)
        case .name(let n): return n == name
        case .getattr(let a, _), .neg(let a), .pos(let a), .not(let a): return references(a, name)
        case .getitem(let a, let b), .binop(_, let a, let b), .and(let a, let b), .or(let a, let b):
            return references(a, name) || references(b, name)
        case .slice(let a, let b, let c):
            return [a, b, c].contains { $0.map { references($0, name) } ?? false }
        case .compare(let a, let ops): return references(a, name) || ops.contains { references($0.1, name) }
        case .concat(let items), .list(let items), .tuple(let items): return items.contains { references($0, name) }
        case .cond(let a, let b, let c): return references(a, name) || references(b, name) || (c.map { references($0, name) } ?? false)
        case .dict(let pairs): return pairs.contains { references($0.0, name) || references($0.1, name) }
        case .call(let f, let args): return references(f, name) || references(args, name)
        case .filter(let v, _, let args, _): return (v.map { references($0, name) } ?? false) || references(args, name)
        case .test(let v, _, let args, _, _): return references(v, name) || references(args, name)
        }
    }

    static func references(_ a: CallArgs, _ name: String) -> Bool {
        a.args.contains { references($0, name) } || a.kwargs.contains { references($0.1, name) }
            || (a.dynArgs.map { references($0, name) } ?? false) || (a.dynKwargs.map { references($0, name) } ?? false)
    }
}
