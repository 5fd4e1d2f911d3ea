import Foundation

/// Python numeric tower restricted to bool < int < float.
enum Num {
    case i(Int), f(Double)
    init?(_ v: Value) {
        switch v {
        case .int(let x): self = .i(x)
        case .bool(let b): self = .i(b ? 1 : 0)
        case .float(let d): self = .f(d)
        default: return nil
        }
    }
    var double: Double {
        switch self { case .i(let x): return Double(x); case .f(let d): return d }
    }
}

func unsupported(_ op: String, _ a: Value, _ b: Value) -> JinjaError {
    .type("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
}

func pyFloorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
}

func pyMod(_ a: Int, _ b: Int) -> Int {
    let r = a % b
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
}

func pyFMod(_ a: Double, _ b: Double) -> Double {
    let r = fmod(a, b)
    if r != 0 && ((r < 0) != (b < 0)) { return r + b }
    if r == 0 { return b < 0 ? -0.0 : 0.0 }
    return r
}

func binop(_ op: BinOp, _ a: Value, _ b: Value, autoescape: Bool = false) throws -> Value {
    if case .undefined(let u) = a { throw u.error() }
    if case .undefined(let u) = b { throw u.error() }
    if a.isBigInt || b.isBigInt, let x = a.bigInt, let y = b.bigInt {
        switch op {
        case .add: return .integer(x + y)
        case .sub: return .integer(x - y)
        case .mul: return .integer(x * y)
        case .pow:
            if let e = y.asInt, e >= 0, e < 100_000 { return .integer(x.power(e)) }
        case .floordiv, .mod:
            if let d = y.asInt, let (q, r) = x.floorDivMod(d) { return op == .floordiv ? .integer(q) : .int(r) }
            if y.limbs.isEmpty { throw JinjaError(.zeroDivisionError, "integer division or modulo by zero") }
        default: break
        }
        return try binop(op, .float(x.double), .float(y.double))
    }
    if a.isBigInt, case .float = b, let x = a.bigInt { return try binop(op, .float(x.double), b) }
    if b.isBigInt, case .float = a, let y = b.bigInt { return try binop(op, a, .float(y.double)) }
    if let x = Num(a), let y = Num(b) {
        switch (x, y) {
        case (.i(let p), .i(let q)):
            switch op {
            case .add:
                let (r, o) = p.addingReportingOverflow(q)
                return o ? .integer(BigInt(p) + BigInt(q)) : .int(r)
            case .sub:
                let (r, o) = p.subtractingReportingOverflow(q)
                return o ? .integer(BigInt(p) - BigInt(q)) : .int(r)
            case .mul:
                let (r, o) = p.multipliedReportingOverflow(by: q)
                return o ? .integer(BigInt(p) * BigInt(q)) : .int(r)
            case .div:
                if q == 0 { throw JinjaError(.zeroDivisionError, "division by zero") }
                return .float(Double(p) / Double(q))
            case .floordiv:
                if q == 0 { throw JinjaError(.zeroDivisionError, "integer division or modulo by zero") }
                if p == Int.min && q == -1 { return .float(-Double(p)) }
                return .int(pyFloorDiv(p, q))
            case .mod:
                if q == 0 { throw JinjaError(.zeroDivisionError, "integer modulo by zero") }
                if q == -1 { return .int(0) }
                return .int(pyMod(p, q))
            case .pow:
                if q < 0 {
                    if p == 0 { throw JinjaError(.zeroDivisionError, "0.0 cannot be raised to a negative power") }
                    return .float(Foundation.pow(Double(p), Double(q)))
                }
                var result = 1, base = p, e = q
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        if o { return q < 100_000 ? .integer(BigInt(p).power(q)) : .float(Foundation.pow(Double(p), Double(q))) }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (r, o) = base.multipliedReportingOverflow(by: base)
                        if o { return q < 100_000 ? .integer(BigInt(p).power(q)) : .float(Foundation.pow(Double(p), Double(q))) }
                        base = r
                    }
                }
                return .int(result)
            }
        default:
            let p = x.double, q = y.double
            switch op {
            case .add: return .float(p + q)
            case .sub: return .float(p - q)
            case .mul: return .float(p * q)
            case .div:
                if q == 0 { throw JinjaError(.zeroDivisionError, "float division by zero") }
                return .float(p / q)
            case .floordiv:
                if q == 0 { throw JinjaError(.zeroDivisionError, "float floor division by zero") }
                return .float(Foundation.floor(p / q))
            case .mod:
                if q == 0 { throw JinjaError(.zeroDivisionError, "float modulo") }
                return .float(pyFMod(p, q))
            case .pow:
                if p == 0 && q < 0 { throw JinjaError(.zeroDivisionError, "0.0 cannot be raised to a negative power") }
                return .float(Foundation.pow(p, q))
            }
        }
    }
    switch op {
    case .add:
        switch (a, b) {
        case (.string(let x), .string(let y)): return .string(x + y)
        case (.markup(let x), .markup(let y)): return .markup(x + y)
        case (.markup(let x), .string(let y)): return .markup(x + escapeHTML(y))
        case (.string(let x), .markup(let y)): return .markup(escapeHTML(x) + y)
        case (.list(let x), .list(let y)): return .list(ListBox(x.items + y.items))
        case (.tuple(let x), .tuple(let y)): return .tuple(x + y)
        case (.string, _), (.markup, _):
            throw JinjaError.type("can only concatenate str (not \"\(b.typeName)\") to str")
        case (.list, _):
            throw JinjaError.type("can only concatenate list (not \"\(b.typeName)\") to list")
        case (.tuple, _):
            throw JinjaError.type("can only concatenate tuple (not \"\(b.typeName)\") to tuple")
        default: throw unsupported("+", a, b)
        }
    case .mul:
        func rep(_ n: Int, _ v: Value) throws -> Value? {
            let k = max(0, n)
            switch v {
            case .string(let s), .markup(let s): try checkResultSize(k, unit: s.utf8.count)
            case .list(let l): try checkResultSize(k, unit: l.items.count)
            case .tuple(let t): try checkResultSize(k, unit: t.count)
            default: break
            }
            switch v {
            case .string(let s): return .string(String(repeating: s, count: k))
            case .markup(let s): return .markup(String(repeating: s, count: k))
            case .list(let l): return .list(ListBox(Array([[Value]](repeating: l.items, count: k).joined())))
            case .tuple(let t): return .tuple(Array([[Value]](repeating: t, count: k).joined()))
            default: return nil
            }
        }
        if case .int(let n) = b, let r = try rep(n, a) { return r }
        if case .int(let n) = a, let r = try rep(n, b) { return r }
        if case .bool(let n) = b, let r = try rep(n ? 1 : 0, a) { return r }
        throw JinjaError.type("can't multiply sequence by non-int of type '\(b.typeName)'")
    case .mod:
        if case .string(let s) = a { return .string(try percentFormat(s, b, escape: false)) }
        if case .markup(let s) = a { return .markup(try percentFormat(s, b, escape: true)) }
        throw unsupported("%", a, b)
    default:
        throw unsupported(op.rawValue, a, b)
    }
}

