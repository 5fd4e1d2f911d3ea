import OrderedCollections

/// YAML as Salt reads and writes it.
///
/// libyaml (the C library inside Yams) parses the text into events, which are
/// built straight into `Value`s here, keeping order and line numbers; the
/// scalar resolution is ours, because Salt users rely on PyYAML's YAML 1.1
/// rules plus Salt's own twist: `yes/no/on/off` are booleans, `~` is null,
/// `1:30` is sexagesimal, and an integer written with a leading zero (`0644`)
/// is read as the decimal digits (`644`) so that file modes survive as typed.
/// (Going through Yams' node tree cost a third of rendering a large state
/// tree: a node and a tag object per scalar, and a hashed duplicate check.)
public enum YAML {
    /// Parses one YAML document. `file` names the source in error messages.
    public static func decode(_ text: String, file: String = "<string>") throws(BrineError) -> Value {
        var decoder = YAMLEventDecoder(file: file)
        return try decoder.decode(text)
    }

    /// Salt's YAML 1.1 resolution of a plain (unquoted) scalar.
    public static func resolvePlain(_ text: String) -> Value {
        if text.isEmpty { return .null }
        switch text {
        case "~", "null", "Null", "NULL": return .null
        case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": return .bool(true)
        case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .float(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .float(-.infinity)
        case ".nan", ".NaN", ".NAN": return .float(.nan)
        default: break
        }
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
            || first == UInt8(ascii: ".") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else { return .string(text) }
        if let int = resolveInt(text) { return .int(int) }
        if let float = resolveFloat(text) { return .float(float) }
        return .string(text)
    }

    /// A scalar's value: an explicit standard tag wins, quoted text is a
    /// string, plain text is resolved as Salt does.
    static func scalarValue(_ text: String, tag: String?, plain: Bool) -> Value {
        switch tag {
        case "tag:yaml.org,2002:str": return .string(text)
        case "tag:yaml.org,2002:int": return resolveInt(text).map(Value.int) ?? .string(text)
        case "tag:yaml.org,2002:float":
            return resolveFloat(text).map(Value.float) ?? resolveInt(text).map { .float(Double($0)) } ?? .string(text)
        case "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null": return resolvePlain(text)
        default: return plain ? resolvePlain(text) : .string(text)
        }
    }

    // MARK: - Scalar resolution (PyYAML's implicit resolvers, by hand)

    static func resolveInt(_ raw: String) -> Int? {
        var text = Substring(raw)
        var negative = false
        if let sign = text.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            text = text.dropFirst()
        }
        guard !text.isEmpty else { return nil }
        func signed(_ v: Int?) -> Int? { v.map { negative ? -$0 : $0 } }
        if text.hasPrefix("0b") {
            return signed(digits(text.dropFirst(2), radix: 2))
        }
        if text.hasPrefix("0x") {
            return signed(digits(text.dropFirst(2), radix: 16))
        }
        if text == "0" { return 0 }
        if text.first == "0" {
            // YAML 1.1 octal, which Salt reads as decimal digits.
            guard text.allSatisfy({ ("0"..."7").contains($0) || $0 == "_" }) else { return nil }
            let stripped = text.drop(while: { $0 == "0" || $0 == "_" })
            return signed(stripped.isEmpty ? 0 : digits(stripped, radix: 10))
        }
        if text.utf8.contains(UInt8(ascii: ":")) {
            // Sexagesimal: 1:30 == 90.
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard let head = parts.first, let first = head.first, first != "0" else { return nil }
            var total = digits(head, radix: 10) ?? -1
            guard total >= 0 else { return nil }
            for part in parts.dropFirst() {
                guard (1...2).contains(part.count), let v = Int(part), v < 60 else { return nil }
                total = total * 60 + v
            }
            return signed(total)
        }
        return signed(digits(text, radix: 10))
    }

    private static func digits(_ text: Substring, radix: Int) -> Int? {
        let cleaned = text.filter { $0 != "_" }
        guard !cleaned.isEmpty, text.first != "_" else { return nil }
        return Int(cleaned, radix: radix)
    }

