/// Expression evaluation with Jinja2's lookup rules.
extension Runtime {
    @inline(__always)
    func lookup(_ name: String, _ f: Frame) -> Value {
        lookup(VarName(name), f)
    }

    @inline(__always)
    func lookup(_ varName: VarName, _ f: Frame) -> Value {
        if let v = f.scope.lookup(varName) { return v }
        let name = varName.string
        if let v = f.template.globals[name] { return v }
        if let v = renderGlobals[name] { return v }
        if let v = env.globals[name] { return v }
        return .undefined(Undefined(name: name, kind: env.undefined))
    }

    func missing(_ obj: Value, _ key: Value) -> Value {
        .undefined(Undefined(key: key, ownerType: obj.objectTypeRepr, kind: env.undefined))
    }

    func eval(_ e: Expr, _ f: Frame) throws -> Value {
        switch e {
        case .compiled(let c): return try c.run(self, f)
        case .const(let v): return v
        case .name(let n): return lookup(n, f)
        case .getattr(let o, let name): return try getattr(try eval(o, f), name, f)
        case .getitem(let o, let k):
            let obj = try eval(o, f)
            if case .slice(let a, let b, let c) = k {
                return try slice(obj, try a.map { try eval($0, f) }, try b.map { try eval($0, f) }, try c.map { try eval($0, f) })
            }
            return try getitem(obj, try eval(k, f), f)
        case .slice(let a, let b, let c):
            return .tuple([try a.map { try eval($0, f) } ?? .none, try b.map { try eval($0, f) } ?? .none, try c.map { try eval($0, f) } ?? .none])
        case .binop(let op, let l, let r):
            return try binop(op, try eval(l, f), try eval(r, f), autoescape: f.autoescape)
        case .neg(let a): return try negate(try eval(a, f))
        case .pos(let a):
            let v = try eval(a, f)
            switch v {
            case .int, .float: return v
            case .bool(let b): return .int(b ? 1 : 0)
            case .undefined(let u): throw u.error()
            default: throw JinjaError.type("bad operand type for unary +: '\(v.typeName)'")
            }
        case .not(let a): return .bool(!(try eval(a, f).truthy()))
        case .and(let a, let b):
            let l = try eval(a, f)
            return try l.truthy() ? try eval(b, f) : l
        case .or(let a, let b):
            let l = try eval(a, f)
            return try l.truthy() ? l : try eval(b, f)
        case .compare(let first, let ops):
            var l = try eval(first, f)
            for (op, re) in ops {
                let r = try eval(re, f)
                if !(try compare(op, l, r)) { return .bool(false) }
                l = r
            }
            return .bool(true)
        case .concat(let items):
            var parts: [Value] = []
            parts.reserveCapacity(items.count)
            for i in items { parts.append(try eval(i, f)) }
            return try concatenate(parts, autoescape: f.autoescape)
        case .cond(let test, let a, let b):
            if try eval(test, f).truthy() { return try eval(a, f) }
            if let b = b { return try eval(b, f) }
            return .undefined(Undefined(name: nil, hint: "the inline if-expression evaluated to false and no else section was defined.", kind: .default))
        case .list(let items):
            var out: [Value] = []
            out.reserveCapacity(items.count)
            for i in items { out.append(try eval(i, f)) }
            return .list(ListBox(out))
        case .tuple(let items):
            var out: [Value] = []
            out.reserveCapacity(items.count)
            for i in items { out.append(try eval(i, f)) }
            return .tuple(out)
        case .dict(let pairs):
            let d = DictBox()
            for (k, v) in pairs {
                let key = try eval(k, f)
                guard HashKey(key) != nil else { throw JinjaError.type("unhashable type: '\(key.typeName)'") }
                d[key] = try eval(v, f)
            }
            return .dict(d)
        case .call(let fnE, let argsE):
            if !stack.hasRoom() { throw JinjaError(.recursionError, "maximum recursion depth exceeded") }
            // Method calls on built-in values skip allocating a bound method.
            if case .getattr(let objE, let name) = fnE {
                return try callMethod(try eval(objE, f), name, f) { try evalArgs(argsE, f) }
            }
            let fn = try eval(fnE, f)
            return try call(fn, try evalArgs(argsE, f), f)
        case .filter(let input, let ref, let argsE, _):
            let v = try input.map { try eval($0, f) } ?? .none
            if let fn = ref.fn {
                if !ref.pure { impureCalls &+= 1 }
                return try fn(v, try evalArgs(argsE, f), cc(f))
            }
            return try applyFilter(ref.name, v, try evalArgs(argsE, f), f)
        case .test(let input, let ref, let argsE, let negated, _):
            let v = try eval(input, f)
            let r: Bool
            if let fn = ref.fn {
                if !ref.pure { impureCalls &+= 1 }
                r = try fn(v, try evalArgs(argsE, f), cc(f))
            }
            else { r = try applyTest(ref.name, v, try evalArgs(argsE, f), f) }
            return .bool(negated ? !r : r)
        }
    }

