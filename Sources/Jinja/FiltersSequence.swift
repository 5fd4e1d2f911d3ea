import Foundation

/// Sorting with Python semantics: stable, keys compared with `<`.
func sortValues(_ items: [Value], key: (Value) throws -> Value, caseSensitive: Bool) throws -> [Value] {
    var keyed: [(Value, Int, Value)] = []
    keyed.reserveCapacity(items.count)
    for (i, v) in items.enumerated() {
        var k = try key(v)
        if !caseSensitive { k = lowerKey(k) }
        keyed.append((k, i, v))
    }
    // all keys strings (already lowered when case-insensitive)
    if let sorted = sortedStrings(items, keys: keyed.map(\.0), caseSensitive: true) { return sorted }
    var err: Error? = nil
    keyed.sort { a, b in
        if err != nil { return false }
        do {
            if try lessThan(a.0, b.0) { return true }
            if try lessThan(b.0, a.0) { return false }
            return a.1 < b.1
        } catch { err = error; return false }
    }
    if let e = err { throw e }
    return keyed.map { $0.2 }
}

/// `ignore_case`: lowercases strings (also inside multi-attribute key lists).
func lowerKey(_ v: Value) -> Value {
    switch v {
    case .string(let s): return .string(s.lowercased())
    case .markup(let s): return .markup(s.lowercased())
    case .list(let l): return .list(ListBox(l.items.map(lowerKey)))
    default: return v
    }
}

extension BuiltinFilters {
    /// `make_attrgetter`: dotted path, digits become int indexes.
    static func attrGetter(_ attribute: Value?, _ c: CallContext, default def: Value? = nil) -> (Value) throws -> Value {
        guard let attribute = attribute, !attribute.isNone else { return { $0 } }
        let parts: [Value]
        if let s = attribute.stringValue {
            parts = s.split(separator: ".", omittingEmptySubsequences: false).map { p in
                if !p.isEmpty, p.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(p) { return .int(n) }
                return .string(String(p))
            }
        } else {
            parts = [attribute]
        }
        return { item in
            var v = item
            for p in parts {
                v = try c.getitem(v, p)
                if let d = def, v.isUndefined { v = d }
            }
            return v
        }
    }

    static func multiAttrGetter(_ attribute: Value?, _ c: CallContext) -> (Value) throws -> Value {
        guard let attribute = attribute, !attribute.isNone else { return { $0 } }
        guard let s = attribute.stringValue, s.contains(",") else {
            let g = attrGetter(attribute, c)
            return { .list(ListBox([try g($0)])) }
        }
        let getters = s.split(separator: ",", omittingEmptySubsequences: false).map { attrGetter(.string(String($0)), c) }
        return { item in .list(ListBox(try getters.map { try $0(item) })) }
    }

    static let batch: FilterFunction = { v, a, _ in
        guard let n = Methods.argInt(a, 0, "linecount"), n > 0 else { throw JinjaError.value("batch size must be positive") }
        try checkResultSize(n)
        let fill = a.get(1, "fill_with").flatMap { $0.isNone ? nil : $0 }
        var out: [Value] = []
        var tmp: [Value] = []
        for item in try iterateValue(v) {
            if tmp.count == n { out.append(.list(ListBox(tmp))); tmp = [] }
            tmp.append(item)
        }
        if !tmp.isEmpty {
            if let f = fill, tmp.count < n { tmp += Array(repeating: f, count: n - tmp.count) }
            out.append(.list(ListBox(tmp)))
        }
        return .list(ListBox(out))
    }

    static let slice: FilterFunction = { v, a, _ in
        if let s = Methods.argInt(a, 0, "slices") { try checkResultSize(s) }
        guard let slices = Methods.argInt(a, 0, "slices"), slices > 0 else { throw JinjaError(.zeroDivisionError, "integer division or modulo by zero") }
        let fill = a.get(1, "fill_with").flatMap { $0.isNone ? nil : $0 }
        let seq = try iterateValue(v)
        let per = seq.count / slices
        let extra = seq.count % slices
        var offset = 0
        var out: [Value] = []
        for i in 0..<slices {
            let start = offset + i * per
            if i < extra { offset += 1 }
            let end = offset + (i + 1) * per
            var tmp = Array(seq[Swift.min(start, seq.count)..<Swift.min(end, seq.count)])
            if let f = fill, i >= extra { tmp.append(f) }
            out.append(.list(ListBox(tmp)))
        }
        return .list(ListBox(out))
    }

