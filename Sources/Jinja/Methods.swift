import Foundation

/// The Python methods templates call on built-in values
/// (`s.split(',')`, `d.items()`, `l.append(x)`, …).
enum Methods {
    static let stringMethods: Set<String> = [
        "split", "rsplit", "strip", "lstrip", "rstrip", "startswith", "endswith", "replace", "upper",
        "lower", "title", "capitalize", "format", "join", "find", "rfind", "index", "rindex", "count",
        "splitlines", "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper", "istitle",
        "isnumeric", "isdecimal", "isidentifier", "center", "ljust", "rjust", "zfill", "partition", "rpartition",
        "swapcase", "casefold", "format_map", "expandtabs", "removeprefix", "removesuffix", "encode",
    ]
    static let markupExtra: Set<String> = ["striptags", "unescape"]
    static let listMethods: Set<String> = ["append", "extend", "insert", "pop", "remove", "index", "count", "copy", "reverse", "sort", "clear"]
    static let tupleMethods: Set<String> = ["index", "count"]
    static let dictMethods: Set<String> = ["items", "keys", "values", "get", "update", "pop", "setdefault", "copy", "clear", "popitem"]

    static func has(_ v: Value, _ name: String) -> Bool {
        switch v {
        case .string: return stringMethods.contains(name)
        case .markup: return stringMethods.contains(name) || markupExtra.contains(name)
        case .list: return listMethods.contains(name)
        case .tuple: return tupleMethods.contains(name)
        case .dict: return isDictMethod(name)
        default: return false
        }
    }

    /// Attribute access on dicts is the hottest path (`pillar.nginx.port`);
    /// comparing against the ten method names beats hashing the name.
    @inline(__always) static func isDictMethod(_ name: String) -> Bool {
        switch name.utf8.count {
        case 3: return name == "get" || name == "pop"
        case 4: return name == "keys" || name == "copy"
        case 5: return name == "items" || name == "clear"
        case 6: return name == "values" || name == "update"
        case 7: return name == "popitem"
        case 10: return name == "setdefault"
        default: return false
        }
    }

    /// Non-callable attributes of built-in values.
    static func property(_ v: Value, _ name: String) -> Value? {
        if name == "__class__" { return .object(PyType(v.typeName)) }
        switch (v, name) {
        case (.int, "real"), (.float, "real"): return v
        case (.int, "imag"): return .int(0)
        case (.float, "imag"): return .float(0)
        case (.int, "numerator"): return v
        case (.int, "denominator"): return .int(1)
        default: return nil
        }
    }

    static func call(_ v: Value, _ name: String, _ args: Arguments, _ ctx: CallContext) throws -> Value {
        switch v {
        case .string(let s): return try stringMethod(s, name, args, ctx, markup: false)
        case .markup(let s): return try stringMethod(s, name, args, ctx, markup: true)
        case .list(let l): return try listMethod(l, name, args)
        case .tuple(let t): return try seqMethod(t, name, args, typeName: "tuple")
        case .dict(let d): return try dictMethod(d, name, args)
        default: throw JinjaError(.attributeError, "'\(v.typeName)' object has no attribute '\(name)'")
        }
    }

    static func argString(_ args: Arguments, _ i: Int, _ name: String) throws -> String? {
        guard let v = args.get(i, name) else { return nil }
        if case .none = v { return nil }
        guard let s = v.stringValue else { throw JinjaError.type("must be str or None, not \(v.typeName)") }
        return s
    }

    static func argInt(_ args: Arguments, _ i: Int, _ name: String) -> Int? {
        guard let v = args.get(i, name) else { return nil }
        switch v {
        case .int(let n): return n
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    static func isPyWhitespace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 9...13, 28...32, 0x85, 0xa0, 0x1680, 0x2000...0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000: return true
        default: return false
        }
    }

