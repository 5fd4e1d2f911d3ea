import OrderedCollections

/// JSON for `Value`, written by hand because Foundation's JSONSerialization
/// loses key order and confuses `1`, `1.0` and `true`.
public enum JSON {
    // MARK: Encoding

    /// `indent: nil` gives compact `{"a": 1}` output (Python's default
    /// separators); an indent gives Salt's `--out=json` layout.
    /// `asciiOnly`: Python's `ensure_ascii=True` (see `quote(_:asciiOnly:)`).
    public static func encode(_ value: Value, indent requested: Int? = 4, asciiOnly: Bool = false) -> String {
        // Python accepts any indent; past a screen's width it only costs memory.
        let indent = requested.map { min(max($0, 0), 1024) }
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        write(value, indent: indent, asciiOnly: asciiOnly, level: 0, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Written as UTF-8 bytes: `show_sls` of a large formula prints
    /// hundreds of kilobytes, and String appends cost several times more.
    private static func write(_ value: Value, indent: Int?, asciiOnly: Bool, level: Int, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .float(let d):
            if d.isNaN { out.append(contentsOf: "NaN".utf8) } else if d.isInfinite {
                out.append(contentsOf: (d < 0 ? "-Infinity" : "Infinity").utf8)
            } else {
                out.append(contentsOf: Value.pythonFloat(d).utf8)
            }
        case .string(let s): asciiOnly ? out.append(contentsOf: quote(s, asciiOnly: true).utf8) : quote(s, into: &out)
        case .list(let items):
            if items.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { separator(indent, &out) }
                newline(indent, level + 1, &out)
                write(item, indent: indent, asciiOnly: asciiOnly, level: level + 1, into: &out)
            }
            newline(indent, level, &out)
            out.append(UInt8(ascii: "]"))
        case .map(let map):
            if map.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, item) in map {
                if !first { separator(indent, &out) }
                first = false
                newline(indent, level + 1, &out)
                asciiOnly ? out.append(contentsOf: quote(key, asciiOnly: true).utf8) : quote(key, into: &out)
                out.append(UInt8(ascii: ":"))
                out.append(UInt8(ascii: " "))
                write(item, indent: indent, asciiOnly: asciiOnly, level: level + 1, into: &out)
            }
            newline(indent, level, &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Python's separators: ", " on one line, "," before a newline.
    private static func separator(_ indent: Int?, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        if indent == nil { out.append(UInt8(ascii: " ")) }
    }

    private static func newline(_ indent: Int?, _ level: Int, _ out: inout [UInt8]) {
        guard let indent else { return }
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: max(0, indent * level)))
    }

    public static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        quote(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `asciiOnly`: Python's `ensure_ascii=True`, everything past `~`
    /// written as `\uXXXX` (UTF-16, surrogate pairs beyond the BMP).
    public static func quote(_ s: String, asciiOnly: Bool) -> String {
        let quoted = quote(s)
        guard asciiOnly, quoted.utf8.contains(where: { $0 >= 0x7F }) else { return quoted }
        var out: [UInt8] = []
        for scalar in quoted.unicodeScalars {
            guard scalar.value >= 0x7F else { out.append(UInt8(scalar.value)); continue }
            for unit in String(scalar).utf16 {
                out.append(contentsOf: "\\u".utf8)
                for shift in [12, 8, 4, 0] { out.append(hex[Int(unit >> UInt16(shift) & 15)]) }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string as Python's `json.dumps(ensure_ascii=False)` writes it:
    /// quotes, backslashes and control characters escaped, the rest as is.
    static func quote(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: Decoding

    public static func decode(_ text: String, file: String = "<string>") throws(BrineError) -> Value {
        var parser = Parser(bytes: Array(text.utf8), file: file)
        parser.skipSpace()
        let value = try parser.parseValue(depth: 0)
        parser.skipSpace()
        guard parser.index == parser.bytes.count else {
            throw parser.error("unexpected text after the JSON value")
        }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        let file: String
        var index = 0

        init(bytes: [UInt8], file: String) {
            self.bytes = bytes
            self.file = file
        }

        func error(_ message: String) -> BrineError {
            let line = bytes[..<min(index, bytes.count)].reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
            return BrineError(.json, message, at: SourceLocation(file: file, line: line))
        }

        mutating func skipSpace() {
            while index < bytes.count, [9, 10, 13, 32].contains(bytes[index]) { index += 1 }
        }

        mutating func parseValue(depth: Int) throws(BrineError) -> Value {
            guard depth < 512 else { throw error("nesting deeper than 512 levels") }
            guard index < bytes.count else { throw error("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "N"): try expect("NaN"); return .float(.nan)
            case UInt8(ascii: "I"): try expect("Infinity"); return .float(.infinity)
            default: return try parseNumber()
            }
        }

        mutating func expect(_ word: String) throws(BrineError) {
            for byte in word.utf8 {
                guard index < bytes.count, bytes[index] == byte else { throw error("invalid literal, expected \(word)") }
                index += 1
            }
        }

        mutating func parseObject(depth: Int) throws(BrineError) -> Value {
            index += 1
            var map = OrderedDictionary<String, Value>()
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .map(map) }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try parseString()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after key") }
                index += 1
                skipSpace()
                map[key] = try parseValue(depth: depth + 1)
                skipSpace()
                guard index < bytes.count else { throw error("unterminated object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .map(map) }
                throw error("expected ',' or '}' in object")
            }
        }

        mutating func parseArray(depth: Int) throws(BrineError) -> Value {
            index += 1
            var items: [Value] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .list(items) }
            while true {
                skipSpace()
                items.append(try parseValue(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw error("unterminated array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .list(items) }
                throw error("expected ',' or ']' in array")
            }
        }

        mutating func parseNumber() throws(BrineError) -> Value {
            let start = index
            var isFloat = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "I") {
                    try expect("Infinity")
                    return .float(-.infinity)
                }
            }
            while index < bytes.count {
                let b = bytes[index]
                if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                    index += 1
                } else if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
                    || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
                {
                    isFloat = true
                    index += 1
                } else {
                    break
                }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if !isFloat, let i = Int(text) { return .int(i) }
            if let d = Double(text), !text.isEmpty { return .float(d) }
            throw error("invalid number '\(text)'")
        }

        mutating func parseString() throws(BrineError) -> String {
            index += 1
            var out = [UInt8]()
            while index < bytes.count {
                let b = bytes[index]
                index += 1
                switch b {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw error("unterminated escape") }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "t"): out.append(9)
                    case UInt8(ascii: "r"): out.append(13)
                    case UInt8(ascii: "b"): out.append(8)
                    case UInt8(ascii: "f"): out.append(12)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count,
                            bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                        {
                            index += 2
                            let low = try hex4()
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default: out.append(e)
                    }
                default:
                    out.append(b)
                }
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws(BrineError) -> UInt32 {
            guard index + 4 <= bytes.count,
                let v = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
            else { throw error("invalid \\u escape") }
            index += 4
            return v
        }
    }
}