    static let dictsort: FilterFunction = { v, a, _ in
        guard case .dict(let d) = v else { throw JinjaError.type("dictsort requires a mapping") }
        let cs = try a.get(0, "case_sensitive")?.truthy() ?? false
        let by = a.get(1, "by")?.stringValue ?? "key"
        let reverse = try a.get(2, "reverse")?.truthy() ?? false
        guard by == "key" || by == "value" else {
            throw JinjaError(.filterArgumentError, "You can only sort by either \"key\" or \"value\"")
        }
        let pos = by == "key" ? 0 : 1
        let items: [Value] = d.pairs.map { .tuple([$0.0, $0.1]) }
        if !reverse, let sorted = sortedStrings(items, keys: pos == 0 ? d.keys : d.values, caseSensitive: cs) {
            return .list(ListBox(sorted))
        }
        var sorted = try sortValues(items, key: { item in
            guard case .tuple(let t) = item else { return item }
            return t[pos]
        }, caseSensitive: cs)
        if reverse { sorted = try reverseStable(items, sorted, pos: pos, cs: cs) }
        return .list(ListBox(sorted))
    }

    /// Python's `sorted(reverse=True)` keeps equal elements in original order.
    static func reverseStable(_ items: [Value], _ sorted: [Value], pos: Int?, cs: Bool, key: ((Value) throws -> Value)? = nil) throws -> [Value] {
        let k: (Value) throws -> Value = key ?? { item in
            guard let p = pos, case .tuple(let t) = item else { return item }
            return t[p]
        }
        var keyed: [(Value, Int, Value)] = []
        for (i, v) in items.enumerated() {
            var kv = try k(v)
            if !cs { kv = lowerKey(kv) }
            keyed.append((kv, i, v))
        }
        var err: Error? = nil
        keyed.sort { a, b in
            do {
                if try lessThan(b.0, a.0) { return true }
                if try lessThan(a.0, b.0) { return false }
                return a.1 < b.1
            } catch { err = error; return false }
        }
        if let e = err { throw e }
        return keyed.map { $0.2 }
    }

    static let sort: FilterFunction = { v, a, c in
        let reverse = try a.get(0, "reverse")?.truthy() ?? false
        let cs = try a.get(1, "case_sensitive")?.truthy() ?? false
        let attribute = a.get(2, "attribute")
        let items = try iterateValue(v)
        if !reverse, attribute == nil || attribute?.isNone == true, let sorted = sortedStrings(items, keys: items, caseSensitive: cs) {
            return .list(ListBox(sorted))
        }
        let key = multiAttrGetter(attribute, c)
        if reverse { return .list(ListBox(try reverseStable(items, [], pos: nil, cs: cs, key: key))) }
        return .list(ListBox(try sortValues(items, key: key, caseSensitive: cs)))
    }

    static let unique: FilterFunction = { v, a, c in
        let cs = try a.get(0, "case_sensitive")?.truthy() ?? false
        let getter = attrGetter(a.get(1, "attribute"), c)
        var seen: [Value] = []
        var seenKeys = Set<HashKey>()
        var out: [Value] = []
        for item in try iterateValue(v) {
            var k = try getter(item)
            if !cs { k = lowerKey(k) }
            if let hk = HashKey(k) {
                if seenKeys.insert(hk).inserted { out.append(item) }
            } else if !seen.contains(where: { valuesEqual($0, k) }) {
                seen.append(k)
                out.append(item)
            }
        }
        return .list(ListBox(out))
    }

    static func minMax(_ v: Value, _ a: Arguments, _ c: CallContext, max: Bool) throws -> Value {
        let cs = try a.get(0, "case_sensitive")?.truthy() ?? false
        let getter = attrGetter(a.get(1, "attribute"), c)
        let items = try iterateValue(v)
        guard var best = items.first else {
            return c.undefined(hint: "No aggregated item, sequence was empty.")
        }
        func key(_ x: Value) throws -> Value { let k = try getter(x); return cs ? k : lowerKey(k) }
        var bestKey = try key(best)
        for item in items.dropFirst() {
            let k = try key(item)
            if max ? try lessThan(bestKey, k) : try lessThan(k, bestKey) { best = item; bestKey = k }
        }
        return best
    }

