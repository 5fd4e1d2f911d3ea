import Foundation

/// Jinja2's built-in filters (jinja2/filters.py), string-flavoured ones here,
/// sequence ones in FiltersSequence.swift.
enum BuiltinFilters {
    static var all: [String: FilterFunction] {
        var f: [String: FilterFunction] = [:]
        f["abs"] = abs
        f["attr"] = { v, a, c in
            guard let n = a.get(0, "name")?.stringValue else { return c.undefined() }
            if let u = c.runtime.unsafeAttribute(v, n) { return u }
            switch v {
            case .dict:
                if Methods.has(v, n) { return .object(BoundMethod(v, n)) }
                return .undefined(Undefined(key: .string(n), ownerType: v.objectTypeRepr, kind: c.environment.undefined))
            default: return try c.getattr(v, n)
            }
        }
        f["batch"] = batch
        f["capitalize"] = { v, _, _ in soft(v, Methods.pyCapitalize(try v.str())) }
        f["center"] = { v, a, c in
            try Methods.stringMethod(try v.str(), "center", Arguments([a.get(0, "width") ?? .int(80)]), c, markup: false)
        }
        f["count"] = length
        f["length"] = length
        f["d"] = defaultFilter
        f["default"] = defaultFilter
        f["dictsort"] = dictsort
        f["e"] = { v, _, _ in .markup(try escapeValue(v)) }
        f["escape"] = f["e"]
        f["filesizeformat"] = filesizeformat
        f["first"] = { v, _, c in
            let items = try iterateValue(v)
            return items.first ?? c.undefined(hint: "No first item, sequence was empty.")
        }
        f["last"] = { v, _, c in
            let items = try iterateValue(v)
            return items.last ?? c.undefined(hint: "No last item, sequence was empty.")
        }
        f["float"] = { v, a, _ in
            if let d = toFloat(v) { return .float(d) }
            return a.get(0, "default") ?? .float(0)
        }
        f["forceescape"] = { v, _, _ in .markup(escapeHTML(try v.str())) }
        f["format"] = { v, a, _ in
            if !a.positional.isEmpty && !a.keywords.isEmpty {
                throw JinjaError(.filterArgumentError, "can't handle positional and keyword arguments at the same time")
            }
            let args: Value = a.keywords.isEmpty ? .tuple(a.positional) : .dict(a.keywords.map { (.string($0.name), $0.value) })
            if case .markup(let s) = v { return .markup(try percentFormat(s, args, escape: true)) }
            return .string(try percentFormat(try v.str(), args, escape: false))
        }
        f["groupby"] = groupby
        f["indent"] = indent
        f["int"] = intFilter
        f["items"] = { v, _, _ in
            switch v {
            case .undefined: return .list([])
            case .dict(let d): return .list(ListBox(d.pairs.map { .tuple([$0.0, $0.1]) }))
            default: throw JinjaError.type("Can only get item pairs from a mapping.")
            }
        }
        f["join"] = join
        f["list"] = { v, _, _ in .list(ListBox(try iterateValue(v))) }
        f["lower"] = { v, _, _ in soft(v, try v.str().lowercased()) }
        f["upper"] = { v, _, _ in soft(v, try v.str().uppercased()) }
        f["map"] = mapFilter
        f["max"] = { v, a, c in try minMax(v, a, c, max: true) }
        f["min"] = { v, a, c in try minMax(v, a, c, max: false) }
        f["pprint"] = { v, _, _ in .string(try pformat(v)) }
        f["random"] = { v, _, c in
            let items = try iterateValue(v)
            return items.randomElement() ?? c.undefined(hint: "No random item, sequence was empty.")
        }
        f["select"] = { v, a, c in try selectReject(v, a, c, select: true, attr: false) }
        f["reject"] = { v, a, c in try selectReject(v, a, c, select: false, attr: false) }
        f["selectattr"] = { v, a, c in try selectReject(v, a, c, select: true, attr: true) }
        f["rejectattr"] = { v, a, c in try selectReject(v, a, c, select: false, attr: true) }
        f["replace"] = replace
        f["reverse"] = { v, _, _ in
            switch v {
            case .string(let s): return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed())))
            case .markup(let s): return .markup(String(String.UnicodeScalarView(s.unicodeScalars.reversed())))
            default:
                do { return .list(ListBox(try iterateValue(v).reversed())) } catch {
                    throw JinjaError(.filterArgumentError, "argument must be iterable")
                }
            }
        }
        f["round"] = round
        f["safe"] = { v, _, _ in
            if case .markup = v { return v }
            return .markup(try v.str())
        }
        f["slice"] = slice
        f["sort"] = sort
        f["string"] = { v, _, _ in
            if case .markup = v { return v }
            return .string(try v.str())
        }
        f["striptags"] = { v, _, _ in .string(stripTags(try v.str())) }
        f["sum"] = sum
        f["title"] = { v, _, _ in soft(v, title(try v.str())) }
        f["trim"] = { v, a, _ in
            soft(v, Methods.strip(try v.str(), try Methods.argString(a, 0, "chars"), left: true, right: true))
        }
        f["truncate"] = truncate
        f["unique"] = unique
        f["urlencode"] = urlencode
        f["urlize"] = urlizeFilter
        f["wordcount"] = { v, _, _ in .int(wordCount(try v.str())) }
        f["wordwrap"] = wordwrap
        f["xmlattr"] = xmlattr
        f["tojson"] = { v, a, c in
            var indent: Int? = nil
            if case .int(let n)? = a.get(0, "indent") {
                try checkResultSize(n, unit: 64)
                indent = Swift.max(0, n)
            }
            let sortKeys = try c.runtime.jsonSortKeys()
            return .markup(try jsonDumps(v, indent: indent, sortKeys: sortKeys, htmlSafe: true))
        }
        return f
    }

    /// Keeps Markup-ness of the input (markupsafe methods return Markup).
    static func soft(_ input: Value, _ s: String) -> Value { input.isMarkup ? .markup(s) : .string(s) }

    static let abs: FilterFunction = { v, _, _ in
        switch v {
        case .int(let i): return i == Int.min ? .float(-Double(i)) : .int(Swift.abs(i))
        case .float(let d): return .float(Swift.abs(d))
        case .bool(let b): return .int(b ? 1 : 0)
        case .undefined(let u): throw u.error()
        default: throw JinjaError.type("bad operand type for abs(): '\(v.typeName)'")
        }
    }

    static let length: FilterFunction = { v, _, _ in
        switch v {
        case .string(let s), .markup(let s): return .int(s.unicodeScalars.count)
        case .list(let l): return .int(l.items.count)
        case .tuple(let t): return .int(t.count)
        case .dict(let d): return .int(d.count)
        case .undefined(let u):
            if u.kind == .strict { throw u.error() }
            return .int(0)
        case .object(let o):
            if let l = o as? LengthObject { return .int(l.length) }
            if let it = o as? IterableObject { return .int(it.iterItems.count) }
            if let ns = o as? NamespaceObject { return .int(ns.attrs.count) }
            throw JinjaError.type("object of type '\(v.typeName)' has no len()")
        default: throw JinjaError.type("object of type '\(v.typeName)' has no len()")
        }
    }

    static let defaultFilter: FilterFunction = { v, a, _ in
        let dv = a.get(0, "default_value") ?? .string("")
        let boolean = try a.get(1, "boolean")?.truthy() ?? false
        if v.isUndefined { return dv }
        if boolean, !(try v.truthy()) { return dv }
        return v
    }

    static let filesizeformat: FilterFunction = { v, a, _ in
        guard let bytes = toFloat(v) else { throw JinjaError.value("could not convert to float") }
        let binary = try a.get(0, "binary")?.truthy() ?? false
        let base = binary ? 1024.0 : 1000.0
        let prefixes = binary ? ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"] : ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
        if bytes == 1 { return .string("1 Byte") }
        if bytes < base { return .string("\(Int(bytes)) Bytes") }
        var unit = base
        for (i, p) in prefixes.enumerated() {
            unit = Foundation.pow(base, Double(i + 2))
            if bytes < unit { return .string(String(format: "%.1f %@", base * bytes / unit, p)) }
        }
        return .string(String(format: "%.1f %@", base * bytes / unit, prefixes[prefixes.count - 1]))
    }

    static func toFloat(_ v: Value) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .float(let d): return d
        case .bool(let b): return b ? 1 : 0
        case .string(let s), .markup(let s):
            let t = TextUtils.dropUnderscores(Methods.strip(s, nil, left: true, right: true))
            switch t.lowercased() {
            case "inf", "+inf", "infinity", "+infinity": return .infinity
            case "-inf", "-infinity": return -.infinity
            case "nan", "+nan", "-nan": return .nan
            default: break
            }
            if t.contains(where: { !"0123456789.eE+-".contains($0) }) { return nil }
            return Double(t)
        default: return nil
        }
    }

    static let intFilter: FilterFunction = { v, a, _ in
        let def = a.get(0, "default") ?? .int(0)
        let base = Methods.argInt(a, 1, "base") ?? 10
        if v.isBigInt { return v }
        switch v {
        case .int: return v
        case .bool(let b): return .int(b ? 1 : 0)
        case .float(let d):
            guard d.isFinite else { return def }
            if Swift.abs(d) < 9.2e18 { return .int(Int(d)) }
            return BigInt(exactly: d).map { .integer($0) } ?? def
        case .string(let s), .markup(let s):
            var t = Methods.strip(s, nil, left: true, right: true).lowercased()
            var neg = false
            if t.hasPrefix("-") { neg = true; t.removeFirst() } else if t.hasPrefix("+") { t.removeFirst() }
            var b = base
            if base == 16 && t.hasPrefix("0x") { t.removeFirst(2) }
            else if base == 8 && t.hasPrefix("0o") { t.removeFirst(2) }
            else if base == 2 && t.hasPrefix("0b") { t.removeFirst(2) }
            else if base == 0 {
                if t.hasPrefix("0x") { b = 16; t.removeFirst(2) }
                else if t.hasPrefix("0o") { b = 8; t.removeFirst(2) }
                else if t.hasPrefix("0b") { b = 2; t.removeFirst(2) }
                else { b = 10 }
            }
            if !t.hasPrefix("_") && !t.hasSuffix("_") && !t.contains("__") {
                let clean = TextUtils.dropUnderscores(t)
                if !clean.isEmpty, let n = Int(clean, radix: b) { return .int(neg ? -n : n) }
                if b == 10, let big = BigInt(clean) { return .integer(neg ? -big : big) }
            }
            if let d = toFloat(v), d.isFinite, Swift.abs(d) < 9.2e18 { return .int(Int(d)) }
            return def
        default: return def
        }
    }

    static let indent: FilterFunction = { v, a, _ in
        var indention = "    "
        if let w = a.get(0, "width") {
            switch w {
            case .int(let n):
                try checkResultSize(n)
                indention = String(repeating: " ", count: Swift.max(0, n))
            case .string(let s), .markup(let s): indention = s
            default: break
            }
        }
        let first = try a.get(1, "first")?.truthy() ?? false
        let blank = try a.get(2, "blank")?.truthy() ?? false
        let s = (try v.str()) + "\n"
        let lines = pySplitlines(s, keepends: false)
        var rv: String
        if blank {
            rv = lines.joined(separator: "\n" + indention)
        } else {
            rv = lines.first ?? ""
            if lines.count > 1 {
                rv += "\n" + lines.dropFirst().map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
            }
        }
        if first { rv = indention + rv }
        return soft(v, rv)
    }

    static let replace: FilterFunction = { v, a, c in
        guard let old = a.get(0, "old"), let new = a.get(1, "new") else {
            throw JinjaError.type("do_replace() missing required arguments")
        }
        let count = Methods.argInt(a, 2, "count") ?? -1
        if !c.autoescape {
            return .string(Methods.pyReplace(try v.str(), try old.str(), try new.str(), count))
        }
        let base: String
        if (old.isMarkup || new.isMarkup) && !v.isMarkup { base = escapeHTML(try v.str()) }
        else if v.isMarkup { base = try v.str() }
        else { return .string(Methods.pyReplace(try v.str(), try old.str(), try new.str(), count)) }
        // Markup.replace escapes plain arguments
        let o = old.isMarkup ? try old.str() : escapeHTML(try old.str())
        let n = new.isMarkup ? try new.str() : escapeHTML(try new.str())
        return .markup(Methods.pyReplace(base, o, n, count))
    }

    static let round: FilterFunction = { v, a, _ in
        let precision = Methods.argInt(a, 0, "precision") ?? 0
        let method = a.get(1, "method")?.stringValue ?? "common"
        guard ["common", "ceil", "floor"].contains(method) else {
            throw JinjaError(.filterArgumentError, "method must be common, ceil or floor")
        }
        guard let d = toFloat(v), v.isNumber else { throw JinjaError.type("type \(v.typeName) doesn't define __round__ method") }
        let m = Foundation.pow(10.0, Double(precision))
        switch method {
        case "ceil": return .float(Foundation.ceil(d * m) / m)
        case "floor": return .float(Foundation.floor(d * m) / m)
        default:
            if case .int(let i) = v {
                if precision >= 0 { return v }
                // Python rounds ints to a power of ten half-to-even and keeps them ints
                guard precision > -19 else { return .int(0) }
                var m = 1
                for _ in 0..<(-precision) { m *= 10 }
                let q = pyFloorDiv(i, m), r = pyMod(i, m)
                let up = 2 * r > m || (2 * r == m && q % 2 != 0)
                return .int((up ? q + 1 : q) * m)
            }
            return .float(pyRound(d, precision))
        }
    }

    /// Python's correctly-rounded `round(x, n)` (half to even on the decimal value).
    static func pyRound(_ d: Double, _ n: Int) -> Double {
        guard d.isFinite else { return d }
        let s = String(format: "%.\(Swift.max(0, n))f", d)
        if n >= 0 { return Double(s) ?? d }
        let m = Foundation.pow(10.0, Double(-n))
        return (d / m).rounded(.toNearestOrEven) * m
    }

    static func title(_ s: String) -> String {
        // split on runs of [-\s({\[<] keeping separators; capitalise each piece
        var out = ""
        var piece = ""
        var inSep = false
        func flush() {
            guard let f = piece.first else { return }
            out += inSep ? piece : f.uppercased() + piece.dropFirst().lowercased()
            piece = ""
        }
        for c in s {
            let sep = c.isWhitespace || "-({[<".contains(c)
            if sep != inSep { flush(); inSep = sep }
            piece.append(c)
        }
        flush()
        return out
    }

    static let truncate: FilterFunction = { v, a, c in
        let s = try v.str()
        let length = Methods.argInt(a, 0, "length") ?? 255
        let killwords = try a.get(1, "killwords")?.truthy() ?? false
        let end = try a.get(2, "end")?.str() ?? "..."
        var leeway = 5
        if let l = Methods.argInt(a, 3, "leeway") { leeway = l }
        else { leeway = c.runtime.truncateLeeway() }
        let endLen = end.unicodeScalars.count
        if length < endLen { throw JinjaError(.assertionError, "expected length >= \(endLen), got \(length)") }
        if s.utf8.count <= length + leeway { return .string(s) }
        var bytes = s
        let asciiCut: String? = bytes.withUTF8 { u in
            // ASCII (the usual case): bytes are code points, cut on bytes
            guard u.allSatisfy({ $0 < 0x80 }) else { return nil }
            var end = Swift.max(0, length - endLen)
            if !killwords, let sp = u[..<end].lastIndex(of: 32) { end = sp }
            return String(decoding: UnsafeBufferPointer(rebasing: u[..<end]), as: UTF8.self)
        }
        if let asciiCut { return .string(asciiCut + end) }
        if s.unicodeScalars.count <= length + leeway { return .string(s) }
        let scalars = s.unicodeScalars
        let cutEnd = scalars.index(scalars.startIndex, offsetBy: Swift.max(0, length - endLen))
        let cut = Substring(scalars[..<cutEnd])
        if killwords { return .string(String(cut) + end) }
        if let sp = cut.unicodeScalars.lastIndex(of: " ") { return .string(String(cut.unicodeScalars[..<sp]) + end) }
        return .string(String(cut) + end)
    }

    static func wordCount(_ s: String) -> Int {
        var n = 0
        var inWord = false
        for c in s.unicodeScalars {
            let w = c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
            if w && !inWord { n += 1 }
            inWord = w
        }
        return n
    }

    static let wordwrap: FilterFunction = { v, a, c in
        let s = try v.str()
        let width = Methods.argInt(a, 0, "width") ?? 79
        let breakLong = try a.get(1, "break_long_words")?.truthy() ?? true
        let wrapstring = try a.get(2, "wrapstring").flatMap { $0.isNone ? nil : try $0.str() } ?? c.environment.newlineSequence
        let breakHyphens = try a.get(3, "break_on_hyphens")?.truthy() ?? true
        let wrapped = pySplitlines(s, keepends: false).map { line in
            textwrap(line, width: width, breakLong: breakLong, breakOnHyphens: breakHyphens).joined(separator: wrapstring)
        }
        return .string(wrapped.joined(separator: wrapstring))
    }

    /// Python's textwrap.wrap with expand_tabs/replace_whitespace off.
    static func textwrap(_ text: String, width: Int, breakLong: Bool, breakOnHyphens: Bool) -> [String] {
        // split into whitespace and word chunks (words split after hyphens)
        var chunks: [String] = []
        var cur = ""
        var curIsSpace: Bool? = nil
        for ch in text {
            let sp = ch == " " || ch == "\t" || ch == "\n" || ch == "\r" || ch == "\u{0B}" || ch == "\u{0C}"
            if curIsSpace != sp && !cur.isEmpty { chunks.append(cur); cur = "" }
            curIsSpace = sp
            cur.append(ch)
            if !sp && breakOnHyphens && ch == "-" && cur.count > 1, let prev = cur.dropLast().last, prev.isLetter || prev.isNumber {
                chunks.append(cur); cur = ""; curIsSpace = nil
            }
        }
        if !cur.isEmpty { chunks.append(cur) }
        var lines: [String] = []
        var rest = Array(chunks.reversed())
        func isWS(_ s: String) -> Bool { s.allSatisfy { $0.isWhitespace } }
        while !rest.isEmpty {
            var line: [String] = []
            var len = 0
            if !lines.isEmpty, let last = rest.last, isWS(last) { rest.removeLast() }
            while let ch = rest.last {
                if len + ch.count <= width { line.append(ch); len += ch.count; rest.removeLast() } else { break }
            }
            if let ch = rest.last, ch.count > width {
                let space = Swift.max(1, width - len)
                if breakLong {
                    line.append(String(ch.prefix(space)))
                    rest[rest.count - 1] = String(ch.dropFirst(space))
                } else if line.isEmpty {
                    line.append(ch); rest.removeLast()
                }
            }
            if let l = line.last, isWS(l) { line.removeLast() }
            if !line.isEmpty { lines.append(line.joined()) }
            else if rest.isEmpty { break }
        }
        return lines
    }

    static let xmlattr: FilterFunction = { v, a, c in
        guard case .dict(let d) = v else { throw JinjaError.type("xmlattr requires a mapping") }
        let autospace = try a.get(0, "autospace")?.truthy() ?? true
        var items: [String] = []
        for (k, val) in d.pairs {
            if val.isNone || val.isUndefined { continue }
            let key = try k.str()
            if key.contains(where: { $0.isWhitespace || $0 == "/" || $0 == ">" || $0 == "=" }) {
                throw JinjaError.value("Invalid character in attribute name: \(pyRepr(key))")
            }
            items.append("\(escapeHTML(key))=\"\(try escapeValue(val))\"")
        }
        var rv = items.joined(separator: " ")
        if autospace && !rv.isEmpty { rv = " " + rv }
        return c.autoescape ? .markup(rv) : .string(rv)
    }

    static func urlQuote(_ s: String, forQS: Bool) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(UnicodeScalar(b))
            if (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || "_.-~".contains(c) || (!forQS && b == 47) {
                out.append(c)
            } else if forQS && b == 32 {
                out += "+"
            } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    static let urlencode: FilterFunction = { v, _, _ in
        switch v {
        case .string(let s), .markup(let s): return .string(urlQuote(s, forQS: false))
        case .dict(let d):
            return .string(try d.pairs.map { "\(urlQuote(try $0.0.str(), forQS: true))=\(urlQuote(try $0.1.str(), forQS: true))" }.joined(separator: "&"))
        case .list, .tuple:
            return .string(try iterateValue(v).map { item in
                let kv = try iterateValue(item)
                guard kv.count == 2 else { throw JinjaError.value("too many values to unpack") }
                return "\(urlQuote(try kv[0].str(), forQS: true))=\(urlQuote(try kv[1].str(), forQS: true))"
            }.joined(separator: "&"))
        default: return .string(urlQuote(try v.str(), forQS: false))
        }
    }
}

