import BrineCore
import Foundation
import OrderedCollections

/// Salt's `file.keyvalue`: `key<separator>value` lines of a file set to the
/// wanted values (found by key, optionally uncommented, appended or
/// prepended when missing, other lines pruned), with Salt's diff and words.
enum FileKeyvalueState {
    static let parameters: [Parameter] = .optional("key", "value", "key_values", "uncomment")
        + [Parameter("separator", default: "="), Parameter("append_if_not_found", default: false),
           Parameter("prepend_if_not_found", default: false), Parameter("search_only", default: false),
           Parameter("show_changes", default: true), Parameter("ignore_if_missing", default: false), Parameter("count", default: 1),
           Parameter("key_ignore_case", default: false), Parameter("value_ignore_case", default: false),
           Parameter("create_if_missing", default: false), Parameter("prune", default: false)]

    /// Python's `str(value)` and, for the diff, `type(value).__name__`.
    static func text(_ value: Value) -> String { value.pythonString }

    static func typeName(_ value: Value) -> String {
        switch value {
        case .string: "str"
        case .int: "int"
        case .float: "float"
        case .bool: "bool"
        case .list: "list"
        case .map: "dict"
        case .null: "NoneType"
        }
    }

    /// Python's `str.lstrip(chars)` (whitespace when chars is nil).
    static func leftStripped(_ line: Substring, _ chars: String?) -> Substring {
        line.drop { character in chars.map { $0.contains(character) } ?? character.isWhitespace }
    }

    static func keyvalue(_ call: StateCall) throws -> StateResult {
        let name = FileOps.expandUser(call.name)
        guard !name.isEmpty else { return .failed(name, "Must provide name to file.keyvalue") }
        var wanted = OrderedDictionary<String, Value>()
        if !call["key"].isNull && !call["value"].isNull {
            if call["key_values"].mapValue != nil { return .failed(name, "file.keyvalue can not combine key_values with key and value") }
            wanted[call["key"].pythonString] = call["value"]
        } else if let map = call["key_values"].mapValue, !map.isEmpty {
            wanted = map
        } else {
            let why = call["key_values"].isTruthy ? "is not a dictionary" : "is empty"
            return .failed(name, "file.keyvalue key and value not supplied and key_values " + why)
        }
        var appendMissing = call.bool("append_if_not_found")
        var lines: [Substring]
        if FileOps.isFile(name) {
            lines = splitKeepingNewlines(try FileOps.readUniversalText(name))
        } else if !FileOps.exists(name) && call.bool("create_if_missing") {
            appendMissing = true
            lines = []
        } else {
            return StateResult(name: name, result: call.bool("ignore_if_missing"), comment: "unable to open \(name)")
        }
        let separator = call.string("separator") ?? "="
        let uncomment = call.string("uncomment")
        let keyIgnoreCase = call.bool("key_ignore_case"), valueIgnoreCase = call.bool("value_ignore_case")
        let count = call.arguments.int("count") ?? 1
        var left = wanted.mapValues { _ in count }
        var diff: [String] = [], content: [String] = [], notMatched: [String] = []
        var changes = 0
        for raw in lines {
            var line = String(raw)
            var testLine = String(leftStripped(raw, uncomment))
            let didUncomment = line.count > testLine.count
            if keyIgnoreCase { testLine = testLine.lowercased() }
            let working = didUncomment ? String(leftStripped(raw, uncomment)) : line
            let (lineKey, lineSep, rawValue) = partition(working, separator)
            if call.bool("prune"), !wanted.keys.contains(where: { testLine.hasPrefix(keyIgnoreCase ? $0.lowercased() : $0) }) {
                notMatched.append(line)
                continue
            }
            for (key, value) in wanted {
                let testKey = keyIgnoreCase ? key.lowercased() : key
                guard testLine.hasPrefix(testKey), lineSep == separator,
                      (keyIgnoreCase ? lineKey.lowercased() : lineKey) == testKey else { continue }
                var lineValue = rawValue.trimmingCharacters(in: .whitespacesAndNewlines)
                var testValue = text(value).trimmingCharacters(in: .whitespacesAndNewlines)
                if valueIgnoreCase { (lineValue, testValue) = (lineValue.lowercased(), testValue.lowercased()) }
                var valuesMatch = lineValue == testValue
                var needsChanging = false
                if didUncomment {
                    if left[key, default: 0] > 0 { needsChanging = true } else if !valuesMatch { valuesMatch = true }
                } else if left[key, default: 0] == 0 {
                    needsChanging = true
                }
                if !valuesMatch || needsChanging {
                    diff.append("- \(line)")
                    line = ""
                    if left[key, default: 0] != 0 {
                        line = "\(lineKey)\(lineSep)\(text(value))\n"
                        if case .string = value {
                            diff.append("+ \(line)")
                        } else {
                            diff.append("+ \(line.trimmingCharacters(in: .whitespacesAndNewlines)) (from \(typeName(value)) type)\n")
                        }
                    }
                    changes += 1
                }
                if left[key, default: 0] > 0 { left[key, default: 0] -= 1 }
            }
            content.append(line)  // "" for a line that was removed
        }
        if appendMissing {
            var added: [String] = []
            for (key, value) in wanted where left[key, default: 0] > 0 {
                let line = "\(key)\(separator)\(text(value))\n"
                added.append("+ \(line)")
                content.append(line)
                changes += 1
            }
            if !added.isEmpty { diff += ["- <EOF>\n"] + added + ["+ <EOF>\n"] }
        } else if call.bool("prepend_if_not_found") {
            var didDiff = false
            for (key, value) in wanted where left[key, default: 0] > 0 {
                let line = "\(key)\(separator)\(text(value))\n"
                if !didDiff { diff.insert("  <SOF>\n", at: 0); didDiff = true }
                diff.insert("+ \(line)", at: 1)
                content.insert(line, at: 0)
                changes += 1
            }
        }
        if call.bool("prune") { for line in notMatched { diff.insert("- \(line)", at: min(1, diff.count)) } }
        let deletions = notMatched.count
        guard changes > 0 || deletions > 0 else { return StateResult(name: name) }
        var ret = StateResult(name: name, result: nil)
        if call.test {
            ret.comment = "File \(name) is set to be changed (\(changes) lines modified, \(deletions) deleted)"
            if call.flag("show_changes", default: true) {
                ret.changes["diff"] = .string(diff.joined())
                ret.comment += "\nPredicted diff:\n\r\t\t" + diff.joined(separator: "\r\t\t")
            }
            return ret
        }
        ret.comment = "Changed \(changes), deleted \(deletions) lines"
        if call.flag("show_changes", default: true) { ret.changes["diff"] = .string(diff.joined()) }
        try AtomicFile.write(content.joined(), to: name)
        ret.result = true
        return ret
    }

    /// Python's `readlines()`: each line with its newline.
    static func splitKeepingNewlines(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        var start = text.startIndex
        for index in text.indices where text[index] == "\n" {
            lines.append(text[start...index])
            start = text.index(after: index)
        }
        if start < text.endIndex { lines.append(text[start...]) }
        return lines
    }

    /// Python's `str.partition(sep)`.
    static func partition(_ text: String, _ separator: String) -> (String, String, String) {
        guard !separator.isEmpty, let range = text.range(of: separator) else { return (text, "", "") }
        return (String(text[..<range.lowerBound]), separator, String(text[range.upperBound...]))
    }
}