    static let groupby: FilterFunction = { v, a, c in
        guard let attribute = a.get(0, "attribute") else { throw JinjaError.type("groupby() missing required argument 'attribute'") }
        let def = a.get(1, "default").flatMap { $0.isNone ? nil : $0 }
        let cs = try a.get(2, "case_sensitive")?.truthy() ?? false
        let getter = attrGetter(attribute, c, default: def)
        let sorted = try sortValues(try iterateValue(v), key: getter, caseSensitive: cs)
        var groups: [(Value, [Value])] = []
        for item in sorted {
            var k = try getter(item)
            if !cs { k = lowerKey(k) }
            if let last = groups.last, valuesEqual(last.0, k) {
                groups[groups.count - 1].1.append(item)
            } else {
                groups.append((k, [item]))
            }
        }
        return .list(ListBox(try groups.map { g in
            let key = cs ? g.0 : try getter(g.1[0])
            return .object(GroupTuple(grouper: key, list: g.1))
        }))
    }

    static let join: FilterFunction = { v, a, c in
        let d = a.get(0, "d") ?? .string("")
        var items = try iterateValue(v)
        if let attr = a.get(1, "attribute"), !attr.isNone {
            let g = attrGetter(attr, c)
            items = try items.map(g)
        }
        if !c.autoescape {
            return .string(try items.map { try $0.str() }.joined(separator: try d.str()))
        }
        if !d.isMarkup {
            let doEscape = items.contains { $0.isMarkup }
            if doEscape {
                return .markup(try items.map { try escapeValue($0) }.joined(separator: escapeHTML(try d.str())))
            }
            return .string(try items.map { try $0.str() }.joined(separator: try d.str()))
        }
        return .markup(try items.map { try escapeValue($0) }.joined(separator: try d.str()))
    }

    static let mapFilter: FilterFunction = { v, a, c in
        if !(try v.truthy()) { return .list([]) }
        let items = try iterateValue(v)
        if items.isEmpty { return .list([]) }
        if a.positional.isEmpty, let attr = a.keyword("attribute") {
            let def = a.keyword("default")
            for k in a.keywords where k.name != "attribute" && k.name != "default" {
                throw JinjaError(.filterArgumentError, "Unexpected keyword argument \(pyRepr(k.name))")
            }
            let g = attrGetter(attr, c, default: def)
            return .list(ListBox(try items.map(g)))
        }
        guard let name = a.positional.first?.stringValue else {
            throw JinjaError(.filterArgumentError, "map requires a filter argument")
        }
        let rest = Arguments(Array(a.positional.dropFirst()), keywords: a.keywords)
        return .list(ListBox(try items.map { try c.filter(name, $0, rest) }))
    }

    static func selectReject(_ v: Value, _ a: Arguments, _ c: CallContext, select: Bool, attr: Bool) throws -> Value {
        if !(try v.truthy()) { return .list([]) }
        let items = try iterateValue(v)
        if items.isEmpty { return .list([]) }
        var off = 0
        var trans: (Value) throws -> Value = { $0 }
        if attr {
            guard let at = a.positional.first else { throw JinjaError(.filterArgumentError, "Missing parameter for attribute name") }
            trans = attrGetter(at, c)
            off = 1
        }
        let test: (Value) throws -> Bool
        if a.positional.count > off, let name = a.positional[off].stringValue {
            let rest = Arguments(Array(a.positional.dropFirst(off + 1)), keywords: a.keywords)
            test = { try c.test(name, $0, rest) }
        } else {
            test = { try $0.truthy() }
        }
        var out: [Value] = []
        for item in items where try test(try trans(item)) == select { out.append(item) }
        return .list(ListBox(out))
    }

    static let sum: FilterFunction = { v, a, c in
        var items = try iterateValue(v)
        if let attr = a.get(0, "attribute"), !attr.isNone {
            let g = attrGetter(attr, c)
            items = try items.map(g)
        }
        var total = a.get(1, "start") ?? .int(0)
        for i in items { total = try binop(.add, total, i) }
        return total
    }

