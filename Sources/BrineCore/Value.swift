import Foundation
import OrderedCollections

/// The one dynamic data type of Brine.
///
/// Config, pillar, grains, rendered SLS, module arguments, returns and wire
/// payloads are all `Value`s. Maps keep insertion order because Salt's state
/// ordering depends on the order keys appear in a file.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([Value])
    case map(OrderedDictionary<String, Value>)

    public static let emptyMap = Value.map(OrderedDictionary<String, Value>())

    /// A map with its keys in the given order (a later duplicate wins).
    public static func ordered(_ pairs: [(String, Value)]) -> Value {
        .map(OrderedDictionary(pairs, uniquingKeysWith: { $1 }))
    }
}

// MARK: - Accessors

extension Value {
    /// The same data with every mapping's keys in sorted order, at any depth
    /// (Python's `sort_keys=True` for json and yaml dumps).
    public func sortingKeys() -> Value {
        switch self {
        case .map(let m):
            var out = OrderedDictionary<String, Value>()
            for key in m.keys.sorted() { out[key] = (m[key] ?? .null).sortingKeys() }
            return .map(out)
        case .list(let l): return .list(l.map { $0.sortingKeys() })
        default: return self
        }
    }

    public var isNull: Bool { if case .null = self { true } else { false } }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var intValue: Int? {
        switch self {
        case .int(let i): i
        case .float(let d) where d == d.rounded() && abs(d) < 9.0e18: Int(d)
        default: nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .float(let d): d
        default: nil
        }
    }
    public var listValue: [Value]? { if case .list(let l) = self { l } else { nil } }
    public var mapValue: OrderedDictionary<String, Value>? { if case .map(let m) = self { m } else { nil } }

    /// Python's truthiness, which Salt relies on for flags given as any type.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .float(let d): d != 0
        case .string(let s): !s.isEmpty
        case .list(let l): !l.isEmpty
        case .map(let m): !m.isEmpty
        }
    }

    /// A flag as Salt reads it from arguments: booleans, and the strings a
    /// user types on a command line (`True`, `yes`, `1`…).
    public var asFlag: Bool {
        if case .string(let s) = self {
            switch s.lowercased() {
            case "true", "yes", "on", "1", "y": return true
            default: return false
            }
        }
        return isTruthy
    }

    public subscript(key: String) -> Value? {
        if case .map(let m) = self { return m[key] }
        return nil
    }

    public subscript(index: Int) -> Value? {
        if case .list(let l) = self, l.indices.contains(index) { return l[index] }
        return nil
    }

    /// Looks up a `:`-delimited path (`apache:sites:example.org`) the way
    /// Salt's `traverse_dict_and_list` does: map keys, then list indexes.
    public func traverse(_ path: String, delimiter: String = ":") -> Value? {
        var current = self
        for part in path.components(separatedBy: delimiter) {
            switch current {
            case .map(let m):
                guard let next = m[part] else { return nil }
                current = next
            case .list(let l):
                guard let index = Int(part), l.indices.contains(index) else {
                    // Salt also matches a list of single-key maps by key.
                    if let found = l.lazy.compactMap({ $0[part] }).first {
                        current = found
                        continue
                    }
                    return nil
                }
                current = l[index]
            default:
                return nil
            }
        }
        return current
    }

    /// The name Python would print for this value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .list: "list"
        case .map: "dict"
        }
    }
}

// MARK: - Merging

extension Value {
    /// Recursive dictionary merge as Salt's `salt.utils.dictupdate.update`
    /// does it: maps merge key by key, anything else is replaced by `other`.
    /// With `mergeLists`, lists are concatenated (duplicates dropped).
    public func merged(with other: Value, mergeLists: Bool = false) -> Value {
        switch (self, other) {
        case (.map(var base), .map(let overlay)):
            for (key, value) in overlay {
                if let existing = base[key] {
                    base[key] = existing.merged(with: value, mergeLists: mergeLists)
                } else {
                    base[key] = value
                }
            }
            return .map(base)
        case (.list(let base), .list(let overlay)) where mergeLists:
            var result = base
            for item in overlay where !result.contains(item) { result.append(item) }
            return .list(result)
        default:
            return other
        }
    }
}

// MARK: - Literals

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(arrayLiteral elements: Value...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        var dict = OrderedDictionary<String, Value>()
        for (key, value) in elements { dict[key] = value }
        self = .map(dict)
    }
    public init(nilLiteral: ()) { self = .null }
}

// MARK: - Python-style text

extension Value {
    /// `str()` of the value as Python prints it; Salt's outputters and
    /// comments show values this way (`True`, `None`, `['a', 'b']`).
    public var pythonString: String {
        switch self {
        case .string(let s): s
        default: pythonRepr
        }
    }

    /// `repr()` as Python prints it.
    public var pythonRepr: String {
        switch self {
        case .null: "None"
        case .bool(let b): b ? "True" : "False"
        case .int(let i): String(i)
        case .float(let d): Value.pythonFloat(d)
        case .string(let s): Value.pythonQuote(s)
        case .list(let l): "[" + l.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .map(let m):
            "{" + m.map { Value.pythonQuote($0.key) + ": " + $0.value.pythonRepr }.joined(separator: ", ") + "}"
        }
    }

    public static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == d.rounded(), abs(d) < 1e16 {
            return String(format: "%.1f", d)
        }
        var text = "\(d)"
        if let e = text.firstIndex(of: "e") {
            // Swift prints 1e+16 as "1e+16"; Python prints "1e+16" too, but
            // small exponents need two digits ("1e-05").
            let mantissa = text[..<e]
            var exponent = String(text[text.index(after: e)...])
            var sign = "+"
            if exponent.hasPrefix("-") { sign = "-"; exponent.removeFirst() }
            if exponent.hasPrefix("+") { exponent.removeFirst() }
            if exponent.count < 2 { exponent = "0" + exponent }
            text = mantissa + "e" + sign + exponent
        }
        return text
    }

    public static func pythonQuote(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for ch in s.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(ch) == quote {
                    out += "\\" + String(quote)
                } else if ch.value < 0x20 || ch.value == 0x7f {
                    out += String(format: "\\x%02x", ch.value)
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
        out.append(quote)
        return out
    }
}