func negate(_ v: Value) throws -> Value {
    switch v {
    case .int(let i):
        let (r, o) = (0).subtractingReportingOverflow(i)
        return o ? .integer(-BigInt(i)) : .int(r)
    case .object(let b as BigIntObject): return .integer(-b.value)
    case .float(let d): return .float(-d)
    case .bool(let b): return .int(b ? -1 : 0)
    case .undefined(let u): throw u.error()
    default: throw JinjaError.type("bad operand type for unary -: '\(v.typeName)'")
    }
}

/// Python `==`.
func valuesEqual(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.none, .none): return true
    case (.string(let x), .string(let y)), (.markup(let x), .markup(let y)),
         (.string(let x), .markup(let y)), (.markup(let x), .string(let y)):
        return x == y
    case (.list(let x), .list(let y)):
        if x === y { return true }
        return x.items.count == y.items.count && zip(x.items, y.items).allSatisfy { valuesEqual($0, $1) }
    case (.tuple(let x), .tuple(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { valuesEqual($0, $1) }
    case (.dict(let x), .dict(let y)):
        if x === y { return true }
        guard x.count == y.count else { return false }
        for (k, v) in x.pairs {
            guard let w = y[k], valuesEqual(v, w) else { return false }
        }
        return true
    case (.undefined, .undefined): return true
    case (.function(let x), .function(let y)): return x === y
    case (.object(let x), .object(let y)):
        if let p = a.bigInt, let q = b.bigInt { return p == q }
        return x === y
    default:
        if a.isBigInt || b.isBigInt {
            if let p = a.bigInt, let q = b.bigInt { return p == q }
            if case .float(let d) = b, let p = a.bigInt { return p.double == d }
            if case .float(let d) = a, let q = b.bigInt { return q.double == d }
            return false
        }
        if let x = Num(a), let y = Num(b) {
            if case .i(let p) = x, case .i(let q) = y { return p == q }
            return x.double == y.double
        }
        return false
    }
}

