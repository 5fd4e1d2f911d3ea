import BrineCore
import Foundation

/// Python `re` patterns and replacement templates on top of ICU's
/// NSRegularExpression, which shares almost all of Python's syntax.
public struct PyRegex: @unchecked Sendable {
    // NSRegularExpression is immutable and thread-safe once built.
    public let regex: NSRegularExpression

    /// `flags` as Salt takes them: Python's integer (`8` = MULTILINE) or a
    /// list of names (`[IGNORECASE, MULTILINE]`).
    public init(_ pattern: String, flags: Value = 8) throws(BrineError) {
        var options: NSRegularExpression.Options = []
        var bits = 0
        switch flags {
        case .int(let i): bits = i
        case .list(let names):
            for name in names.map({ $0.pythonString.uppercased() }) {
                bits |= ["I": 2, "IGNORECASE": 2, "L": 4, "LOCALE": 4, "M": 8, "MULTILINE": 8, "S": 16, "DOTALL": 16,
                         "U": 32, "UNICODE": 32, "X": 64, "VERBOSE": 64][name] ?? 0
            }
        case .string(let s): bits = Int(s) ?? 8
        default: bits = 8
        }
        if bits & 2 != 0 { options.insert(.caseInsensitive) }
        if bits & 8 != 0 { options.insert(.anchorsMatchLines) }
        if bits & 16 != 0 { options.insert(.dotMatchesLineSeparators) }
        if bits & 64 != 0 { options.insert(.allowCommentsAndWhitespace) }
        do {
            regex = try NSRegularExpression(pattern: PyRegex.translate(pattern), options: options)
        } catch {
            throw BrineError(.arguments, "invalid regular expression '\(pattern)'")
        }
    }

    /// Python-only syntax to ICU: named groups and back-references.
    static func translate(_ pattern: String) -> String {
        pattern.replacingOccurrences(of: "(?P<", with: "(?<")
            .replacingOccurrences(of: #"\(\?P=(\w+)\)"#, with: #"\\k<$1>"#, options: .regularExpression)
            .replacingOccurrences(of: #"\Z"#, with: #"\z"#)
    }

    public func firstMatch(in text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// `re.subn`: the new text and the number of replacements (`count` 0 = all).
    public func substitute(in text: String, with replacement: String, count: Int = 0) -> (String, Int) {
        let range = NSRange(text.startIndex..., in: text)
        var matches = regex.matches(in: text, range: range)
        if count > 0 { matches = Array(matches.prefix(count)) }
        guard !matches.isEmpty else { return (text, 0) }
        let source = text as NSString
        var out = ""
        var cursor = 0
        for match in matches {
            out += source.substring(with: NSRange(location: cursor, length: match.range.location - cursor))
            out += expand(replacement, match: match, in: source)
            cursor = match.range.location + match.range.length
        }
        out += source.substring(from: cursor)
        return (out, matches.count)
    }

    /// Expands a Python replacement template: `\1`, `\g<1>`, `\g<name>`,
    /// and the escapes `\n`, `\t`, `\\`.
    func expand(_ template: String, match: NSTextCheckingResult, in source: NSString) -> String {
        func group(_ index: Int) -> String {
            guard index < match.numberOfRanges else { return "" }
            let r = match.range(at: index)
            return r.location == NSNotFound ? "" : source.substring(with: r)
        }
        var out = ""
        var chars = Array(template)[...]
        while let ch = chars.popFirst() {
            guard ch == "\\", let next = chars.first else { out.append(ch); continue }
            if next.isNumber {
                var digits = String(chars.popFirst() ?? "0")
                if let more = chars.first, more.isNumber { digits.append(more); chars = chars.dropFirst() }
                out += group(Int(digits) ?? 0)
            } else if next == "g", chars.dropFirst().first == "<", let close = chars.firstIndex(of: ">") {
                let name = String(chars[chars.index(chars.startIndex, offsetBy: 2)..<close])
                if let index = Int(name) {
                    out += group(index)
                } else {
                    let r = match.range(withName: name)
                    if r.location != NSNotFound { out += source.substring(with: r) }
                }
                chars = chars[chars.index(after: close)...]
            } else {
                chars = chars.dropFirst()
                switch next {
                case "n": out += "\n"
                case "t": out += "\t"
                case "r": out += "\r"
                case "\\": out += "\\"
                default: out += "\\" + String(next)
                }
            }
        }
        return out
    }
}
