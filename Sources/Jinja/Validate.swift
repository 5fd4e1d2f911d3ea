/// Compile-time check Jinja2 performs: an unknown filter or test is a
/// TemplateAssertionError when parsing, unless it sits in a branch that
/// may not run (`if` bodies, conditional expressions), where it becomes a
/// TemplateRuntimeError only if reached.
struct Validator {
    let env: Environment
    let name: String?

    func check(_ body: [Stmt], _ cond: Bool, line: Int = 1) throws {
        for s in body { try check(s, cond) }
    }

    func fail(_ kind: String, _ n: String, _ line: Int) -> JinjaError {
        JinjaError(.templateAssertionError, "No \(kind) named '\(n)'.", templateName: name, line: line)
    }

    func check(_ s: Stmt, _ cond: Bool) throws {
        switch s {
        case .text, .breakLoop, .continueLoop, .debug, .block, .ext: return
        case .output(let e, let l), .exprStmt(let e, let l), .extends(let e, let l): try check(e, cond, l)
        case .ifs(let branches, let els, let l):
            // Jinja2 compiles the whole `if` (tests included) in a soft frame
            for (t, b) in branches { try check(t, true, l); try check(b, true) }
            if let e = els { try check(e, true) }
        case .forLoop(let f, let l):
            try check(f.iter, cond, l)
            if let fl = f.filter { try check(fl, cond, l) }
            try check(f.body, cond)
            try check(f.elseBody, cond)
        case .assign(_, let e, let l): try check(e, cond, l)
        case .assignBlock(_, let f, let b, let l):
            if let f = f { try check(f, cond, l) }
            try check(b, cond)
        case .macro(let m, let l):
            for p in m.params { if let d = p.1 { try check(d, cond, l) } }
            try check(m.body, cond)
        case .callBlock(let c, let m, let l): try check(c, cond, l); try check(m.body, cond)
        case .filterBlock(let f, let b, let l): try check(f, cond, l); try check(b, cond)
        case .with(let pairs, let b, let l):
            for p in pairs { try check(p.1, cond, l) }
            try check(b, cond)
        case .include(let e, _, _, let l), .importStmt(let e, _, _, let l): try check(e, cond, l)
        case .autoescape(let e, let b, let l): try check(e, cond, l); try check(b, cond)
        case .scope(let b): try check(b, cond)
        case .compiledBody(let cb): try check(cb.stmts, cond)
        }
    }

    func check(_ a: CallArgs, _ cond: Bool, _ l: Int) throws {
        for x in a.args { try check(x, cond, l) }
        for x in a.kwargs { try check(x.1, cond, l) }
        if let d = a.dynArgs { try check(d, cond, l) }
        if let d = a.dynKwargs { try check(d, cond, l) }
    }

    func check(_ e: Expr, _ cond: Bool, _ l: Int) throws {
        switch e {
        case .const, .name: return
        case .compiled(let c): try check(c.expr, cond, l)
        case .getattr(let a, _), .neg(let a), .pos(let a), .not(let a): try check(a, cond, l)
        case .getitem(let a, let b), .binop(_, let a, let b), .and(let a, let b), .or(let a, let b):
            try check(a, cond, l); try check(b, cond, l)
        case .slice(let a, let b, let c):
            for x in [a, b, c] { if let x = x { try check(x, cond, l) } }
        case .compare(let a, let ops): try check(a, cond, l); for o in ops { try check(o.1, cond, l) }
        case .concat(let xs), .list(let xs), .tuple(let xs): for x in xs { try check(x, cond, l) }
        case .dict(let ps): for p in ps { try check(p.0, cond, l); try check(p.1, cond, l) }
        case .cond(let t, let a, let b):
            try check(t, true, l); try check(a, true, l)
            if let b = b { try check(b, true, l) }
        case .call(let f, let a): try check(f, cond, l); try check(a, cond, l)
        case .filter(let v, let n, let a, let fl):
            if !cond && n.fn == nil { throw fail("filter", n.name, fl) }
            if let v = v { try check(v, cond, l) }
            try check(a, cond, l)
        case .test(let v, let n, let a, _, let tl):
            if !cond && n.fn == nil { throw fail("test", n.name, tl) }
            try check(v, cond, l); try check(a, cond, l)
        }
    }
}
