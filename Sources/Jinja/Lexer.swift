import Foundation

/// One lexical token. Template text is lexed once per template and cached
/// with the parsed tree, so the lexer favours fidelity to Jinja2's regex
/// lexer (whitespace control, lstrip/trim, line statements) over speed.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case data(String)
        case blockBegin, blockEnd, variableBegin, variableEnd
        case name(String)
        case string(String)
        case integer(Int)
        case bigInteger(BigInt)
        case float(Double)
        case op(String)
        case eof
    }
    var kind: Kind
    var line: Int
}

/// Delimiters and whitespace options that shape lexing.
struct LexerConfig: Sendable, Hashable {
    var blockStart = "{%", blockEnd = "%}"
    var variableStart = "{{", variableEnd = "}}"
    var commentStart = "{#", commentEnd = "#}"
    var lineStatementPrefix: String? = nil
    var lineCommentPrefix: String? = nil
    var trimBlocks = false
    var lstripBlocks = false
    var newlineSequence = "\n"
    var keepTrailingNewline = false
}

/// Jinja2's operators, longest first, as bytes (matched without allocating).
private let operatorList: [(op: String, bytes: [UInt8])] = ["//", "**", "==", "!=", ">=", "<=",
    "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"]
    .map { ($0, Array($0.utf8)) }

private let rawBytes = Array("raw".utf8), endrawBytes = Array("endraw".utf8)

@inline(__always) private func isSpace(_ c: UInt8) -> Bool {
    c == 32 || c == 9 || c == 10 || c == 13 || c == 11 || c == 12
}
@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
@inline(__always) private func isNameStart(_ c: UInt8) -> Bool {
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c >= 0x80
}
@inline(__always) private func isNameChar(_ c: UInt8) -> Bool { isNameStart(c) || isDigit(c) }

struct Lexer {
    let cfg: LexerConfig
    let name: String?
    var src: [UInt8] = []
    var pos = 0
    var line = 1
    var tokens: [Token] = []
    var lineStarting = true

    enum Start { case raw, comment, block, variable, lineStatement, lineComment }
    private let bs: [UInt8], be: [UInt8], vs: [UInt8], ve: [UInt8], cs: [UInt8], ce: [UInt8]
    private let lsp: [UInt8]?, lcp: [UInt8]?
    /// Start rules in Jinja2's priority order (longest delimiter first).
    private let startOrder: [(Start, [UInt8])]

    init(config: LexerConfig, name: String?) {
        cfg = config
        self.name = name
        bs = Array(config.blockStart.utf8); be = Array(config.blockEnd.utf8)
        vs = Array(config.variableStart.utf8); ve = Array(config.variableEnd.utf8)
        cs = Array(config.commentStart.utf8); ce = Array(config.commentEnd.utf8)
        lsp = config.lineStatementPrefix.map { Array($0.utf8) }
        lcp = config.lineCommentPrefix.map { Array($0.utf8) }
        var rules: [(Int, String, Start, [UInt8])] = [
            (cs.count, "comment_begin", .comment, cs),
            (bs.count, "block_begin", .block, bs),
            (vs.count, "variable_begin", .variable, vs),
        ]
        if let l = lsp { rules.append((l.count, "linestatement_begin", .lineStatement, l)) }
        if let l = lcp { rules.append((l.count, "linecomment_begin", .lineComment, l)) }
        rules.sort { ($0.0, $0.1) > ($1.0, $1.1) }
        startOrder = rules.map { ($0.2, $0.3) }
    }

    func error(_ msg: String) -> JinjaError { .syntax(msg, line: line, name: name) }

    @inline(__always) func matches(_ lit: [UInt8], at p: Int) -> Bool {
        if lit.isEmpty || p + lit.count > src.count { return false }
        var i = 0
        while i < lit.count { if src[p + i] != lit[i] { return false }; i += 1 }
        return true
    }

    func text(_ a: Int, _ b: Int) -> String { String(decoding: src[a..<b], as: UTF8.self) }