    /// Evaluates a filter chain whose innermost input is `input` (filter blocks, `set … | f`).
    func evalFilterChain(_ e: Expr, input: Value, _ f: Frame) throws -> Value {
        guard case .filter(let inner, let ref, let argsE, _) = e else { return try eval(e, f) }
        let v = try inner.map { try evalFilterChain($0, input: input, f) } ?? input
        if let fn = ref.fn {
            if !ref.pure { impureCalls &+= 1 }
            return try fn(v, try evalArgs(argsE, f), cc(f))
        }
        return try applyFilter(ref.name, v, try evalArgs(argsE, f), f)
    }

    func evalArgs(_ a: CallArgs, _ f: Frame) throws -> Arguments {
        if a.args.isEmpty && a.kwargs.isEmpty && a.dynArgs == nil && a.dynKwargs == nil { return Arguments() }
        var pos: [Value] = []
        pos.reserveCapacity(a.args.count)
        for x in a.args { pos.append(try eval(x, f)) }
        var kw: [(name: String, value: Value)] = []
        for (k, x) in a.kwargs { kw.append((k, try eval(x, f))) }
        if let d = a.dynArgs { pos += try iterate(try eval(d, f)) }
        if let d = a.dynKwargs {
            let v = try eval(d, f)
            guard case .dict(let dict) = v else { throw JinjaError.type("argument after ** must be a mapping, not \(v.typeName)") }
            for (k, x) in dict.pairs { kw.append((try k.str(), x)) }
        }
        return Arguments(pos, keywords: kw)
    }

    /// `obj.name(args)`: built-in methods called directly (no bound method
    /// object), anything else looked up then called. `args` is evaluated
    /// after the look-up, as Python does.
    @inline(__always)
    func callMethod(_ obj: Value, _ name: String, _ f: Frame, args: () throws -> Arguments) throws -> Value {
        if env.sandbox == .none && Methods.has(obj, name) {
            return try Methods.call(obj, name, try args(), cc(f))
        }
        let fn = try getattr(obj, name, f)
        return try call(fn, try args(), f)
    }

    func call(_ callee: Value, _ args: Arguments, _ f: Frame) throws -> Value {
        switch callee {
        case .function(let fn):
            if !fn.isPure { impureCalls &+= 1 }
            return try fn.body(args, cc(f))
        case .object(let o):
            // template code and built-in methods; anything else is the host's
            if !(o is MacroObject || o is BoundMethod || o is LoopObject) { impureCalls &+= 1 }
            return try o.call(args, cc(f))
        case .undefined(let u): throw u.error()
        default: throw JinjaError.type("'\(callee.typeName)' object is not callable")
        }
    }

    func applyFilter(_ name: String, _ v: Value, _ args: Arguments, _ f: Frame) throws -> Value {
        guard let fn = env.filters[name] else {
            throw JinjaError(.templateRuntimeError, "No filter named '\(name)'.")
        }
        if !env.pureFilters.contains(name) { impureCalls &+= 1 }
        return try fn(v, args, cc(f))
    }

    func applyTest(_ name: String, _ v: Value, _ args: Arguments, _ f: Frame) throws -> Bool {
        guard let fn = env.tests[name] else {
            throw JinjaError(.templateRuntimeError, "No test named '\(name)'.")
        }
        if !env.pureTests.contains(name) { impureCalls &+= 1 }
        return try fn(v, args, cc(f))
    }

    /// In a sandbox, `_`-prefixed attributes and (immutable) mutating methods are unsafe.
    func unsafeAttribute(_ obj: Value, _ name: String) -> Value? {
        guard env.sandbox != .none else { return nil }
        var blocked = name.hasPrefix("_") && name != "_undefined_name"
        if env.sandbox == .immutable && !blocked {
            switch obj {
            case .list: blocked = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"].contains(name)
            case .dict: blocked = ["update", "pop", "popitem", "setdefault", "clear"].contains(name)
            default: break
            }
        }
        guard blocked else { return nil }
        return .undefined(Undefined(name: name, hint: "access to attribute \(pyRepr(name)) of \(pyRepr(obj.typeName)) object is unsafe.",
                                    kind: env.undefined, errorKind: .securityError))
    }

    /// `obj.name`: Python attribute first, then item.
    func getattr(_ obj: Value, _ name: String, _ f: Frame) throws -> Value {
        if let u = unsafeAttribute(obj, name) { return u }
        switch obj {
        case .dict(let d):
            if Methods.has(obj, name) { return .object(BoundMethod(obj, name)) }
            if let v = d[name] { return v }
        case .object(let o):
            if let v = try o.attribute(name, cc(f)) { return v }
        case .undefined(let u):
            if name == "_undefined_name" { return u.key ?? .none }
            if u.kind == .chainable { return obj }
            throw u.error()
        default:
            if Methods.has(obj, name) { return .object(BoundMethod(obj, name)) }
            if let v = Methods.property(obj, name) { return v }
        }
        return missing(obj, .string(name))
    }

