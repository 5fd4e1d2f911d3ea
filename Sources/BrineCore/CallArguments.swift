import Foundation
import OrderedCollections

/// Arguments of a call as a user types them: positional values and
/// `key=value` keyword values, already YAML-typed.
public struct CallArguments: Sendable, Hashable {
    public var positional: [Value]
    public var keyword: OrderedDictionary<String, Value>

    public init(positional: [Value] = [], keyword: OrderedDictionary<String, Value> = [:]) {
        self.positional = positional
        self.keyword = keyword
    }

    /// Salt's `parse_input`: `key=value` words become keyword arguments
    /// (the key must look like an identifier and the `=` must not start
    /// `==`), everything else is positional; each value is `yamlify`-ed.
    /// `keepingText`: keyword names whose values stay text (salt-call's `--no-parse`).
    public static func parse(_ words: [String], keepingText: Set<String> = []) -> CallArguments {
        var result = CallArguments()
        for word in words {
            if let (key, value) = splitKeyword(word) {
                result.keyword[key] = keepingText.contains(key) ? .string(value) : yamlify(value)
            } else {
                result.positional.append(yamlify(word))
            }
        }
        return result
    }

    static func splitKeyword(_ word: String) -> (String, String)? {
        guard let eq = word.firstIndex(of: "=") else { return nil }
        let key = word[..<eq]
        let rest = word[word.index(after: eq)...]
        if rest.hasPrefix("=") { return nil }
        guard let first = key.unicodeScalars.first,
            first == "_" || first.properties.isAlphabetic,
            key.unicodeScalars.allSatisfy({ $0 == "_" || $0 == "." || $0 == "-" || $0.properties.isAlphabetic
                || ("0"..."9").contains($0) })
        else { return nil }
        return (String(key), String(rest))
    }

    /// Salt's `yamlify_arg`: a word becomes the YAML value it spells when
    /// that is a scalar, or a list/dict written in brackets/braces.
    public static func yamlify(_ word: String) -> Value {
        let stripped = ASCIIText.trimmed(word)
        if stripped.isEmpty { return .string(word) }
        if word.utf8.contains(UInt8(ascii: "_")), stripped.allSatisfy({ $0 == "_" || $0.isNumber }) {
            return .string(word)
        }
        if word == "None" { return .null }
        guard let parsed = try? YAML.decode(word) else { return .string(word) }
        switch parsed {
        case .map: return word.hasPrefix("{") ? parsed : .string(word)
        case .list: return word.hasPrefix("[") ? parsed : .string(word)
        case .null:
            return word.contains("#") || word == "!" ? .string(word) : .null
        case .string(let s):
            if s.isEmpty && (word == "|" || word == "!") { return .string(word) }
            if word.contains("#") { return .string(word) }
            return parsed
        default:
            return parsed
        }
    }
}
