/// `str()` and `repr()` exactly as CPython prints them, because templates
/// routinely print lists and dicts (`{{ pillar_list }}`) and Salt users diff
/// the rendered text against Python's.
extension Value {
    /// Python `str(value)`; undefined renders as empty (strict raises).
    public func str() throws -> String {
        switch self {
        case .string(let s), .markup(let s): return s
        case .int(let i): return TextUtils.decimal(i)
        case .float(let d): return formatFloat(d)
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .undefined(let u):
            switch u.kind {
            case .strict: throw u.error()
            case .debug:
                if let hint = u.hint { return "{{ undefined value printed: \(hint) }}" }
                guard let key = u.key, let name = u.name else { return "" }
                if let owner = u.ownerType { return "{{ no such element: \(owner)[\(name)] }}" }
                return "{{ \((try? key.str()) ?? name) }}"
            default: return ""
            }
        case .object(let o): return try o.str(nil)
        default: return try repr()
        }
    }

    /// Python `repr(value)`.
    public func repr() throws -> String {
        var open: Set<ObjectIdentifier> = []
        return try repr(&open)
    }

    /// `open`: the lists and dicts being written around this value; one
    /// that holds itself is written `[...]`/`{...}`, as Python does, and
    /// nesting deeper than 512 levels stops the same way.
    func repr(_ open: inout Set<ObjectIdentifier>) throws -> String {
        switch self {
        case .string(let s): return pyRepr(s)
        case .markup(let s): return "Markup(\(pyRepr(s)))"
        case .list(let l):
            let id = ObjectIdentifier(l)
            guard !open.contains(id), open.count < 512 else { return "[...]" }
            open.insert(id)
            defer { open.remove(id) }
            var out = "["
            var first = true
            for v in l.items {
                if !first { out += ", " }
                first = false
                out += try v.repr(&open)
            }
            return out + "]"
        case .tuple(let t):
            guard open.count < 512 else { return "(...)" }
            var parts: [String] = []
            for item in t { parts.append(try item.repr(&open)) }
            if t.count == 1 { return "(\(parts[0]),)" }
            return "(" + parts.joined(separator: ", ") + ")"
        case .dict(let d):
            let id = ObjectIdentifier(d)
            guard !open.contains(id), open.count < 512 else { return "{...}" }
            open.insert(id)
            defer { open.remove(id) }
            var out = "{"
            var first = true
            for (k, v) in zip(d.keys, d.values) {
                if !first { out += ", " }
                first = false
                out += try k.repr(&open)
                out += ": "
                out += try v.repr(&open)
            }
            return out + "}"
        case .function(let f): return "<function \(f.name)>"
        case .undefined(let u):
            if u.kind == .strict { throw u.error() }
            return "Undefined"
        case .object(let o): return try o.str(nil)
        default: return try str()
        }
    }
}

/// Python's float repr: shortest round-trip digits, exponent form outside
/// 1e-4 ..< 1e16, always a `.0` on integral values.
public func formatFloat(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    var s = d.description
    // Swift prints `1e-05`/`1e+16` like Python; make sure plain integers get `.0`.
    if let eIdx = s.firstIndex(of: "e") {
        // Python writes mantissa without `.0` (1e+16), Swift does too; but Swift may write `1.5e-05`, same as Python.
        let mant = s[s.startIndex..<eIdx]
        var exp = String(s[s.index(after: eIdx)...])
        if mant.hasSuffix(".0") {
            s = String(mant.dropLast(2)) + "e" + exp
        }
        if !exp.hasPrefix("-") && !exp.hasPrefix("+") { exp = "+" + exp }
        if let e2 = s.firstIndex(of: "e") { s = String(s[s.startIndex..<e2]) + "e" + exp }
        // pad exponent to two digits
        if let e3 = s.firstIndex(of: "e") {
            let sign = s[s.index(after: e3)]
            let digits = s[s.index(e3, offsetBy: 2)...]
            if digits.count < 2 { s = String(s[...e3]) + String(sign) + "0" + digits }
        }
        return s
    }
    if !s.contains(".") { s += ".0" }
    return s
}

/// Python's `repr(str)`: single quotes unless the text has `'` and no `"`.
public func pyRepr(_ s: String) -> String {
    // Fast path: printable ASCII without quotes or backslashes.
    var plain = true
    for b in s.utf8 where b < 0x20 || b >= 0x7f || b == 0x27 || b == 0x5c {
        plain = false
        break
    }
    if plain { return "'" + s + "'" }
    let useDouble = s.contains("'") && !s.contains("\"")
    let q: Character = useDouble ? "\"" : "'"
    var out = String(q)
    for u in s.unicodeScalars {
        switch u {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if Character(u) == q { out += "\\" + String(q); continue }
            let v = u.value
            if v < 0x20 || v == 0x7f {
                out += "\\x" + hex(v, 2)
            } else if v >= 0x80 && v < 0xa0 {
                out += "\\x" + hex(v, 2)
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    out.append(q)
    return out
}

func hex(_ v: UInt32, _ width: Int) -> String {
    let h = String(v, radix: 16)
    return String(repeating: "0", count: max(0, width - h.count)) + h
}
