/// Byte-level text operations for paths and words on the hot start-up
/// path. Foundation's `replacingOccurrences`/`trimmingCharacters` bridge to
/// NSString, and their first use in a process costs more than the work.
public enum ASCIIText {
    /// `text` with every `byte` replaced by `replacement` (ASCII bytes).
    public static func replacing(_ byte: UInt8, with replacement: UInt8, in text: String) -> String {
        guard text.utf8.contains(byte) else { return text }
        return String(decoding: text.utf8.map { $0 == byte ? replacement : $0 }, as: UTF8.self)
    }

    /// `text` without whitespace (Unicode's) at either end, as Python's `strip()`.
    public static func trimmed(_ text: String) -> Substring {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return Substring(scalars[first...last])
    }

    /// Two lowercase hex digits per byte, joined by `separator`.
    public static func hex(_ bytes: some Sequence<UInt8>, separator: String = "", uppercase: Bool = false) -> String {
        let digits: [UInt8] = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        for (i, byte) in bytes.enumerated() {
            if i > 0 { out += separator.utf8 }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Python's `str.splitlines()`: lines without their ends, at every
    /// Unicode line boundary Python knows (`\r\n` is one). The Jinja target
    /// keeps its own copy: it depends on nothing.
    public static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var scalars = text.unicodeScalars[...]
        while let scalar = scalars.popFirst() {
            switch scalar {
            case "\r" where scalars.first == "\n":
                scalars.removeFirst()
                fallthrough
            case "\n", "\r", "\u{0B}", "\u{0C}", "\u{1C}", "\u{1D}", "\u{1E}", "\u{85}", "\u{2028}", "\u{2029}":
                lines.append(String(current))
                current = String.UnicodeScalarView()
            default:
                current.append(scalar)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    /// Python's readlines: each line with its newline, the last without one when the text has none.
    public static func linesKeepingEnds(_ text: String) -> [String] {
        // By bytes: Swift's "\r\n" is one Character, which a search for "\n" would not find.
        var lines: [String] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            current.append(byte)
            if byte == UInt8(ascii: "\n") {
                lines.append(String(decoding: current, as: UTF8.self))
                current = []
            }
        }
        if !current.isEmpty { lines.append(String(decoding: current, as: UTF8.self)) }
        return lines
    }
}
