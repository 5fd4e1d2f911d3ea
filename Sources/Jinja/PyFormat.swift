import Foundation

struct FormatFlags { var minus = false, plus = false, space = false, alt = false, zero = false }

/// Python `%`-formatting (`"%s-%05.2f" % (a, b)`), used by the `%`
/// operator and the `format` filter. Scans the format's UTF-8 bytes (every
/// byte of a conversion spec is ASCII) and copies literal runs whole.
func percentFormat(_ fmt: String, _ args: Value, escape: Bool) throws -> String {
    var text = fmt
    return try text.withUTF8 { try percentFormat(bytes: $0, args, escape: escape) }
}

/// `percentFormat` over the format's UTF-8 storage (no copy of it).
private func percentFormat(bytes chars: UnsafeBufferPointer<UInt8>, _ args: Value, escape: Bool) throws -> String {
    var cursor: ArgCursor
    var mapping: DictBox? = nil
    switch args {
    case .tuple(let t): cursor = ArgCursor(t)
    case .dict(let d): cursor = ArgCursor([args]); mapping = d
    default: cursor = ArgCursor([args])
    }
    var out: [UInt8] = []
    out.reserveCapacity(chars.count + 8)
    var i = 0
    var usedMapping = false
    while i < chars.count {
        let runStart = i
        while i < chars.count && chars[i] != 37 { i += 1 }  // '%'
        if i > runStart { out.append(contentsOf: chars[runStart..<i]) }
        if i >= chars.count { break }
        i += 1
        guard i < chars.count else { throw JinjaError.value("incomplete format") }
        if chars[i] == 37 { out.append(37); i += 1; continue }
        var keyed: Value? = nil
        if chars[i] == 40 {  // '('
            var depth = 1
            var j = i + 1
            while j < chars.count {
                if chars[j] == 40 { depth += 1 } else if chars[j] == 41 { depth -= 1; if depth == 0 { break } }
                j += 1
            }
            let key = String(decoding: chars[(i + 1)..<Swift.min(j, chars.count)], as: UTF8.self)
            guard let m = mapping else { throw JinjaError.type("format requires a mapping") }
            guard let v = m[key] else { throw JinjaError(.keyError, pyRepr(key)) }
            keyed = v
            usedMapping = true
            i = j + 1
        }
        var flags = FormatFlags()
        flagLoop: while i < chars.count {
            switch chars[i] {
            case 45: flags.minus = true   // -
            case 43: flags.plus = true    // +
            case 32: flags.space = true   // space
            case 35: flags.alt = true     // #
            case 48: flags.zero = true    // 0
            default: break flagLoop
            }
            i += 1
        }
        var width = 0
        if i < chars.count && chars[i] == 42 {  // '*'
            if case .int(let w) = try cursor.next() { width = w }
            i += 1
        } else {
            while i < chars.count, chars[i] >= 48, chars[i] <= 57 { width = width * 10 + Int(chars[i] - 48); i += 1 }
        }
        var precision: Int? = nil
        if i < chars.count && chars[i] == 46 {  // '.'
            i += 1
            var p = 0
            if i < chars.count && chars[i] == 42 {
                if case .int(let w) = try cursor.next() { p = w }
                i += 1
            } else {
                while i < chars.count, chars[i] >= 48, chars[i] <= 57 { p = p * 10 + Int(chars[i] - 48); i += 1 }
            }
            precision = p
        }
        try checkResultSize(width)
        try checkResultSize(precision ?? 0)
        while i < chars.count && (chars[i] == 104 || chars[i] == 108 || chars[i] == 76) { i += 1 }  // h l L
        guard i < chars.count else { throw JinjaError.value("incomplete format") }
        // the conversion character; a non-ASCII one is decoded for the message
        guard chars[i] < 0x80 else {
            let rest = String(decoding: chars[i...], as: UTF8.self)
            throw JinjaError.value("unsupported format character '\(rest.unicodeScalars.first.map(String.init) ?? "")'")
        }
        let conv = Unicode.Scalar(chars[i])
        i += 1
        let arg = try keyed ?? cursor.next()
        if precision == nil, conv == "d" || conv == "i" || conv == "u", case .int(let n) = arg {
            appendInteger(n, flags: flags, width: width, into: &out)
            continue
        }
        out.appendUTF8(try formatOne(arg, conv, flags: flags, width: width, precision: precision, escape: escape))
    }
    if !usedMapping && mapping == nil && cursor.hasMore {
        throw JinjaError.type("not all arguments converted during string formatting")
    }
    return String(decoding: out, as: UTF8.self)
}