    static func strip(_ s: String, _ chars: String?, left: Bool, right: Bool) -> String {
        var sc = Array(s.unicodeScalars)[...]
        let set = chars.map { Set($0.unicodeScalars) }
        func strippable(_ u: Unicode.Scalar) -> Bool { set.map { $0.contains(u) } ?? isPyWhitespace(u) }
        if left { while let f = sc.first, strippable(f) { sc.removeFirst() } }
        if right { while let l = sc.last, strippable(l) { sc.removeLast() } }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: sc)
        return String(out)
    }

    static func split(_ s: String, _ sep: String?, _ maxsplit: Int) throws -> [String] {
        if let sep = sep {
            if sep.isEmpty { throw JinjaError.value("empty separator") }
            var parts: [String] = []
            var rest = Substring(s)
            while maxsplit < 0 || parts.count < maxsplit, let r = rest.range(of: sep) {
                parts.append(String(rest[..<r.lowerBound]))
                rest = rest[r.upperBound...]
            }
            parts.append(String(rest))
            return parts
        }
        var parts: [String] = []
        var cur = String.UnicodeScalarView()
        var inWord = false
        let sc = Array(s.unicodeScalars)
        var i = 0
        while i < sc.count {
            let u = sc[i]
            if isPyWhitespace(u) {
                if inWord { parts.append(String(cur)); cur = String.UnicodeScalarView(); inWord = false }
            } else {
                if !inWord && maxsplit >= 0 && parts.count >= maxsplit {
                    var tail = String.UnicodeScalarView()
                    tail.append(contentsOf: sc[i...])
                    parts.append(strip(String(tail), nil, left: false, right: true))
                    return parts
                }
                inWord = true
                cur.append(u)
            }
            i += 1
        }
        if inWord { parts.append(String(cur)) }
        return parts
    }

    static func rsplit(_ s: String, _ sep: String?, _ maxsplit: Int) throws -> [String] {
        if maxsplit < 0 { return try split(s, sep, -1) }
        if let sep = sep {
            if sep.isEmpty { throw JinjaError.value("empty separator") }
            var parts: [String] = []
            var rest = Substring(s)
            while parts.count < maxsplit, let r = rest.range(of: sep, options: .backwards) {
                parts.insert(String(rest[r.upperBound...]), at: 0)
                rest = rest[..<r.lowerBound]
            }
            parts.insert(String(rest), at: 0)
            return parts
        }
        let rev = String(String.UnicodeScalarView(s.unicodeScalars.reversed()))
        return try split(rev, nil, maxsplit).map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }.reversed()
    }

    static func pyTitle(_ s: String) -> String {
        var out = ""
        var prevCased = false
        for c in s {
            if c.isLetter {
                out += prevCased ? c.lowercased() : String(c.unicodeScalars.map { $0.properties.titlecaseMapping }.joined())
                prevCased = true
            } else {
                out.append(c)
                prevCased = false
            }
        }
        return out
    }

    /// Python 3.8+ `str.capitalize`: title-case the first code point, lower the rest.
    static func pyCapitalize(_ s: String) -> String {
        guard let f = s.unicodeScalars.first else { return s }
        var rest = String.UnicodeScalarView()
        rest.append(contentsOf: s.unicodeScalars.dropFirst())
        return f.properties.titlecaseMapping + String(rest).lowercased()
    }

    static func find(_ s: String, _ sub: String, reverse: Bool) -> Int {
        if sub.isEmpty { return reverse ? s.unicodeScalars.count : 0 }
        guard let r = s.range(of: sub, options: reverse ? [.backwards, .literal] : [.literal]) else { return -1 }
        return s.unicodeScalars.distance(from: s.unicodeScalars.startIndex, to: r.lowerBound)
    }

    static func stringMethod(_ s: String, _ name: String, _ args: Arguments, _ ctx: CallContext, markup: Bool) throws -> Value {
        func wrap(_ r: String) -> Value { markup ? .markup(r) : .string(r) }
        /// Markup methods escape plain-string arguments.
        func arg(_ i: Int, _ n: String) throws -> String? {
            guard let v = args.get(i, n) else { return nil }
            if case .none = v { return nil }
            guard let str = v.stringValue else { throw JinjaError.type("must be str, not \(v.typeName)") }
            return markup && !v.isMarkup ? escapeHTML(str) : str
        }
        switch name {
        case "upper": return wrap(s.uppercased())
        case "lower", "casefold": return wrap(s.lowercased())
        case "title": return wrap(pyTitle(s))
        case "capitalize": return wrap(pyCapitalize(s))
        case "swapcase":
            return wrap(String(s.map { c -> String in c.isUppercase ? c.lowercased() : c.uppercased() }.joined()))
        case "strip": return wrap(strip(s, try arg(0, "chars"), left: true, right: true))
        case "lstrip": return wrap(strip(s, try arg(0, "chars"), left: true, right: false))
        case "rstrip": return wrap(strip(s, try arg(0, "chars"), left: false, right: true))
        case "split", "rsplit":
            let sep = try arg(0, "sep")
            let maxsplit = argInt(args, 1, "maxsplit") ?? -1
            let parts = name == "split" ? try split(s, sep, maxsplit) : try rsplit(s, sep, maxsplit)
            return .list(ListBox(parts.map(wrap)))
        case "splitlines":
            let keep = try args.get(0, "keepends")?.truthy() ?? false
            let lines = pySplitlines(s, keepends: keep)
            return .list(ListBox(lines.map(wrap)))
        case "startswith", "endswith":
            guard let p = args.get(0, "prefix") else { throw JinjaError.type("\(name)() takes at least 1 argument (0 given)") }
            let cands: [Value]
            if case .tuple(let t) = p { cands = t } else { cands = [p] }
            for c in cands {
                guard let cs = c.stringValue else { throw JinjaError.type("\(name) first arg must be str or a tuple of str, not \(c.typeName)") }
                if name == "startswith" ? s.unicodeScalars.starts(with: cs.unicodeScalars) : s.unicodeScalars.reversed().starts(with: cs.unicodeScalars.reversed()) { return .bool(true) }
            }
            return .bool(false)
        case "replace":
            guard let old = try arg(0, "old"), let new = try arg(1, "new") else { throw JinjaError.type("replace expected at least 2 arguments") }
            let count = argInt(args, 2, "count") ?? -1
            return wrap(pyReplace(s, old, new, count))
        case "find", "rfind", "index", "rindex":
            guard let sub = try arg(0, "sub") else { throw JinjaError.type("\(name) expected at least 1 argument") }
            let r = find(s, sub, reverse: name.hasPrefix("r"))
            if r < 0 && name.hasSuffix("index") { throw JinjaError.value("substring not found") }
            return .int(r)
        case "count":
            guard let sub = try arg(0, "sub") else { throw JinjaError.type("count expected at least 1 argument") }
            if sub.isEmpty { return .int(s.unicodeScalars.count + 1) }
            return .int(TextUtils.count(s, sub))
        case "join":
            let items = try iterateValue(args.get(0, "iterable") ?? .list([]))
            var parts: [String] = []
            for it in items {
                guard let str = it.stringValue else {
                    throw JinjaError.type("sequence item \(parts.count): expected str instance, \(it.typeName) found")
                }
                parts.append(markup && !it.isMarkup ? escapeHTML(str) : str)
            }
            return wrap(parts.joined(separator: s))
        case "format", "format_map":
            if name == "format_map", case .dict(let d)? = args.positional.first {
                return try stringMethod(s, "format", Arguments([], keywords: try d.pairs.map { (try $0.0.str(), $0.1) }), ctx, markup: markup)
            }
            if markup {
                var escaped = args
                escaped.positional = args.positional.map { $0.isString && !$0.isMarkup ? .markup(escapeHTML($0.stringValue ?? "")) : $0 }
                escaped.keywords = args.keywords.map { ($0.name, $0.value.isString && !$0.value.isMarkup ? .markup(escapeHTML($0.value.stringValue ?? "")) : $0.value) }
                return .markup(try strFormat(s, escaped, ctx))
            }
            if name == "format_map", case .dict(let d)? = args.positional.first {
                return .string(try strFormat(s, Arguments([], keywords: try d.pairs.map { (try $0.0.str(), $0.1) }), ctx))
            }
            return .string(try strFormat(s, args, ctx))
        case "center", "ljust", "rjust":
            let width = argInt(args, 0, "width") ?? 0
            try checkResultSize(width)
            let fill = try argString(args, 1, "fillchar") ?? " "
            let n = s.unicodeScalars.count
            if width <= n { return wrap(s) }
            let pad = width - n
            switch name {
            case "ljust": return wrap(s + String(repeating: fill, count: pad))
            case "rjust": return wrap(String(repeating: fill, count: pad) + s)
            default:
                let left = pad / 2 + (pad & width & 1)
                return wrap(String(repeating: fill, count: left) + s + String(repeating: fill, count: pad - left))
            }
        case "zfill":
            let width = argInt(args, 0, "width") ?? 0
            try checkResultSize(width)
            var body = s
            var sign = ""
            if let f = body.first, f == "-" || f == "+" { sign = String(f); body.removeFirst() }
            let pad = max(0, width - s.unicodeScalars.count)
            return wrap(sign + String(repeating: "0", count: pad) + body)
        case "partition", "rpartition":
            guard let sep = try arg(0, "sep") else { throw JinjaError.type("partition expected 1 argument") }
            if let r = s.range(of: sep, options: name == "rpartition" ? .backwards : []) {
                return .tuple([wrap(String(s[..<r.lowerBound])), wrap(sep), wrap(String(s[r.upperBound...]))])
            }
            return name == "partition" ? .tuple([wrap(s), wrap(""), wrap("")]) : .tuple([wrap(""), wrap(""), wrap(s)])
        case "removeprefix":
            let p = try arg(0, "prefix") ?? ""
            return wrap(s.hasPrefix(p) ? String(s.dropFirst(p.count)) : s)
        case "removesuffix":
            let p = try arg(0, "suffix") ?? ""
            return wrap(!p.isEmpty && s.hasSuffix(p) ? String(s.dropLast(p.count)) : s)
        case "expandtabs":
            let size = argInt(args, 0, "tabsize") ?? 8
            try checkResultSize(size, unit: s.utf8.count)
            var out = ""
            var col = 0
            for c in s {
                if c == "\t" {
                    let n = size > 0 ? size - col % size : 0
                    out += String(repeating: " ", count: n); col += n
                } else if c == "\n" || c == "\r" { out.append(c); col = 0 } else { out.append(c); col += 1 }
            }
            return wrap(out)
        case "isdigit", "isnumeric", "isdecimal":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
        case "isalpha": return .bool(!s.isEmpty && s.allSatisfy { $0.isLetter })
        case "isalnum": return .bool(!s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber })
        case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(isPyWhitespace))
        case "islower": return .bool(s.contains { $0.isCased } && !s.contains { $0.isUppercase })
        case "isupper": return .bool(s.contains { $0.isCased } && !s.contains { $0.isLowercase })
        case "istitle": return .bool(!s.isEmpty && pyTitle(s) == s && s.contains { $0.isCased })
        case "isidentifier":
            guard let f = s.unicodeScalars.first, f == "_" || f.properties.isAlphabetic else { return .bool(false) }
            return .bool(s.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "encode": return .string(s)
        case "striptags": return .string(stripTags(s))
        case "unescape": return .string(unescapeHTML(s))
        default:
            throw JinjaError(.attributeError, "'str' object has no attribute '\(name)'")
        }
    }

    static func pyReplace(_ s: String, _ old: String, _ new: String, _ count: Int) -> String {
        if count < 0 {
            if old.isEmpty {
                var out = new
                for c in s.unicodeScalars { out.unicodeScalars.append(c); out += new }
                return out
            }
            return TextUtils.replace(s, old, new)
        }
        if !old.isEmpty { return TextUtils.replace(s, old, new, count: count) }
        var n = 0
        var res = ""
        var it = s.unicodeScalars.makeIterator()
        while n < count { res += new; n += 1; if let c = it.next() { res.unicodeScalars.append(c) } else { return res } }
        while let c = it.next() { res.unicodeScalars.append(c) }
        return res
    }

    static func seqMethod(_ items: [Value], _ name: String, _ args: Arguments, typeName: String) throws -> Value {
        switch name {
        case "index":
            guard let x = args.positional.first else { throw JinjaError.type("index expected at least 1 argument") }
            if let i = items.firstIndex(where: { valuesEqual($0, x) }) { return .int(i) }
            throw JinjaError.value("\(typeName).index(x): x not in \(typeName)")
        case "count":
            guard let x = args.positional.first else { throw JinjaError.type("count expected 1 argument") }
            return .int(items.filter { valuesEqual($0, x) }.count)
        default:
            throw JinjaError(.attributeError, "'\(typeName)' object has no attribute '\(name)'")
        }
    }

    static func listMethod(_ l: ListBox, _ name: String, _ args: Arguments) throws -> Value {
        switch name {
        case "append":
            guard let x = args.positional.first else { throw JinjaError.type("append() takes exactly one argument (0 given)") }
            l.items.append(x)
            return .none
        case "extend":
            guard let x = args.positional.first else { throw JinjaError.type("extend() takes exactly one argument (0 given)") }
            l.items.append(contentsOf: try iterateValue(x))
            return .none
        case "insert":
            guard args.positional.count == 2, case .int(var i) = args.positional[0] else { throw JinjaError.type("insert expected 2 arguments") }
            if i < 0 { i = max(0, i + l.items.count) }
            l.items.insert(args.positional[1], at: min(i, l.items.count))
            return .none
        case "pop":
            if l.items.isEmpty { throw JinjaError(.indexError, "pop from empty list") }
            var i = argInt(args, 0, "index") ?? -1
            if i < 0 { i += l.items.count }
            guard i >= 0 && i < l.items.count else { throw JinjaError(.indexError, "pop index out of range") }
            return l.items.remove(at: i)
        case "remove":
            guard let x = args.positional.first, let i = l.items.firstIndex(where: { valuesEqual($0, x) }) else {
                throw JinjaError.value("list.remove(x): x not in list")
            }
            l.items.remove(at: i)
            return .none
        case "copy": return .list(ListBox(l.items))
        case "reverse": l.items.reverse(); return .none
        case "clear": l.items.removeAll(); return .none
        case "sort":
            let rev = try args.keyword("reverse")?.truthy() ?? false
            l.items = try sortValues(l.items, key: { $0 }, caseSensitive: true)
            if rev { l.items.reverse() }
            return .none
        default:
            return try seqMethod(l.items, name, args, typeName: "list")
        }
    }

    static func dictMethod(_ d: DictBox, _ name: String, _ args: Arguments) throws -> Value {
        switch name {
        case "items": return .object(DictView(kind: "dict_items", d.pairs.map { .tuple([$0.0, $0.1]) }))
        case "keys": return .object(DictView(kind: "dict_keys", d.keys))
        case "values": return .object(DictView(kind: "dict_values", d.values))
        case "get":
            guard let k = args.get(0, "key") else { throw JinjaError.type("get expected at least 1 argument, got 0") }
            return d[k] ?? args.get(1, "default") ?? .none
        case "update":
            if let other = args.positional.first {
                switch other {
                case .dict(let o): for (k, v) in o.pairs { d[k] = v }
                default:
                    for item in try iterateValue(other) {
                        let kv = try iterateValue(item)
                        guard kv.count == 2 else { throw JinjaError.value("dictionary update sequence element has length \(kv.count); 2 is required") }
                        d[kv[0]] = kv[1]
                    }
                }
            }
            for (k, v) in args.keywords { d[.string(k)] = v }
            return .none
        case "pop":
            guard let k = args.positional.first else { throw JinjaError.type("pop expected at least 1 argument, got 0") }
            if let v = d[k] { d[k] = nil; return v }
            if args.positional.count > 1 { return args.positional[1] }
            throw JinjaError(.keyError, (try? k.repr()) ?? "")
        case "popitem":
            guard let k = d.keys.last, let v = d[k] else { throw JinjaError(.keyError, "popitem(): dictionary is empty") }
            d[k] = nil
            return .tuple([k, v])
        case "setdefault":
            guard let k = args.positional.first else { throw JinjaError.type("setdefault expected at least 1 argument") }
            if let v = d[k] { return v }
            let v = args.positional.count > 1 ? args.positional[1] : .none
            d[k] = v
            return v
        case "copy": return .dict(d.copy())
        case "clear": d.removeAll(); return .none
        default: throw JinjaError(.attributeError, "'dict' object has no attribute '\(name)'")
        }
    }
}

