/// NativeEnvironment-style rendering: instead of a string, return the
/// Python value the output denotes (`{{ 1 + 2 }}` → int 3), as Jinja2's
/// `nativetypes` does with `ast.literal_eval`.
extension Template {
    public func renderNative(_ context: [String: Value] = [:]) throws -> Value {
        try renderNative(ordered: context.map { ($0.key, $0.value) })
    }

    public func renderNative(ordered context: [(String, Value)]) throws -> Value {
        let runtime = Runtime(env: environment, native: true)
        var vars: [String: Value] = [:]
        for (k, v) in context { vars[k] = v }
        var out = Output()
        defer { runtime.releaseScopes() }
        try runtime.renderRoot(self, parentScope: Scope(parent: nil, vars: vars), &out)
        return try nativeConcat(runtime.nativeStack?.last ?? [])
    }
}

/// jinja2.nativetypes.native_concat.
func nativeConcat(_ values: [Value]) throws -> Value {
    guard let first = values.first else { return .none }
    let raw: String
    if values.count == 1 {
        guard case .string(let s) = first else { return first }
        raw = s
    } else {
        raw = try values.map { try $0.str() }.joined()
    }
    if let v = PyLiteral.parse(raw) { return v }
    return .string(raw)
}

/// A parser for Python literals (`ast.literal_eval` subset).
struct PyLiteral {
    let s: [Unicode.Scalar]
    var i = 0

    static func parse(_ text: String) -> Value? {
        var p = PyLiteral(s: Array(text.unicodeScalars))
        if let f = p.s.first, f == " " || f == "\t" { return nil }
        guard let v = p.tupleOrValue(), p.atEnd() else { return nil }
        return v
    }

    mutating func skipWS() { while i < s.count, s[i] == " " || s[i] == "\t" || s[i] == "\n" { i += 1 } }
    mutating func atEnd() -> Bool { skipWS(); return i >= s.count }

    mutating func tupleOrValue() -> Value? {
        guard let v = value() else { return nil }
        skipWS()
        guard i < s.count, s[i] == "," else { return v }
        var items = [v]
        while i < s.count, s[i] == "," {
            i += 1
            if atEnd() { break }
            guard let n = value() else { return nil }
            items.append(n)
            skipWS()
        }
        return .tuple(items)
    }

    mutating func value() -> Value? {
        skipWS()
        guard i < s.count else { return nil }
        let c = s[i]
        if c == "[" || c == "(" {
            let close: Unicode.Scalar = c == "[" ? "]" : ")"
            i += 1
            var items: [Value] = []
            var sawComma = false
            while true {
                skipWS()
                guard i < s.count else { return nil }
                if s[i] == close { i += 1; break }
                guard let v = value() else { return nil }
                items.append(v)
                skipWS()
                if i < s.count, s[i] == "," { i += 1; sawComma = true; continue }
                skipWS()
                guard i < s.count, s[i] == close else { return nil }
                i += 1
                break
            }
            if c == "[" { return .list(items) }
            if items.count == 1 && !sawComma { return items[0] }
            return .tuple(items)
        }
        if c == "{" {
            i += 1
            let d = DictBox()
            while true {
                skipWS()
                guard i < s.count else { return nil }
                if s[i] == "}" { i += 1; break }
                guard let k = value() else { return nil }
                skipWS()
                guard i < s.count, s[i] == ":" else { return nil }
                i += 1
                guard let v = value() else { return nil }
                d[k] = v
                skipWS()
                if i < s.count, s[i] == "," { i += 1; continue }
                guard i < s.count, s[i] == "}" else { return nil }
                i += 1
                break
            }
            return .dict(d)
        }
        if c == "'" || c == "\"" || ((c == "b" || c == "r" || c == "u") && i + 1 < s.count && (s[i + 1] == "'" || s[i + 1] == "\"")) {
            var out = ""
            while i < s.count {
                skipWS()
                guard i < s.count else { break }
                var q = s[i]
                var raw = false
                if q == "b" || q == "r" || q == "u" {
                    raw = q == "r"
                    guard i + 1 < s.count, s[i + 1] == "'" || s[i + 1] == "\"" else { break }
                    i += 1
                    q = s[i]
                }
                guard q == "'" || q == "\"" else { break }
                i += 1
                while i < s.count && s[i] != q {
                    if s[i] == "\\" && !raw && i + 1 < s.count {
                        i += 1
                        switch s[i] {
                        case "n": out += "\n"
                        case "t": out += "\t"
                        case "r": out += "\r"
                        case "\\": out += "\\"
                        case "'": out += "'"
                        case "\"": out += "\""
                        default: out += "\\"; out.unicodeScalars.append(s[i])
                        }
                    } else {
                        out.unicodeScalars.append(s[i])
                    }
                    i += 1
                }
                guard i < s.count else { return nil }
                i += 1
            }
            return .string(out)
        }
        if c == "-" || c == "+" || (c.value >= 48 && c.value <= 57) || c == "." {
            let start = i
            if c == "-" || c == "+" { i += 1 }
            while i < s.count, "0123456789._eExXabcdefABCDEFoO".unicodeScalars.contains(s[i]) || ((s[i] == "-" || s[i] == "+") && (s[i - 1] == "e" || s[i - 1] == "E")) { i += 1 }
            let t = TextUtils.dropUnderscores(String(String.UnicodeScalarView(s[start..<i])))
            if let n = Int(t) { return .int(n) }
            if t.hasPrefix("0x"), let n = Int(t.dropFirst(2), radix: 16) { return .int(n) }
            if t.count > 1 && t.hasPrefix("0") && !t.contains(".") && !t.lowercased().contains("e") { return nil }
            if let d = Double(t) { return .float(d) }
            return nil
        }
        for (word, v) in [("True", Value.bool(true)), ("False", .bool(false)), ("None", .none)] {
            let w = Array(word.unicodeScalars)
            if i + w.count <= s.count && Array(s[i..<i + w.count]) == w {
                let after = i + w.count
                if after < s.count, s[after].properties.isAlphabetic || s[after] == "_" || (s[after].value >= 48 && s[after].value <= 57) { return nil }
                i = after
                return v
            }
        }
        return nil
    }
}