    static func resolveFloat(_ raw: String) -> Double? {
        var text = Substring(raw)
        var sign = 1.0
        if let s = text.first, s == "-" || s == "+" {
            if s == "-" { sign = -1 }
            text = text.dropFirst()
        }
        guard text.utf8.contains(UInt8(ascii: ".")), let first = text.first else { return nil }
        guard first == "." || first.isASCII && first.isNumber else { return nil }
        if text.utf8.contains(UInt8(ascii: ":")) {
            // Sexagesimal float: 1:30.5
            let parts = text.split(separator: ":")
            guard let last = parts.last, let tail = Double(last.filter { $0 != "_" }) else { return nil }
            var total = 0.0
            for part in parts.dropLast() {
                guard let v = Int(part.filter { $0 != "_" }) else { return nil }
                total = total * 60 + Double(v)
            }
            return sign * (total * 60 + tail)
        }
        // [0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?  or  \.[0-9_]+([eE][-+][0-9]+)?
        var mantissa = text
        var exponent: Substring = ""
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = text[text.index(after: e)...]
            guard let s = exponent.first, s == "-" || s == "+", exponent.count > 1,
                exponent.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber })
            else { return nil }
        }
        guard mantissa.allSatisfy({ $0 == "." || $0 == "_" || ($0.isASCII && $0.isNumber) }),
            mantissa.filter({ $0 == "." }).count == 1
        else { return nil }
        if mantissa.first == "." && mantissa.count == 1 { return nil }
        let literal = mantissa.filter { $0 != "_" } + (exponent.isEmpty ? "" : "e" + exponent)
        return Double(literal).map { $0 * sign }
    }
}

// MARK: - Encoding

extension YAML {
    /// Block-style YAML as PyYAML's `safe_dump(default_flow_style=False)`
    /// writes it, which is what Salt's `yaml` outputter prints.
    public static func encode(_ value: Value) -> String {
        var out = ""
        emit(value, indent: 0, into: &out, inlineStart: true, flowLeaves: false)
        if !out.hasSuffix("\n") { out += "\n" }
        return out
    }

    /// `yaml.safe_dump(default_flow_style=None)`, Salt's `yaml` serializer:
    /// keys sorted, block style except for collections holding only
    /// scalars, which are written in flow style (`b: [1, 2]`).
    public static func encodeFlowLeaves(_ value: Value) -> String {
        var out = ""
        emit(value.sortingKeys(), indent: 0, into: &out, inlineStart: true, flowLeaves: true)
        if !out.hasSuffix("\n") { out += "\n" }
        return out
    }

    /// Block-style YAML with every mapping's keys sorted: what PyYAML's
    /// `dump(default_flow_style=False)` writes with Salt's dumper.
    /// `asciiOnly`: PyYAML's `allow_unicode=False`, non-ASCII text escaped
    /// in double quotes (`"\\xE9"`).
    public static func encodeSorted(_ value: Value, asciiOnly: Bool = false) -> String {
        var out = ""
        emit(value.sortingKeys(), indent: 0, into: &out, inlineStart: true, flowLeaves: false, asciiOnly: asciiOnly)
        if !out.hasSuffix("\n") { out += "\n" }
        return out
    }

    static func isCollection(_ value: Value) -> Bool {
        switch value {
        case .map, .list: return true
        default: return false
        }
    }

    static func isLeaf(_ value: Value) -> Bool {
        switch value {
        case .map(let m): return !m.isEmpty && !m.values.contains(where: isCollection)
        case .list(let l): return !l.isEmpty && !l.contains(where: isCollection)
        default: return false
        }
    }

    /// One line of flow-style YAML (`{a: 1, b: [x, y]}`), as PyYAML writes
    /// flow collections and Salt's `yaml` filter prints data.
    public static func encodeFlow(_ value: Value) -> String {
        switch value {
        case .map(let m):
            return "{" + m.map { encodeFlow(.string($0.key)) + ": " + encodeFlow($0.value) }.joined(separator: ", ") + "}"
        case .list(let l):
            return "[" + l.map(encodeFlow).joined(separator: ", ") + "]"
        case .string(let s):
            let plain = quoteIfNeeded(s)
            // Flow context forbids more plain scalars than block context does
            // (PyYAML quotes these too): flow indicators inside, and `?`/`:`
            // first even when a non-space follows.
            if plain == s && (s.utf8.contains(where: isFlowIndicator)
                || s.utf8.first == UInt8(ascii: "?") || s.utf8.first == UInt8(ascii: ":")) {
                return singleQuoted(s)
            }
            return plain
        default:
            return scalarText(value)
        }
    }