/// Removes SGML/XML tags and collapses whitespace (markupsafe `striptags`).
func stripTags(_ s: String) -> String {
    var text = s
    // remove comments
    while let r = text.range(of: "<!--") {
        if let e = text.range(of: "-->", range: r.upperBound..<text.endIndex) {
            text.removeSubrange(r.lowerBound..<e.upperBound)
        } else { break }
    }
    var out = ""
    var inTag = false
    var it = Array(text)
    var i = 0
    while i < it.count {
        let c = it[i]
        if !inTag && c == "<" {
            if let close = it[(i + 1)...].firstIndex(of: ">") {
                inTag = true
                i = close
                inTag = false
                i += 1
                continue
            }
        }
        out.append(c)
        i += 1
    }
    it = []
    let words = out.split(whereSeparator: { $0.isWhitespace })
    return unescapeHTML(words.joined(separator: " "))
}

/// Reverses HTML entity escaping (the common named and numeric entities).
func unescapeHTML(_ s: String) -> String {
    guard s.contains("&") else { return s }
    let named: [String: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{a0}"]
    var out = ""
    var i = s.startIndex
    while i < s.endIndex {
        if s[i] == "&", let semi = s[i...].firstIndex(of: ";"), s.distance(from: i, to: semi) <= 10 {
            let ent = String(s[s.index(after: i)..<semi])
            if let r = named[ent] { out += r; i = s.index(after: semi); continue }
            if ent.hasPrefix("#") {
                let num = ent.dropFirst()
                let v = num.hasPrefix("x") || num.hasPrefix("X") ? UInt32(num.dropFirst(), radix: 16) : UInt32(num)
                if let v = v, let u = Unicode.Scalar(v) { out.unicodeScalars.append(u); i = s.index(after: semi); continue }
            }
        }
        out.append(s[i])
        i = s.index(after: i)
    }
    return out
}

/// Python `str.splitlines`.
func pySplitlines(_ s: String, keepends keep: Bool) -> [String] {
    var lines: [String] = []
    var cur = ""
    var it = Array(s.unicodeScalars)[...]
    while let u = it.popFirst() {
        if u == "\r" && it.first == "\n" {
            it.removeFirst()
            lines.append(keep ? cur + "\r\n" : cur); cur = ""
        } else if u == "\n" || u == "\r" || u == "\u{0B}" || u == "\u{0C}" || u == "\u{1C}" || u == "\u{1D}" || u == "\u{1E}" || u == "\u{85}" || u == "\u{2028}" || u == "\u{2029}" {
            lines.append(keep ? cur + String(Character(u)) : cur); cur = ""
        } else { cur.unicodeScalars.append(u) }
    }
    if !cur.isEmpty { lines.append(cur) }
    return lines
}

/// `value.__class__`: enough for `__name__` and `str()`.
final class PyType: JinjaObject, @unchecked Sendable {
    let name: String
    init(_ name: String) { self.name = name }
    var typeName: String { "type" }
    func attribute(_ attr: String, _ ctx: CallContext) throws -> Value? {
        attr == "__name__" ? .string(name) : nil
    }
    func str(_ ctx: CallContext?) throws -> String { "<class '\(name)'>" }
}

/// `dict.items()/keys()/values()`: iterable like a list, printed like Python's views.
final class DictView: JinjaObject, IterableObject, LengthObject, @unchecked Sendable {
    let kind: String
    let items: [Value]
    init(kind: String, _ items: [Value]) { self.kind = kind; self.items = items }
    var typeName: String { kind }
    var iterItems: [Value] { items }
    var length: Int { items.count }
    func str(_ ctx: CallContext?) throws -> String { "\(kind)(\(try Value.list(items).repr()))" }
}