/// Python ordering; TypeError for incomparable types.
func lessThan(_ a: Value, _ b: Value, _ opName: String = "<") throws -> Bool {
    if case .undefined(let u) = a { throw u.error() }
    if case .undefined(let u) = b { throw u.error() }
    if a.isBigInt || b.isBigInt {
        if let p = a.bigInt, let q = b.bigInt { return p < q }
        if case .float(let d) = b, let p = a.bigInt { return p.double < d }
        if case .float(let d) = a, let q = b.bigInt { return d < q.double }
    }
    if let x = Num(a), let y = Num(b) {
        if case .i(let p) = x, case .i(let q) = y { return p < q }
        return x.double < y.double
    }
    switch (a, b) {
    case (.string(let x), .string(let y)), (.markup(let x), .markup(let y)),
         (.string(let x), .markup(let y)), (.markup(let x), .string(let y)):
        return TextUtils.utf8Less(x, y)
    case (.list(let x), .list(let y)): return try seqLess(x.items, y.items)
    case (.tuple(let x), .tuple(let y)): return try seqLess(x, y)
    default:
        throw JinjaError.type("'\(opName)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
    }
}

func seqLess(_ x: [Value], _ y: [Value]) throws -> Bool {
    for (p, q) in zip(x, y) where !valuesEqual(p, q) { return try lessThan(p, q) }
    return x.count < y.count
}

func contains(_ container: Value, _ item: Value) throws -> Bool {
    switch container {
    case .string(let s), .markup(let s):
        guard let sub = item.stringValue else {
            throw JinjaError.type("'in <string>' requires string as left operand, not \(item.typeName)")
        }
        return sub.isEmpty || s.contains(sub)
    case .list(let l): return l.items.contains { valuesEqual($0, item) }
    case .tuple(let t): return t.contains { valuesEqual($0, item) }
    case .dict(let d):
        guard HashKey(item) != nil else { throw JinjaError.type("unhashable type: '\(item.typeName)'") }
        return d.contains(item)
    case .undefined(let u):
        if u.kind == .strict { throw u.error() }
        return false
    case .object(let o):
        if let it = o as? IterableObject { return it.iterItems.contains { valuesEqual($0, item) } }
        if let ns = o as? NamespaceObject { return ns.attrs.contains(item) }
        throw JinjaError.type("argument of type '\(container.typeName)' is not iterable")
    default:
        throw JinjaError.type("argument of type '\(container.typeName)' is not iterable")
    }
}

func compare(_ op: CmpOp, _ l: Value, _ r: Value) throws -> Bool {
    switch op {
    case .eq: return valuesEqual(l, r)
    case .ne: return !valuesEqual(l, r)
    case .lt: return try lessThan(l, r, "<")
    case .gt: return try lessThan(r, l, ">")
    case .le: return try !lessThan(r, l, "<=")
    case .ge: return try !lessThan(l, r, ">=")
    case .in: return try contains(r, l)
    case .notin: return try !contains(r, l)
    }
}

/// HTML escaping as markupsafe does it.
func escapeHTML(_ s: String) -> String {
    var needs = false
    for b in s.utf8 where b == 38 || b == 60 || b == 62 || b == 34 || b == 39 { needs = true; break }
    if !needs { return s }
    var out = ""
    out.reserveCapacity(s.utf8.count + 16)
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&#34;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// `escape()` of any value: markup passes through.
func escapeValue(_ v: Value) throws -> String {
    if case .markup(let s) = v { return s }
    return escapeHTML(try v.str())
}