    func countNewlines(_ a: Int, _ b: Int) -> Int {
        var n = 0
        var i = a
        while i < b { if src[i] == 10 { n += 1 }; i += 1 }
        return n
    }

    func skipSpaces(_ p: Int) -> Int {
        var q = p
        while q < src.count && isSpace(src[q]) { q += 1 }
        return q
    }

    /// Matches `{%[-+]?\s*raw\s*(-%}\s*|%})`; returns (end, sign).
    func matchRawBegin(_ p: Int) -> (Int, UInt8?)? {
        guard matches(bs, at: p) else { return nil }
        var q = p + bs.count
        var sign: UInt8? = nil
        if q < src.count && (src[q] == 45 || src[q] == 43) { sign = src[q]; q += 1 }
        q = skipSpaces(q)
        guard matches(rawBytes, at: q) else { return nil }
        q = skipSpaces(q + 3)
        if q < src.count && src[q] == 45 && matches(be, at: q + 1) { return (skipSpaces(q + 1 + be.count), sign) }
        if matches(be, at: q) { return (q + be.count, sign) }
        return nil
    }

    /// The end of a block-like tag (`+%}`, `-%}\s*`, `%}\n?`) at p.
    func matchTagEnd(_ end: [UInt8], at p: Int, trim: Bool) -> Int? {
        if p < src.count && src[p] == 43 && matches(end, at: p + 1) { return p + 1 + end.count }
        if p < src.count && src[p] == 45 && matches(end, at: p + 1) { return skipSpaces(p + 1 + end.count) }
        if matches(end, at: p) {
            var q = p + end.count
            if trim && q < src.count && src[q] == 10 { q += 1 }
            return q
        }
        return nil
    }

    /// Which start rule matches at p, with the index right after the delimiter.
    func matchStart(_ p: Int) -> (Start, Int)? {
        if let (e, _) = matchRawBegin(p) { return (.raw, e) }
        for (kind, lit) in startOrder {
            switch kind {
            case .lineStatement:
                guard p == 0 || src[p - 1] == 10 else { continue }
                var q = p
                while q < src.count && (src[q] == 32 || src[q] == 9 || src[q] == 11) { q += 1 }
                if matches(lit, at: q) { return (kind, q + lit.count) }
            case .lineComment:
                guard p == 0 || src[p - 1] == 10 || !isSpace(src[p - 1]) else { continue }
                var q = p
                while q < src.count && isSpace(src[q]) && src[q] != 10 && src[q] != 13 { q += 1 }
                if matches(lit, at: q) { return (kind, q + lit.count) }
            default:
                if matches(lit, at: p) { return (kind, p + lit.count) }
            }
        }
        return nil
    }

    mutating func emitData(_ s: String) {
        guard !s.isEmpty else { return }
        tokens.append(Token(kind: .data(normalizeNewlines(s)), line: line))
    }

