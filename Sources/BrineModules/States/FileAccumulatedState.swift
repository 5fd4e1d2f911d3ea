import BrineCore
import Foundation
import OrderedCollections
import Synchronization

/// Salt's `file.accumulated`: texts gathered during a run for a file that a
/// later `file.managed` (its template's `accumulator` variable) or
/// `file.blockreplace` (its block) writes. The accumulator must name that
/// state in `require_in` or `watch_in`, so it runs first.
enum FileAccumulatedState {
    static let parameters: [Parameter] = [Parameter("filename"), Parameter("text")]

    static func accumulated(_ call: StateCall) throws -> StateResult {
        let name = call.name
        guard !name.isEmpty else { return .failed(name, "Must provide name to file.accumulated") }
        let text = call["text"]
        guard !text.isNull else { return .failed(name, "No text supplied for accumulator") }
        // Salt reads the requisites from its low chunk: `require_in` then `watch_in`.
        let deps = ["require_in", "watch_in"].flatMap { key in
            let value = call.arguments.extraKeywords[key] ?? .null
            return value.listValue ?? (value.isNull ? [] : [value])
        }
        guard deps.contains(where: namesFileState) else {
            return .failed(name, "Orphaned accumulator \(name) in \(call.sls):\(call.id)")
        }
        let texts = text.listValue ?? [text]
        let filename = call["filename"].pythonString
        let charged = call.facts.accumulators.withLock { $0.charge(file: filename, name: name, texts: texts, deps: deps) }
        return StateResult(name: name, comment: charged ? "Accumulator \(name) for file \(filename) was charged by text" : "")
    }

    /// Salt's `"file" in x`: a key of a mapping, a substring of a string.
    static func namesFileState(_ dep: Value) -> Bool {
        switch dep {
        case .map(let map): map["file"] != nil
        case .string(let s): s.contains("file")
        case .list(let items): items.contains(.string("file"))
        default: false
        }
    }
}

/// A run's accumulators (Salt keeps them in a per-run file of its cache):
/// file → accumulator → texts, and the state names each accumulator was
/// declared for.
public struct Accumulators: Sendable {
    var texts: [String: OrderedDictionary<String, [Value]>] = [:]
    var deps: [String: OrderedDictionary<String, [Value]>] = [:]

    /// Adds the texts not there yet; true when one was added.
    mutating func charge(file: String, name: String, texts added: [Value], deps given: [Value]) -> Bool {
        for dep in given {
            switch dep {
            // Salt extends with a mapping's values, or with a string's characters.
            case .map(let map): deps[file, default: [:]][name, default: []].append(contentsOf: map.values)
            case .string(let s): deps[file, default: [:]][name, default: []].append(contentsOf: s.map { .string(String($0)) })
            case .list(let items): deps[file, default: [:]][name, default: []].append(contentsOf: items)
            default: break
            }
        }
        var charged = false
        var list = texts[file, default: [:]][name, default: []]
        for text in added where !list.contains(text) {
            list.append(text)
            charged = true
        }
        texts[file, default: [:]][name] = list
        return charged
    }

    /// `file.managed`'s template variable: accumulator → texts, when any
    /// accumulator named the file.
    public func variable(for file: String) -> Value? {
        texts[file].map { .map(OrderedDictionary(uniqueKeysWithValues: $0.map { ($0.key, Value.list($0.value)) })) }
    }

    /// `file.blockreplace`'s lines: those of the accumulators declared for
    /// the state with this ID, else of all the file's.
    public func lines(for file: String, stateID: String) -> [String]? {
        guard let accumulator = texts[file] else { return nil }
        let declared = (deps[file] ?? [:]).filter { $0.value.contains(.string(stateID)) && accumulator[$0.key] != nil }.map(\.key)
        let names = declared.isEmpty ? Array(accumulator.keys) : declared
        return names.flatMap { (accumulator[$0] ?? []).map(\.pythonString) }
    }
}
