import BrineCore
import Foundation
import OrderedCollections

/// Salt's `file.serialize`: data from the state (or a pillar key) written
/// as JSON or YAML the way Salt's serializers write it, through
/// `file.managed`'s code (temporary file and rename, owner, mode, diff).
enum FileSerializeState {
    static let parameters: [Parameter] = .optional("dataset", "dataset_pillar", "user", "group", "mode", "serializer",
                                                   "formatter", "serializer_opts", "deserializer_opts", "encoding")
        + [Parameter("backup", default: ""), Parameter("makedirs", default: false), Parameter("show_changes", default: true),
           Parameter("create", default: true), Parameter("merge_if_exists", default: false)]

    static func serialize(_ call: StateCall) throws -> StateResult {
        let path = call.name
        guard !path.isEmpty else { return .failed(path, "Must provide name to file.serialize") }
        if !call.flag("create", default: true) && !FileOps.isFile(path) {
            return StateResult(name: path, comment: "File \(path) is not present and is not set for creation")
        }
        if call.string("serializer") != nil && call.string("formatter") != nil {
            return .failed(path, "Only one of serializer and formatter are allowed")
        }
        let format = (call.string("serializer") ?? call.string("formatter") ?? "yaml").lowercased()
        if call["dataset"].isTruthy && call["dataset_pillar"].isTruthy {
            return .failed(path, "Only one of 'dataset' and 'dataset_pillar' is permitted")
        }
        var dataset = call["dataset"]
        if let key = call.string("dataset_pillar"), !key.isEmpty {
            dataset = try call.context.pillar().traverse(key) ?? ""  // pillar.get's default, as in Salt
        }
        if dataset.isNull { return .failed(path, "Neither 'dataset' nor 'dataset_pillar' was defined") }
        guard let serializer = Serializer(rawValue: format) else {
            return .failed(path, "The \(format) serializer could not be found. It either does not exist or its prerequisites are not installed.")
        }
        var existing: Value?
        if call.bool("merge_if_exists"), FileOps.isFile(path) {
            let text = try FileOps.readText(path)
            do throws(BrineError) {
                existing = try serializer.decode(text, file: path)
            } catch {
                return .failed(path, "Failed to deserialize existing data: \(error.message)")
            }
            if let existing {
                let merged = existing.merged(with: dataset)  // Salt's dictupdate.merge_recurse
                if merged == existing { return StateResult(name: path, comment: "The file \(path) is in the correct state") }
                dataset = merged
            }
        }
        var managed = call
        managed.arguments.values["contents"] = .string(serializer.encode(dataset, asciiOnly: call.string("encoding") == nil))
        managed.arguments.values["source"] = .null
        managed.arguments.values["template"] = .null
        var ret = try FileState.managed(managed)
        if call.test && ret.result != false {
            ret.comment = ret.result == nil ? "Dataset will be serialized and stored into \(path)" : "The file \(path) is in the correct state"
        }
        if let existing, ret.result != false, case .map = existing, case .map = dataset {
            ret.changes["diff"] = .map(recursiveDiff(new: dataset, old: existing))
        }
        return ret
    }

    /// The formats Salt's serializers write for `file.serialize`.
    enum Serializer: String {
        case yaml, json

        /// yaml: block style, keys sorted, non-ASCII escaped unless an
        /// `encoding` is given; json: `indent=2`, keys sorted, text as it is
        /// (Salt's options for its serializers).
        func encode(_ value: Value, asciiOnly: Bool) -> String {
            switch self {
            case .yaml: YAML.encodeSorted(value, asciiOnly: asciiOnly)
            case .json: JSON.encode(value.sortingKeys(), indent: 2) + "\n"
            }
        }

        func decode(_ text: String, file: String) throws(BrineError) -> Value {
            switch self {
            case .yaml: try YAML.decode(text, file: file)
            case .json: try JSON.decode(text, file: file)
            }
        }
    }

    /// Salt's `RecursiveDictDiffer(old, new).diffs`: changed leaves as
    /// `{new, old}`, nested mappings as nested diffs, a missing side as
    /// `<_null_>`.
    static func recursiveDiff(new: Value, old: Value, depth: Int = 0) -> OrderedDictionary<String, Value> {
        guard depth < 256, case .map(let newMap) = new, case .map(let oldMap) = old else { return [:] }
        var diff = OrderedDictionary<String, Value>()
        for (key, value) in newMap {
            guard let before = oldMap[key] else {
                diff[key] = ["new": value, "old": "<_null_>"]
                continue
            }
            guard before != value else { continue }
            if case .map = value, case .map = before {
                let nested = recursiveDiff(new: value, old: before, depth: depth + 1)
                if !nested.isEmpty { diff[key] = .map(nested) }
            } else {
                diff[key] = ["new": value, "old": before]
            }
        }
        for (key, value) in oldMap where newMap[key] == nil { diff[key] = ["new": "<_null_>", "old": value] }
        return diff
    }
}
