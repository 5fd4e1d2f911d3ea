/// A small JSON reader that keeps object key order (the conformance cases
/// depend on it; Foundation's JSONSerialization does not preserve it).
enum JSON: Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    subscript(_ key: String) -> JSON? {
        if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
}

struct JSONParser {
    struct Failure: Error { let message: String }
    let bytes: [UInt8]
    var i = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    static func parse(_ text: String) throws -> JSON {
        var p = JSONParser(text)
        let v = try p.value()
        p.ws()
        guard p.i == p.bytes.count else { throw Failure(message: "trailing data") }
        return v
    }

    mutating func ws() {
        while i < bytes.count, [32, 9, 10, 13].contains(bytes[i]) { i += 1 }
    }

    mutating func value() throws -> JSON {
        ws()
        guard i < bytes.count else { throw Failure(message: "eof") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var pairs: [(String, JSON)] = []
            ws()
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
            while true {
                ws()
                let k = try string()
                ws()
                guard bytes[i] == UInt8(ascii: ":") else { throw Failure(message: "expected :") }
                i += 1
                pairs.append((k, try value()))
                ws()
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard bytes[i] == UInt8(ascii: "}") else { throw Failure(message: "expected }") }
                i += 1
                return .object(pairs)
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSON] = []
            ws()
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                items.append(try value())
                ws()
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard bytes[i] == UInt8(ascii: "]") else { throw Failure(message: "expected ]") }
                i += 1
                return .array(items)
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): i += 4; return .bool(true)
        case UInt8(ascii: "f"): i += 5; return .bool(false)
        case UInt8(ascii: "n"): i += 4; return .null
        case UInt8(ascii: "N"): i += 3; return .double(.nan)
        case UInt8(ascii: "I"): i += 8; return .double(.infinity)
        default:
            let start = i
            if bytes[i] == UInt8(ascii: "-") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "I") { i += 9; return .double(-.infinity) }
            while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
            let t = String(decoding: bytes[start..<i], as: UTF8.self)
            if let n = Int(t) { return .int(n) }
            if let d = Double(t) { return .double(d) }
            throw Failure(message: "bad number \(t)")
        }
    }

    mutating func string() throws -> String {
        guard bytes[i] == UInt8(ascii: "\"") else { throw Failure(message: "expected string") }
        i += 1
        var out = String.UnicodeScalarView()
        var start = i
        func flush(_ end: Int) { out.append(contentsOf: String(decoding: bytes[start..<end], as: UTF8.self).unicodeScalars) }
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { flush(i); i += 1; return String(out) }
            if c == UInt8(ascii: "\\") {
                flush(i)
                i += 1
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append("\n")
                case UInt8(ascii: "t"): out.append("\t")
                case UInt8(ascii: "r"): out.append("\r")
                case UInt8(ascii: "b"): out.append("\u{08}")
                case UInt8(ascii: "f"): out.append("\u{0C}")
                case UInt8(ascii: "u"):
                    var v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) ?? 0
                    i += 4
                    if v >= 0xD800 && v < 0xDC00 && i + 6 <= bytes.count && bytes[i] == UInt8(ascii: "\\") && bytes[i + 1] == UInt8(ascii: "u") {
                        let lo = UInt32(String(decoding: bytes[i + 2..<i + 6], as: UTF8.self), radix: 16) ?? 0
                        if lo >= 0xDC00 && lo < 0xE000 {
                            v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                            i += 6
                        }
                    }
                    out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
                default: out.append(Unicode.Scalar(e))
                }
                start = i
                continue
            }
            i += 1
        }
        throw Failure(message: "unterminated string")
    }
}