    private static func emit(_ value: Value, indent: Int, into out: inout String, inlineStart: Bool, flowLeaves: Bool,
                             asciiOnly: Bool = false) {
        let pad = String(repeating: " ", count: indent)
        if flowLeaves && isLeaf(value) {
            out += encodeFlow(value) + "\n"
            return
        }
        switch value {
        case .map(let m) where !m.isEmpty:
            var first = true
            for (key, child) in m {
                if !(first && inlineStart) { out += pad }
                first = false
                out += scalarText(.string(key), asciiOnly: asciiOnly) + ":"
                switch child {
                case _ where flowLeaves && isLeaf(child):
                    out += " " + encodeFlow(child) + "\n"
                case .map(let cm) where !cm.isEmpty:
                    out += "\n" + String(repeating: " ", count: indent + 2)
                    emit(child, indent: indent + 2, into: &out, inlineStart: true, flowLeaves: flowLeaves, asciiOnly: asciiOnly)
                case .list(let cl) where !cl.isEmpty:
                    out += "\n" + pad
                    emit(child, indent: indent, into: &out, inlineStart: true, flowLeaves: flowLeaves, asciiOnly: asciiOnly)
                default:
                    out += " " + scalarText(child, asciiOnly: asciiOnly) + "\n"
                }
            }
        case .list(let l) where !l.isEmpty:
            var first = true
            for child in l {
                if !(first && inlineStart) { out += pad }
                first = false
                out += "- "
                switch child {
                case .map(let cm) where !cm.isEmpty:
                    emit(child, indent: indent + 2, into: &out, inlineStart: true, flowLeaves: flowLeaves, asciiOnly: asciiOnly)
                case .list(let cl) where !cl.isEmpty:
                    emit(child, indent: indent + 2, into: &out, inlineStart: true, flowLeaves: flowLeaves, asciiOnly: asciiOnly)
                default:
                    out += scalarText(child, asciiOnly: asciiOnly) + "\n"
                }
            }
        default:
            out += scalarText(value, asciiOnly: asciiOnly) + "\n"
        }
    }

    /// A scalar, quoted when plain text would read back as something else.
    public static func scalarText(_ value: Value, asciiOnly: Bool = false) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d):
            if d.isNaN { return ".nan" }
            if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
            return Value.pythonFloat(d)
        case .string(let s): return quoteIfNeeded(s, asciiOnly: asciiOnly)
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    public static func quoteIfNeeded(_ s: String, asciiOnly: Bool = false) -> String {
        if s.isEmpty { return "''" }
        if asciiOnly && s.utf8.contains(where: { $0 >= 0x80 }) { return asciiDoubleQuoted(s) }
        let needsDouble = s.utf8.contains { $0 < 0x20 || $0 == 0x7f }
        if needsDouble { return JSON.quote(s) }
        if case .string = resolvePlain(s), isPlainSafe(s) { return s }
        return singleQuoted(s)
    }

    /// PyYAML's double-quoted style without `allow_unicode`: its escapes
    /// for the special characters, `\\xXX`/`\\uXXXX`/`\\UXXXXXXXX` (upper-case
    /// hex) for anything else that is not printable ASCII.
    static let namedEscapes: [UInt32: String] = [0: "0", 7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r", 27: "e", 34: "\"",
                                                 92: "\\", 0x85: "N", 0xA0: "_", 0x2028: "L", 0x2029: "P"]

    static func asciiDoubleQuoted(_ s: String) -> String {
        let named = namedEscapes
        var out = "\""
        for scalar in s.unicodeScalars {
            let v = scalar.value
            if let escape = named[v] {
                out += "\\" + escape
            } else if v >= 0x20 && v < 0x7F {
                out.unicodeScalars.append(scalar)
            } else {
                let hex = String(v, radix: 16, uppercase: true)
                let (prefix, width) = v <= 0xFF ? ("x", 2) : v <= 0xFFFF ? ("u", 4) : ("U", 8)
                out += "\\" + prefix + String(repeating: "0", count: max(0, width - hex.count)) + hex
            }
        }
        return out + "\""
    }

    /// `'text'` with inner quotes doubled.
    public static func singleQuoted(_ s: String) -> String {
        guard s.utf8.contains(UInt8(ascii: "'")) else { return "'" + s + "'" }
        var out = "'"
        for ch in s {
            if ch == "'" { out += "''" } else { out.append(ch) }
        }
        return out + "'"
    }

    /// Byte checks only: Foundation's `contains(_: String)` goes through
    /// NSString search, and `| yaml` of a large map calls this per scalar.
    private static func isPlainSafe(_ s: String) -> Bool {
        let bytes = s.utf8
        guard let first = bytes.first, let last = bytes.last else { return false }
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), colon = UInt8(ascii: ":"), hash = UInt8(ascii: "#")
        if first == space || first == tab || last == space || last == tab || last == colon { return false }
        if isIndicator(first) {
            // "-" alone or followed by space starts a list item; "-x" is fine.
            guard first == UInt8(ascii: "-") || first == UInt8(ascii: "?") || first == colon else { return false }
            let second = bytes.dropFirst().first
            if second == nil || second == space { return false }
        }
        var previous: UInt8 = 0
        for byte in bytes {
            if (previous == colon && byte == space) || (previous == space && byte == hash) { return false }
            previous = byte
        }
        return true
    }

    /// A byte that may not start a plain scalar.
    private static func isIndicator(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"),
             UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"),
             UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"),
             UInt8(ascii: "`"):
            return true
        default: return false
        }
    }

    /// A byte a plain scalar may not hold in flow context.
    private static func isFlowIndicator(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"): return true
        default: return false
        }
    }
}