    static let urlizeFilter: FilterFunction = { v, a, c in
        let pol = c.environment.policies
        let trim = Methods.argInt(a, 0, "trim_url_limit")
        let nofollow = try a.get(1, "nofollow")?.truthy() ?? false
        var target = a.get(2, "target").flatMap { $0.isNone ? nil : $0.stringValue }
        let rel = a.get(3, "rel").flatMap { $0.isNone ? nil : $0.stringValue }
        var relParts = Set((rel ?? "").split(separator: " ").map(String.init))
        if nofollow { relParts.insert("nofollow") }
        if let pr = pol["urlize.rel"]?.stringValue { relParts.formUnion(pr.split(separator: " ").map(String.init)) }
        let relStr = relParts.sorted().joined(separator: " ")
        if target == nil { target = pol["urlize.target"]?.stringValue }
        var schemes: [String] = []
        if let es = a.get(4, "extra_schemes"), !es.isNone { schemes = try iterateValue(es).compactMap { $0.stringValue } }
        else if let es = pol["urlize.extra_schemes"], !es.isNone { schemes = try iterateValue(es).compactMap { $0.stringValue } }
        let schemeRe = try NSRegularExpression(pattern: "^([\\w.+-]{2,}:(/){0,2})$")
        for s in schemes where schemeRe.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) == nil {
            throw JinjaError(.filterArgumentError, "\(pyRepr(s)) is not a valid URI scheme prefix.")
        }
        let rv = try urlize(try v.str(), trim: trim, rel: relStr.isEmpty ? nil : relStr, target: target, extraSchemes: schemes.isEmpty ? nil : schemes)
        return c.autoescape ? .markup(rv) : .string(rv)
    }
}

/// `groupby` result: a 2-tuple with `.grouper` and `.list`.
final class GroupTuple: JinjaObject, IterableObject, LengthObject, @unchecked Sendable {
    let grouper: Value
    let list: [Value]
    init(grouper: Value, list: [Value]) { self.grouper = grouper; self.list = list }
    var typeName: String { "tuple" }
    var iterItems: [Value] { [grouper, .list(ListBox(list))] }
    var length: Int { 2 }
    func attribute(_ name: String, _ ctx: CallContext) throws -> Value? {
        switch name {
        case "grouper": return grouper
        case "list": return .list(ListBox(list))
        default: return nil
        }
    }
    func str(_ ctx: CallContext?) throws -> String { try Value.tuple(iterItems).repr() }
}

private let httpRe = try? NSRegularExpression(pattern: """
^(((https?://|www\\.)(([\\w%-]+\\.)+)?([a-z]{2,63}|xn--[\\w%]{2,59})|([\\w%-]{2,63}\\.)+(com|net|int|edu|gov|org|info|mil)|(https?://)((([\\d]{1,3})(\\.[\\d]{1,3}){3})|(\\[([\\da-f]{0,4}:){2}([\\da-f]{0,4}:?){1,6}])))(?::[\\d]{1,5})?(?:[/?#]\\S*)?)$
""", options: [.caseInsensitive])
private let emailRe = try? NSRegularExpression(pattern: "^\\S+@\\w[\\w.-]*\\.\\w+$")

func reMatch(_ re: NSRegularExpression?, _ s: String) -> Bool {
    guard let re = re else { return false }
    return re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
}

/// jinja2.utils.urlize.
func urlize(_ text: String, trim: Int?, rel: String?, target: String?, extraSchemes: [String]?) throws -> String {
    func trimURL(_ x: String) -> String {
        guard let t = trim, x.count > t else { return x }
        return String(x.prefix(t)) + "..."
    }
    let escaped = escapeHTML(text)
    // split keeping whitespace runs
    var words: [String] = []
    var cur = ""
    var curWS: Bool? = nil
    for ch in escaped {
        let ws = ch.isWhitespace
        if curWS != nil && curWS != ws { words.append(cur); cur = "" }
        curWS = ws
        cur.append(ch)
    }
    if !cur.isEmpty { words.append(cur) }
    let relAttr = rel.map { " rel=\"\(escapeHTML($0))\"" } ?? ""
    let targetAttr = target.map { " target=\"\(escapeHTML($0))\"" } ?? ""
    for (i, word) in words.enumerated() where !(word.first?.isWhitespace ?? true) {
        var head = "", middle = word, tail = ""
        while true {
            if middle.hasPrefix("(") || middle.hasPrefix("<") { head.append(middle.removeFirst()) }
            else if middle.hasPrefix("&lt;") { head += "&lt;"; middle.removeFirst(4) }
            else { break }
        }
        while true {
            if let l = middle.last, ")>.,\n".contains(l) { tail = String(l) + tail; middle.removeLast() }
            else if middle.hasSuffix("&gt;") { tail = "&gt;" + tail; middle.removeLast(4) }
            else { break }
        }
        for (sc, ec) in [("(", ")"), ("<", ">"), ("&lt;", "&gt;")] {
            let startCount = TextUtils.count(middle, sc)
            if startCount <= TextUtils.count(middle, ec) { continue }
            let n = min(startCount, TextUtils.count(tail, ec))
            for _ in 0..<n {
                guard let r = tail.range(of: ec) else { break }
                middle += tail[..<r.upperBound]
                tail = String(tail[r.upperBound...])
            }
        }
        if reMatch(httpRe, middle) {
            if middle.hasPrefix("https://") || middle.hasPrefix("http://") {
                middle = "<a href=\"\(middle)\"\(relAttr)\(targetAttr)>\(trimURL(middle))</a>"
            } else {
                middle = "<a href=\"https://\(middle)\"\(relAttr)\(targetAttr)>\(trimURL(middle))</a>"
            }
        } else if middle.hasPrefix("mailto:") && reMatch(emailRe, String(middle.dropFirst(7))) {
            middle = "<a href=\"\(middle)\">\(middle.dropFirst(7))</a>"
        } else if middle.contains("@") && !middle.hasPrefix("www.") && !middle.hasPrefix("@") && !middle.contains(":") && reMatch(emailRe, middle) {
            middle = "<a href=\"mailto:\(middle)\">\(middle)</a>"
        } else if let schemes = extraSchemes {
            for s in schemes where middle != s && middle.hasPrefix(s) {
                middle = "<a href=\"\(middle)\"\(relAttr)\(targetAttr)>\(middle)</a>"
            }
        }
        words[i] = head + middle + tail
    }
    return words.joined()
}

