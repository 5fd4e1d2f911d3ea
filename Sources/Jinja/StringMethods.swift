import Foundation

/// Python `str` methods and the string helpers filters share.
extension Methods {
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
