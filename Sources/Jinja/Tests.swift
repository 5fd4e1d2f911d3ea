/// Jinja2's built-in tests (jinja2/tests.py).
enum BuiltinTests {
    static var all: [String: TestFunction] {
        var t: [String: TestFunction] = [:]
        t["odd"] = { v, _, _ in
            guard case .int(let i) = numInt(v) else { throw JinjaError.type("not all arguments converted during string formatting") }
            return i % 2 != 0
        }
        t["even"] = { v, _, _ in
            guard case .int(let i) = numInt(v) else { throw JinjaError.type("not all arguments converted during string formatting") }
            return i % 2 == 0
        }
        t["divisibleby"] = { v, a, _ in
            guard let n = a.get(0, "num") else { throw JinjaError.type("divisibleby() missing 1 required positional argument: 'num'") }
            let r = try binop(.mod, v, n)
            return valuesEqual(r, .int(0))
        }
        t["defined"] = { v, _, _ in !v.isUndefined }
        t["undefined"] = { v, _, _ in v.isUndefined }
        t["filter"] = { v, _, c in v.stringValue.map { c.environment.filters[$0] != nil } ?? false }
        t["test"] = { v, _, c in v.stringValue.map { c.environment.tests[$0] != nil } ?? false }
        t["none"] = { v, _, _ in v.isNone }
        t["boolean"] = { v, _, _ in if case .bool = v { return true }; return false }
        t["false"] = { v, _, _ in if case .bool(false) = v { return true }; return false }
        t["true"] = { v, _, _ in if case .bool(true) = v { return true }; return false }
        t["integer"] = { v, _, _ in if case .int = v { return true }; return v.isBigInt }
        t["float"] = { v, _, _ in if case .float = v { return true }; return false }
        t["lower"] = { v, _, _ in
            let s = try v.str()
            return s.contains { $0.isCased } && !s.contains { $0.isUppercase }
        }
        t["upper"] = { v, _, _ in
            let s = try v.str()
            return s.contains { $0.isCased } && !s.contains { $0.isLowercase }
        }
        t["string"] = { v, _, _ in v.isString }
        t["mapping"] = { v, _, _ in if case .dict = v { return true }; return false }
        t["number"] = { v, _, _ in
            if case .object(let o) = v { return o is BigIntObject || o is ComplexObject }
            return v.isNumber
        }
        t["sequence"] = { v, _, _ in
            switch v {
            case .string, .markup, .list, .tuple, .dict: return true
            case .object(let o): return o is IterableObject
            default: return false
            }
        }
        t["iterable"] = { v, _, _ in
            switch v {
            case .string, .markup, .list, .tuple, .dict, .undefined: return true
            case .object(let o): return o is IterableObject
            default: return false
            }
        }
        t["callable"] = { v, _, _ in v.isCallable }
        t["sameas"] = { v, a, _ in
            guard let o = a.get(0, "other") else { return false }
            switch (v, o) {
            case (.list(let x), .list(let y)): return x === y
            case (.dict(let x), .dict(let y)): return x === y
            case (.object(let x), .object(let y)): return x === y
            case (.function(let x), .function(let y)): return x === y
            case (.none, .none): return true
            case (.bool(let x), .bool(let y)): return x == y
            case (.int(let x), .int(let y)): return x == y && x >= -5 && x <= 256
            case (.string(let x), .string(let y)): return x == y
            default: return false
            }
        }
        t["escaped"] = { v, _, _ in v.isMarkup }
        t["in"] = { v, a, _ in
            guard let seq = a.get(0, "seq") else { throw JinjaError.type("test_in() missing 1 required positional argument: 'seq'") }
            return try contains(seq, v)
        }
        func cmp(_ op: CmpOp) -> TestFunction {
            return { v, a, _ in
                guard let o = a.get(0, "other") else { throw JinjaError.type("missing argument") }
                return try compare(op, v, o)
            }
        }
        for n in ["==", "eq", "equalto"] { t[n] = cmp(.eq) }
        for n in ["!=", "ne"] { t[n] = cmp(.ne) }
        for n in [">", "gt", "greaterthan"] { t[n] = cmp(.gt) }
        for n in [">=", "ge"] { t[n] = cmp(.ge) }
        for n in ["<", "lt", "lessthan"] { t[n] = cmp(.lt) }
        for n in ["<=", "le"] { t[n] = cmp(.le) }
        return t
    }

    static func numInt(_ v: Value) -> Value? {
        switch v {
        case .int: return v
        case .bool(let b): return .int(b ? 1 : 0)
        case .undefined(let u) where u.kind != .strict: return nil
        default: return nil
        }
    }
}