/// Python's `json.dumps` (ensure_ascii, optional indent and sort_keys).
func jsonDumps(_ v: Value, indent: Int?, sortKeys: Bool, htmlSafe: Bool = false, level: Int = 0) throws -> String {
    var w = JSONWriter(indent: indent, sortKeys: sortKeys, htmlSafe: htmlSafe)
    try w.write(v, level: level)
    return String(decoding: w.out, as: UTF8.self)
}

/// Python's `json.dumps` (ensure_ascii, Jinja2's `htmlsafe_json_dumps`
/// escapes when `htmlSafe`) written as bytes into one buffer.
struct JSONWriter {
    let indent: Int?
    let sortKeys: Bool
    let htmlSafe: Bool
    var out: [UInt8] = []

    init(indent: Int?, sortKeys: Bool, htmlSafe: Bool) {
        self.indent = indent
        self.sortKeys = sortKeys
        self.htmlSafe = htmlSafe
        out.reserveCapacity(32)
    }

    mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    mutating func append(_ s: String) { out.appendUTF8(s) }

    /// Newline and indentation before an item (indented output only).
    mutating func newline(_ level: Int) {
        guard let indent else { return }
        out.append(10)
        out.append(contentsOf: repeatElement(UInt8(32), count: indent * level))
    }

    mutating func separator() {
        if indent == nil { append(", ") } else { out.append(44) }
    }