    func normalizeNewlines(_ s: String) -> String {
        if cfg.newlineSequence == "\n" || !s.utf8.contains(10) { return s }
        return s.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: cfg.newlineSequence)
    }

    /// Applies `-` / lstrip_blocks to the data before a tag; returns data end index.
    func stripData(_ start: Int, _ end: Int, sign: UInt8?, kind: Start) -> Int {
        if sign == 45 {
            var e = end
            while e > start && isSpace(src[e - 1]) { e -= 1 }
            return e
        }
        if sign != 43 && cfg.lstripBlocks && kind != .variable {
            var l = end
            while l > start && src[l - 1] != 10 { l -= 1 }
            if l > start || lineStarting {
                var allWS = l < end
                var i = l
                while i < end { if !isSpace(src[i]) { allWS = false; break }; i += 1 }
                if allWS { return l }
            }
        }
        return end
    }

    mutating func tokenize(_ source: String) throws -> [Token] {
        // Normalise newlines to \n and drop one trailing newline, as Jinja2 does.
        var s = source
        // Byte scans: with Foundation imported, String.contains(String) goes
        // through NSString's search, which showed up in SLS rendering profiles.
        if s.utf8.contains(13) {
            s = TextUtils.replace(TextUtils.replace(s, "\r\n", "\n"), "\r", "\n")
        }
        if !cfg.keepTrailingNewline && s.hasSuffix("\n") { s.removeLast() }
        src = Array(s.utf8)
        // a byte table, not a Set: this test runs for every byte of template text
        var firstBytes = [Bool](repeating: false, count: 256)
        for byte in [bs.first, vs.first, cs.first].compactMap({ $0 }) { firstBytes[Int(byte)] = true }
        let lineRules = lsp != nil || lcp != nil
        while pos < src.count {
            // root state: find the earliest tag start
            var p = pos
            var found: (Start, Int)? = nil
            while p < src.count {
                let c = src[p]
                if firstBytes[Int(c)] || (lineRules && (p == 0 || src[p - 1] == 10 || isSpace(c) || c == lcp?.first || c == lsp?.first)) {
                    if let m = matchStart(p) { found = m; break }
                }
                p += 1
            }
            guard let (kind, afterDelim) = found else {
                emitData(text(pos, src.count))
                line += countNewlines(pos, src.count)
                pos = src.count
                break
            }
            var q = afterDelim
            var sign: UInt8? = nil
            if kind == .raw {
                sign = matchRawBegin(p)?.1
            } else if q < src.count && (src[q] == 45 || src[q] == 43) {
                sign = src[q]; q += 1
            }
            let dataEnd = stripData(pos, p, sign: sign, kind: kind)
            emitData(text(pos, dataEnd))
            line += countNewlines(pos, p)
            lineStarting = false
            switch kind {
            case .raw:
                guard let (e, _) = matchRawBegin(p) else { throw error("bad raw") }
                line += countNewlines(p, e)
                try lexRaw(from: e)
            case .comment:
                try lexComment(from: q)
            case .block:
                tokens.append(Token(kind: .blockBegin, line: line))
                line += countNewlines(p, q)
                pos = q
                try lexTag(end: be, endKind: .blockEnd, lineStatement: false)
            case .variable:
                tokens.append(Token(kind: .variableBegin, line: line))
                line += countNewlines(p, q)
                pos = q
                try lexTag(end: ve, endKind: .variableEnd, lineStatement: false)
            case .lineStatement:
                line += countNewlines(p, afterDelim)
                tokens.append(Token(kind: .blockBegin, line: line))
                pos = afterDelim
                try lexTag(end: [], endKind: .blockEnd, lineStatement: true)
            case .lineComment:
                var e = afterDelim
                while e < src.count && src[e] != 10 { e += 1 }
                line += countNewlines(p, e)
                pos = e
                lineStarting = false
            }
        }
        tokens.append(Token(kind: .eof, line: line))
        return tokens
    }

    mutating func lexComment(from start: Int) throws {
        var p = start
        while p < src.count {
            if let e = matchTagEnd(ce, at: p, trim: cfg.trimBlocks) {
                line += countNewlines(pos, e)
                lineStarting = e > 0 && src[e - 1] == 10
                pos = e
                return
            }
            p += 1
        }
        throw error("Missing end of comment tag")
    }

    mutating func lexRaw(from start: Int) throws {
        var p = start
        while p < src.count {
            if matches(bs, at: p) {
                var q = p + bs.count
                var sign: UInt8? = nil
                if q < src.count && (src[q] == 45 || src[q] == 43) { sign = src[q]; q += 1 }
                q = skipSpaces(q)
                if matches(endrawBytes, at: q) {
                    q = skipSpaces(q + 6)
                    if let e = matchTagEnd(be, at: q, trim: cfg.trimBlocks) {
                        lineStarting = start > 0 && src[start - 1] == 10
                        let dataEnd = stripData(start, p, sign: sign, kind: .block)
                        emitData(text(start, dataEnd))
                        line += countNewlines(start, e)
                        lineStarting = e > 0 && src[e - 1] == 10
                        pos = e
                        return
                    }
                }
            }
            p += 1
        }
        throw error("Missing end of raw directive")
    }

    /// Lexes the inside of `{% %}`, `{{ }}` or a line statement.
    mutating func lexTag(end: [UInt8], endKind: Token.Kind, lineStatement: Bool) throws {
        var balance: [UInt8] = []
        let isBlock = endKind == .blockEnd && !lineStatement
        while true {
            if pos >= src.count {
                if lineStatement { tokens.append(Token(kind: .blockEnd, line: line)) }
                return
            }
            if balance.isEmpty {
                if lineStatement {
                    // `\s*(\n|$)`: greedy whitespace, backtracking to the last newline
                    let q = skipSpaces(pos)
                    var e: Int? = q >= src.count ? q : nil
                    if e == nil {
                        var k = q
                        while k > pos { if src[k - 1] == 10 { e = k; break }; k -= 1 }
                    }
                    if let e = e {
                        tokens.append(Token(kind: .blockEnd, line: line))
                        line += countNewlines(pos, e)
                        lineStarting = true
                        pos = e
                        return
                    }
                } else if isBlock {
                    if let e = matchTagEnd(end, at: pos, trim: cfg.trimBlocks) {
                        tokens.append(Token(kind: .blockEnd, line: line))
                        line += countNewlines(pos, e)
                        lineStarting = e > 0 && src[e - 1] == 10
                        pos = e
                        return
                    }
                } else {
                    if src[pos] == 45 && matches(end, at: pos + 1) {
                        tokens.append(Token(kind: .variableEnd, line: line))
                        let e = skipSpaces(pos + 1 + end.count)
                        line += countNewlines(pos, e)
                        lineStarting = e > 0 && src[e - 1] == 10
                        pos = e
                        return
                    }
                    if matches(end, at: pos) {
                        tokens.append(Token(kind: .variableEnd, line: line))
                        pos += end.count
                        lineStarting = src[pos - 1] == 10
                        return
                    }
                }
            }
            let c = src[pos]
            if isSpace(c) {
                let e = skipSpaces(pos)
                line += countNewlines(pos, e)
                pos = e
                continue
            }
            if isDigit(c) {
                try lexNumber()
                continue
            }
            if isNameStart(c) {
                var e = pos + 1
                while e < src.count && isNameChar(src[e]) { e += 1 }
                let n = text(pos, e)
                if c >= 0x80 || n.utf8.contains(where: { $0 >= 0x80 }) {
                    var first = true
                    for u in n.unicodeScalars {
                        let ok = first ? (u == "_" || u.properties.isXIDStart) : (u == "_" || u.properties.isXIDContinue)
                        if !ok { throw error("Invalid character in identifier") }
                        first = false
                    }
                }
                tokens.append(Token(kind: .name(n), line: line))
                pos = e
                continue
            }
            if c == 39 || c == 34 {
                try lexString(quote: c)
                continue
            }
            var matched: String? = nil
            for (op, bytes) in operatorList where matches(bytes, at: pos) {
                matched = op
                break
            }
            guard let op = matched else {
                let ch = text(pos, min(pos + 1, src.count))
                throw error("unexpected char \(pyRepr(ch)) at \(pos)")
            }
            switch op {
            case "{": balance.append(125)
            case "(": balance.append(41)
            case "[": balance.append(93)
            case "}", ")", "]":
                guard let expected = balance.popLast() else { throw error("unexpected '\(op)'") }
                if expected != op.utf8.first {
                    throw error("unexpected '\(op)', expected '\(String(UnicodeScalar(expected)))'")
                }
            default: break
            }
            tokens.append(Token(kind: .op(op), line: line))
            pos += op.utf8.count
        }
    }

    mutating func lexNumber() throws {
        let start = pos
        func digits(_ p: inout Int, _ ok: (UInt8) -> Bool) -> Bool {
            // (\d+_)*\d+ style: digits with single underscores between
            guard p < src.count && ok(src[p]) else { return false }
            while p < src.count {
                if ok(src[p]) { p += 1 } else if src[p] == 95 && p + 1 < src.count && ok(src[p + 1]) { p += 2 } else { break }
            }
            return true
        }
        // prefixed integers
        if src[pos] == 48 && pos + 1 < src.count {
            let x = src[pos + 1] | 0x20
            let radix: Int? = x == 98 ? 2 : x == 111 ? 8 : x == 120 ? 16 : nil
            if let radix = radix {
                var p = pos + 2
                if p < src.count && src[p] == 95 { p += 1 }
                let ok: (UInt8) -> Bool = { c in
                    switch radix {
                    case 2: return c == 48 || c == 49
                    case 8: return c >= 48 && c <= 55
                    default: return isDigit(c) || ((c | 0x20) >= 97 && (c | 0x20) <= 102)
                    }
                }
                if digits(&p, ok) {
                    let t = TextUtils.dropUnderscores(text(pos + 2, p))
                    tokens.append(Token(kind: .integer(Int(t, radix: radix) ?? 0), line: line))
                    pos = p
                    return
                }
            }
        }
        var p = pos
        _ = digits(&p, isDigit)
        var isFloat = false
        var q = p
        let afterDot = start > 0 && src[start - 1] == 46
        if !afterDot && q < src.count && src[q] == 46 {
            var r = q + 1
            if digits(&r, isDigit) { q = r; isFloat = true }
        }
        if !afterDot && q < src.count && (src[q] | 0x20) == 101 {
            var r = q + 1
            if r < src.count && (src[r] == 43 || src[r] == 45) { r += 1 }
            if digits(&r, isDigit) { q = r; isFloat = true }
        }
        let t = TextUtils.dropUnderscores(text(start, q))
        if isFloat {
            tokens.append(Token(kind: .float(Double(t) ?? 0), line: line))
            pos = q
        } else {
            // decimal: leading zero only as 0(_?0)*
            if src[start] == 48 {
                var e = start + 1
                while e < src.count && (src[e] == 48 || (src[e] == 95 && e + 1 < src.count && src[e + 1] == 48)) { e += src[e] == 95 ? 2 : 1 }
                tokens.append(Token(kind: .integer(0), line: line))
                pos = e
                return
            }
            if let v = Int(t) {
                tokens.append(Token(kind: .integer(v), line: line))
            } else if let b = BigInt(t) {
                tokens.append(Token(kind: .bigInteger(b), line: line))
            } else {
                throw JinjaError(.overflowError, "integer literal too large", templateName: name, line: line)
            }
            pos = p
        }
    }

    mutating func lexString(quote: UInt8) throws {
        var p = pos + 1
        while p < src.count && src[p] != quote {
            if src[p] == 92 { p += 1 }
            p += 1
        }
        guard p < src.count else {
            throw error("unexpected char \(pyRepr(String(UnicodeScalar(quote)))) at \(pos)")
        }
        let raw = text(pos + 1, p)
        line += countNewlines(pos, p)
        tokens.append(Token(kind: .string(try unescape(normalizeNewlines(raw))), line: line))
        pos = p + 1
    }

    /// Python's `unicode-escape` decoding of a string literal body.
    func unescape(_ s: String) throws -> String {
        guard s.utf8.contains(92) else { return s }
        var out = String.UnicodeScalarView()
        var it = Array(s.unicodeScalars)[...]
        while let c = it.popFirst() {
            guard c == "\\", let n = it.popFirst() else { out.append(c); continue }
            switch n {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case "\n": break
            case "x", "u", "U":
                let len = n == "x" ? 2 : n == "u" ? 4 : 8
                var h = ""
                for _ in 0..<len { if let d = it.popFirst() { h.unicodeScalars.append(d) } }
                guard h.count == len, let v = UInt32(h, radix: 16), let u = Unicode.Scalar(v) else {
                    throw error("truncated escape")
                }
                out.append(u)
            case "0"..."7":
                var v = n.value - 48
                for _ in 0..<2 {
                    if let d = it.first, d.value >= 48 && d.value <= 55 { v = v * 8 + d.value - 48; it.removeFirst() }
                }
                if let u = Unicode.Scalar(v) { out.append(u) }
            default:
                out.append("\\"); out.append(n)
            }
        }
        return String(out)
    }
}