/// `%d` of an int (`'%02d'|format(i)`, the usual case), padded in place.
func appendInteger(_ n: Int, flags: FormatFlags, width: Int, into out: inout [UInt8]) {
    TextUtils.withDecimal(n.magnitude) { digits in
        let sign: UInt8? = n < 0 ? 45 : flags.plus ? 43 : flags.space ? 32 : nil
        let pad = Swift.max(0, width - digits.count - (sign == nil ? 0 : 1))
        if pad > 0 && !flags.minus && !flags.zero { out.append(contentsOf: repeatElement(32, count: pad)) }
        if let sign { out.append(sign) }
        if pad > 0 && !flags.minus && flags.zero { out.append(contentsOf: repeatElement(48, count: pad)) }
        out.append(contentsOf: digits)
        if pad > 0 && flags.minus { out.append(contentsOf: repeatElement(32, count: pad)) }
    }
}

/// The positional arguments of a `%` format, consumed in order.
struct ArgCursor {
    let values: [Value]
    var index = 0
    init(_ values: [Value]) { self.values = values }
    var hasMore: Bool { index < values.count }
    mutating func next() throws -> Value {
        guard index < values.count else { throw JinjaError.type("not enough arguments for format string") }
        defer { index += 1 }
        return values[index]
    }
}

/// One `%` conversion, padded to `width`.
func formatOne(_ arg: Value, _ conv: Unicode.Scalar, flags: FormatFlags, width: Int, precision: Int?, escape: Bool) throws -> String {
    var body: String
    var numeric = false
    var negative = false
    switch conv {
    case "s":
        body = escape && !arg.isMarkup ? escapeHTML(try arg.str()) : try arg.str()
        if let p = precision { body = String(body.unicodeScalars.prefix(p).map(Character.init)) }
    case "r", "a":
        body = escape ? escapeHTML(try arg.repr()) : try arg.repr()
        if let p = precision { body = String(body.prefix(p)) }
    case "d", "i", "u":
        numeric = true
        let n = try intForFormat(arg, conv)
        negative = n < 0
        body = n == Int.min ? String(n.magnitude) : TextUtils.decimal(Swift.abs(n))
        if let p = precision, body.utf8.count < p { body = String(repeating: "0", count: p - body.utf8.count) + body }
    case "x", "X", "o":
        numeric = true
        let n = try intForFormat(arg, conv)
        negative = n < 0
        body = String(n.magnitude, radix: conv == "o" ? 8 : 16, uppercase: conv == "X")
        if flags.alt { body = (conv == "o" ? "0o" : conv == "x" ? "0x" : "0X") + body }
    case "f", "F", "e", "E", "g", "G":
        numeric = true
        guard let num = Num(arg) else {
            throw JinjaError.type("must be real number, not \(arg.typeName)")
        }
        let d = num.double
        negative = d < 0 || (d == 0 && d.sign == .minus)
        body = cFormat(abs(d), Character(conv), precision ?? 6, alt: flags.alt)
    case "c":
        if case .int(let n) = arg, let u = Unicode.Scalar(n) { body = String(Character(u)) }
        else if let s = arg.stringValue, s.count == 1 { body = s }
        else { throw JinjaError.type("%c requires int or char") }
    default:
        throw JinjaError.value("unsupported format character '\(conv)'")
    }
    if numeric {
        let sign = negative ? "-" : flags.plus ? "+" : flags.space ? " " : ""
        if flags.zero && !flags.minus {
            let padCount = width - sign.utf8.count - body.utf8.count
            body = padCount > 0 ? sign + String(repeating: "0", count: padCount) + body : sign + body
        } else if !sign.isEmpty {
            body = sign + body
        }
    }
    let padCount = width > 0 ? width - body.unicodeScalars.count : 0
    if padCount > 0 {
        body = flags.minus ? body + String(repeating: " ", count: padCount) : String(repeating: " ", count: padCount) + body
    }
    return body
}