    mutating func hex4(_ v: UInt32) {
        let digits: StaticString = "0123456789abcdef"
        append("\\u")
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(digits.utf8Start[Int((v >> UInt32(shift)) & 0xf)])
        }
    }

    mutating func string(_ s: String) {
        out.append(34)
        var copy = s
        copy.withUTF8 { bytes in
            var i = 0
            var run = 0
            while i < bytes.count {
                let b = bytes[i]
                let plain = b >= 0x20 && b < 0x7f && b != 34 && b != 92
                    && !(htmlSafe && (b == 60 || b == 62 || b == 38 || b == 39))
                if plain { i += 1; continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                if b < 0x80 {
                    switch b {
                    case 34: append("\\\"")
                    case 92: append("\\\\")
                    case 10: append("\\n")
                    case 13: append("\\r")
                    case 9: append("\\t")
                    case 8: append("\\b")
                    case 12: append("\\f")
                    default: hex4(UInt32(b))
                    }
                    i += 1
                } else {
                    // a whole scalar from its (valid) UTF-8 sequence
                    let n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
                    var scalar = UInt32(b) & (n == 4 ? 0x07 : n == 3 ? 0x0F : 0x1F)
                    for k in 1..<n { scalar = scalar << 6 | UInt32(bytes[i + k] & 0x3F) }
                    if scalar > 0xFFFF {
                        let v = scalar - 0x10000
                        hex4(0xD800 + (v >> 10))
                        hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        hex4(scalar)
                    }
                    i += n
                }
                run = i
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<bytes.count]))
        }
        out.append(34)
    }

    mutating func write(_ v: Value, level: Int) throws {
        switch v {
        case .none: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let i): append(TextUtils.decimal(i))
        case .float(let d):
            if d.isNaN { append("NaN") }
            else if d.isInfinite { append(d < 0 ? "-Infinity" : "Infinity") }
            else { append(formatFloat(d)) }
        case .string(let s), .markup(let s): string(s)
        case .list, .tuple:
            let items = try iterateValue(v)
            if items.isEmpty { append("[]"); return }
            out.append(91)
            for (i, item) in items.enumerated() {
                if i > 0 { separator() }
                newline(level + 1)
                try write(item, level: level + 1)
            }
            newline(level)
            out.append(93)
        case .dict(let d):
            if d.isEmpty { append("{}"); return }
            var pairs = try d.pairs.map { (k, val) -> (String, Value) in
                switch k {
                case .string(let s), .markup(let s): return (s, val)
                case .int, .float, .bool, .none: return (try jsonDumps(k, indent: nil, sortKeys: false), val)
                default: throw JinjaError.type("keys must be str, int, float, bool or None, not \(k.typeName)")
                }
            }
            // UTF-8 byte order is code point order, Python's string order
            if sortKeys { pairs.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) } }
            out.append(123)
            for (i, (k, val)) in pairs.enumerated() {
                if i > 0 { separator() }
                newline(level + 1)
                string(k)
                append(": ")
                try write(val, level: level + 1)
            }
            newline(level)
            out.append(125)
        case .undefined(let u): throw JinjaError.type("Object of type \(u.kind == .strict ? "StrictUndefined" : "Undefined") is not JSON serializable")
        case .object(let o):
            if let it = o as? IterableObject { return try write(.tuple(it.iterItems), level: level) }
            throw JinjaError.type("Object of type \(o.typeName) is not JSON serializable")
        case .function: throw JinjaError.type("Object of type function is not JSON serializable")
        }
    }
}

/// `pprint.pformat`: repr with dict keys sorted, wrapped at 80 columns.
func pformat(_ v: Value, indent: Int = 0) throws -> String {
    let flat = try pprintRepr(v)
    if flat.count + indent <= 80 { return flat }
    switch v {
    case .list(let l) where !l.items.isEmpty:
        return "[" + (try l.items.map { try pformat($0, indent: indent + 1) }).joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
    case .tuple(let t) where t.count > 1:
        return "(" + (try t.map { try pformat($0, indent: indent + 1) }).joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + ")"
    case .dict(let d) where !d.isEmpty:
        let pairs = try sortedPairs(d)
        return "{" + (try pairs.map { k, val in
            let kr = try pprintRepr(k)
            return kr + ": " + (try pformat(val, indent: indent + 1 + kr.count + 2))
        }).joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "}"
    default: return flat
    }
}

func sortedPairs(_ d: DictBox) throws -> [(Value, Value)] {
    var pairs = d.pairs
    var failed = false
    pairs.sort { a, b in (try? lessThan(a.0, b.0)) ?? { failed = true; return false }() }
    return failed ? d.pairs : pairs
}

func pprintRepr(_ v: Value) throws -> String {
    switch v {
    case .list(let l): return "[" + (try l.items.map(pprintRepr)).joined(separator: ", ") + "]"
    case .tuple(let t):
        if t.count == 1 { return "(\(try pprintRepr(t[0])),)" }
        return "(" + (try t.map(pprintRepr)).joined(separator: ", ") + ")"
    case .dict(let d):
        return "{" + (try sortedPairs(d).map { "\(try pprintRepr($0.0)): \(try pprintRepr($0.1))" }).joined(separator: ", ") + "}"
    default: return try v.repr()
    }
}

/// `items` ordered by `keys` (one each) when all keys are strings (`|sort`,
/// `|dictsort` of the usual kind): compared as UTF-8 bytes (Python's code
/// point order), ties kept in input order. Nil when some key is not a string.
func sortedStrings(_ items: [Value], keys: [Value], caseSensitive: Bool) -> [Value]? {
    var strings: [String] = []
    strings.reserveCapacity(keys.count)
    for key in keys {
        guard let s = key.stringValue else { return nil }
        strings.append(caseSensitive ? s : s.lowercased())
    }
    let order = strings.indices.sorted { i, j in
        let c = TextUtils.utf8Compare(strings[i], strings[j])
        return c != 0 ? c < 0 : i < j
    }
    return order.map { items[$0] }
}