    /// `obj[key]`: item first, then Python attribute for string keys.
    func getitem(_ obj: Value, _ key: Value, _ f: Frame) throws -> Value {
        switch obj {
        case .dict(let d):
            if let v = d[key] { return v }
        case .list(let l):
            if let i = intIndex(key) {
                let idx = i < 0 ? i + l.items.count : i
                if idx >= 0 && idx < l.items.count { return l.items[idx] }
                return missing(obj, key)
            }
        case .tuple(let t):
            if let i = intIndex(key) {
                let idx = i < 0 ? i + t.count : i
                if idx >= 0 && idx < t.count { return t[idx] }
                return missing(obj, key)
            }
        case .string(let s), .markup(let s):
            if let i = intIndex(key) {
                let scalars = Array(s.unicodeScalars)
                let idx = i < 0 ? i + scalars.count : i
                if idx >= 0 && idx < scalars.count {
                    let c = String(Character(scalars[idx]))
                    return obj.isMarkup ? .markup(c) : .string(c)
                }
                return missing(obj, key)
            }
        case .undefined(let u):
            if u.kind == .chainable { return obj }
            throw u.error()
        case .object(let o):
            if let k = key.stringValue, let v = try o.attribute(k, cc(f)) { return v }
            return missing(obj, key)
        default: break
        }
        if let k = key.stringValue {
            if let u = unsafeAttribute(obj, k) { return u }
            if Methods.has(obj, k) { return .object(BoundMethod(obj, k)) }
        }
        return missing(obj, key)
    }

    func intIndex(_ v: Value) -> Int? {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Python slicing for lists, tuples and strings.
    func slice(_ obj: Value, _ start: Value?, _ stop: Value?, _ step: Value?) throws -> Value {
        func idx(_ v: Value?) throws -> Int? {
            guard let v = v else { return nil }
            switch v {
            case .none: return nil
            case .int(let i): return i
            case .bool(let b): return b ? 1 : 0
            case .undefined(let u): if u.kind == .strict { throw u.error() }; return nil
            default: throw JinjaError.type("slice indices must be integers or None or have an __index__ method")
            }
        }
        let st = try idx(step) ?? 1
        if st == 0 { throw JinjaError.value("slice step cannot be zero") }
        func indices(_ n: Int) throws -> [Int] {
            let a0 = try idx(start), b0 = try idx(stop)
            var a = a0, b = b0
            if st > 0 {
                var lo = a ?? 0, hi = b ?? n
                if lo < 0 { lo = max(0, lo + n) }; if lo > n { lo = n }
                if hi < 0 { hi = max(0, hi + n) }; if hi > n { hi = n }
                if lo >= hi { return [] }
                return Array(stride(from: lo, to: hi, by: st))
            } else {
                if let x = a, x < 0 { a = x + n }
                if let y = b, y < 0 { b = y + n }
                var lo = a ?? n - 1
                if lo >= n { lo = n - 1 }
                if lo < -1 { lo = -1 }
                let hi = b ?? -1
                let h = hi < -1 ? -1 : hi
                if lo <= h { return [] }
                return Array(stride(from: lo, to: h, by: st))
            }
        }
        switch obj {
        case .list(let l): return .list(ListBox(try indices(l.items.count).map { l.items[$0] }))
        case .tuple(let t): return .tuple(try indices(t.count).map { t[$0] })
        case .string(let s), .markup(let s):
            let sc = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(sc.count) { out.append(sc[i]) }
            return obj.isMarkup ? .markup(String(out)) : .string(String(out))
        case .undefined(let u):
            if u.kind == .chainable { return obj }
            throw u.error()
        default:
            throw JinjaError.type("'\(obj.typeName)' object is not subscriptable")
        }
    }

    /// Python `list(value)` for iteration.
    func iterate(_ v: Value) throws -> [Value] {
        try iterateValue(v)
    }
}

/// Python `list(value)`.
func iterateValue(_ v: Value) throws -> [Value] {
    switch v {
    case .list(let l): return l.items
    case .tuple(let t): return t
    case .dict(let d): return d.keys
    case .string(let s): return s.unicodeScalars.map { .string(String(Character($0))) }
    case .markup(let s): return s.unicodeScalars.map { .string(String(Character($0))) }
    case .undefined(let u):
        if u.kind == .strict { throw u.error() }
        return []
    case .object(let o):
        // `for k, v in d.items()`: a class check before the protocol look-up
        if let view = o as? DictView { return view.items }
        if let it = o as? IterableObject { return it.iterItems }
        throw JinjaError.type("'\(v.typeName)' object is not iterable")
    default:
        throw JinjaError.type("'\(v.typeName)' object is not iterable")
    }
}

/// Objects templates can loop over.
protocol IterableObject { var iterItems: [Value] { get } }

/// The `~` operator over evaluated parts: markup stays markup when
/// autoescaping (the other parts are escaped), otherwise plain text.
func concatenate(_ parts: [Value], autoescape: Bool) throws -> Value {
    if autoescape && parts.contains(where: { $0.isMarkup }) {
        var s = ""
        for p in parts { s += p.isMarkup ? try p.str() : escapeHTML(try p.str()) }
        return .markup(s)
    }
    var s = ""
    for p in parts { s += try p.str() }
    return .string(s)
}