func intForFormat(_ v: Value, _ conv: Unicode.Scalar) throws -> Int {
    switch v {
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    case .float(let d) where conv == "d" || conv == "i" || conv == "u":
        guard d.isFinite else { throw JinjaError(.overflowError, "cannot convert float infinity to integer") }
        return Int(d)
    default:
        throw JinjaError.type("%\(conv) format: a real number is required, not \(v.typeName)")
    }
}

/// C printf-style float formatting for non-negative finite or special values.
func cFormat(_ d: Double, _ conv: Character, _ precision: Int, alt: Bool = false) -> String {
    if d.isNaN { return conv.isUppercase ? "NAN" : "nan" }
    if d.isInfinite { return conv.isUppercase ? "INF" : "inf" }
    return String(format: "%\(alt ? "#" : "").\(precision)\(conv)", d)
}

/// Python's `str.format` / `format()` mini-language for one value.
func formatSpec(_ v: Value, _ spec: String) throws -> String {
    if spec.isEmpty { return try v.str() }
    var chars = Array(spec)
    var fill: Character = " "
    var align: Character? = nil
    if chars.count >= 2 && "<>=^".contains(chars[1]) {
        fill = chars[0]; align = chars[1]; chars.removeFirst(2)
    } else if let c = chars.first, "<>=^".contains(c) {
        align = c; chars.removeFirst()
    }
    var sign: Character = "-"
    if let c = chars.first, "+- ".contains(c) { sign = c; chars.removeFirst() }
    var alt = false
    if chars.first == "#" { alt = true; chars.removeFirst() }
    if chars.first == "0" {
        if align == nil { fill = "0"; align = "=" }
        chars.removeFirst()
    }
    var width = 0
    while let c = chars.first, let d = c.wholeNumberValue, c.isASCII { width = width * 10 + d; chars.removeFirst() }
    var grouping: Character? = nil
    if let c = chars.first, c == "," || c == "_" { grouping = c; chars.removeFirst() }
    var precision: Int? = nil
    if chars.first == "." {
        chars.removeFirst()
        var p = 0
        while let c = chars.first, let d = c.wholeNumberValue, c.isASCII { p = p * 10 + d; chars.removeFirst() }
        precision = p
    }
    try checkResultSize(width)
    try checkResultSize(precision ?? 0)
    let type: Character? = chars.first
    var body: String
    var negative = false
    var isNumber = false
    switch v {
    case .int, .bool, .float:
        isNumber = true
        let num = Num(v) ?? .i(0)
        var t = type
        if t == nil, case .f = num { t = precision == nil ? "r" : "g" }
        switch (t, num) {
        case (nil, .i(let n)), ("d", .i(let n)), ("n", .i(let n)):
            negative = n < 0; body = String(n.magnitude)
        case ("x", .i(let n)), ("X", .i(let n)), ("o", .i(let n)), ("b", .i(let n)):
            negative = n < 0
            let radix = t == "o" ? 8 : t == "b" ? 2 : 16
            body = String(n.magnitude, radix: radix, uppercase: t == "X")
            if alt { body = "0" + String(t ?? "x") + body }
        case ("c", .i(let n)):
            body = Unicode.Scalar(UInt32(max(0, n))).map { String(Character($0)) } ?? ""
        case ("r", let n):
            negative = n.double < 0
            body = formatFloat(abs(n.double))
        case ("%", let n):
            negative = n.double < 0
            body = cFormat(abs(n.double * 100), "f", precision ?? 6) + "%"
        case (let tt?, let n) where "eEfFgG".contains(tt):
            negative = n.double < 0 || (n.double == 0 && n.double.sign == .minus)
            body = cFormat(abs(n.double), tt, precision ?? 6, alt: alt)
        default:
            throw JinjaError.value("Unknown format code '\(type.map(String.init) ?? "")' for object of type '\(v.typeName)'")
        }
        if let g = grouping {
            let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            var intPart = Array(parts[0])
            var grouped = ""
            while intPart.count > 3 {
                grouped = String(g) + String(intPart.suffix(3)) + grouped
                intPart.removeLast(3)
            }
            grouped = String(intPart) + grouped
            body = parts.count > 1 ? grouped + "." + parts[1] : grouped
        }
    default:
        if let t = type, t != "s" {
            throw JinjaError.value("Unknown format code '\(t)' for object of type '\(v.typeName)'")
        }
        body = try v.str()
        if let p = precision { body = String(body.prefix(p)) }
    }
    var signStr = ""
    if isNumber {
        signStr = negative ? "-" : sign == "+" ? "+" : sign == " " ? " " : ""
    }
    let total = signStr.count + body.count
    let pad = max(0, width - total)
    let a = align ?? (isNumber ? ">" : "<")
    let padStr = String(repeating: fill, count: pad)
    switch a {
    case "<": return signStr + body + padStr
    case "^":
        let left = String(repeating: fill, count: pad / 2)
        let right = String(repeating: fill, count: pad - pad / 2)
        return left + signStr + body + right
    case "=": return signStr + padStr + body
    default: return padStr + signStr + body
    }
}

/// Attribute lookup inside a format field: Python's `getattr` (no item
/// fallback), or the sandbox's checked lookup in a sandboxed environment.
func formatGetattr(_ value: Value, _ name: String, _ ctx: CallContext) throws -> Value {
    if ctx.environment.sandbox != .none { return try ctx.getattr(value, name) }
    if Methods.has(value, name) { return .object(BoundMethod(value, name)) }
    if let p = Methods.property(value, name) { return p }
    if case .object(let o) = value, let v = try o.attribute(name, ctx) { return v }
    throw JinjaError(.attributeError, "'\(value.typeName)' object has no attribute '\(name)'")
}

/// `str.format(*args, **kwargs)`.
func strFormat(_ fmt: String, _ args: Arguments, _ ctx: CallContext) throws -> String {
    let chars = Array(fmt)
    var out = ""
    var i = 0
    var auto = 0
    while i < chars.count {
        let c = chars[i]
        if c == "{" {
            if i + 1 < chars.count && chars[i + 1] == "{" { out.append("{"); i += 2; continue }
            var j = i + 1
            var depth = 1
            var field = ""
            while j < chars.count {
                if chars[j] == "{" { depth += 1 }
                if chars[j] == "}" { depth -= 1; if depth == 0 { break } }
                field.append(chars[j]); j += 1
            }
            guard j < chars.count else { throw JinjaError.value("Single '{' encountered in format string") }
            i = j + 1
            var spec = ""
            var conversion: Character? = nil
            if let colon = field.firstIndex(of: ":") {
                spec = String(field[field.index(after: colon)...])
                field = String(field[..<colon])
            }
            if let bang = field.firstIndex(of: "!") {
                conversion = field[field.index(after: bang)...].first
                field = String(field[..<bang])
            }
            // field name: first part then .attr / [key]
            var nameEnd = field.endIndex
            if let k = field.firstIndex(where: { $0 == "." || $0 == "[" }) { nameEnd = k }
            let first = String(field[..<nameEnd])
            var value: Value
            if first.isEmpty {
                guard auto < args.positional.count else { throw JinjaError(.indexError, "Replacement index \(auto) out of range for positional args tuple") }
                value = args.positional[auto]; auto += 1
            } else if let n = Int(first) {
                guard n < args.positional.count else { throw JinjaError(.indexError, "Replacement index \(n) out of range for positional args tuple") }
                value = args.positional[n]
            } else {
                guard let v = args.keyword(first) else { throw JinjaError(.keyError, pyRepr(first)) }
                value = v
            }
            var rest = field[nameEnd...]
            while let c0 = rest.first {
                if c0 == "." {
                    rest = rest.dropFirst()
                    let e = rest.firstIndex(where: { $0 == "." || $0 == "[" }) ?? rest.endIndex
                    value = try formatGetattr(value, String(rest[..<e]), ctx)
                    rest = rest[e...]
                } else if c0 == "[" {
                    guard let e = rest.firstIndex(of: "]") else { break }
                    let key = String(rest[rest.index(after: rest.startIndex)..<e])
                    value = try ctx.getitem(value, Int(key).map { .int($0) } ?? .string(key))
                    rest = rest[rest.index(after: e)...]
                } else { break }
            }
            if conversion == "r" { value = .string(try value.repr()) }
            else if conversion == "s" { value = .string(try value.str()) }
            if spec.contains("{") { spec = try strFormat(spec, args, ctx) }
            out += try formatSpec(value, spec)
        } else if c == "}" {
            if i + 1 < chars.count && chars[i + 1] == "}" { out.append("}"); i += 2; continue }
            throw JinjaError.value("Single '}' encountered in format string")
        } else {
            out.append(c); i += 1
        }
    }
    return out
}
