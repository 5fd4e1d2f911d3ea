import BrineCore
import Foundation

/// Salt's `environ` module: the minion process's environment, read-only
/// here (templates read it; setting variables in a daemon is left out).
public enum EnvironModule: ExecutionModule {
    public static let name = "environ"

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("get", doc: "Return an environment variable, or default ('').", [Parameter("key"), Parameter("default", default: "")]) { a, _ in
            guard case .string(let key) = a["key"] else { return false }
            return environment[key].map(Value.string) ?? a["default"]
        },
        ExecutionFunction("has_value", doc: "Whether a variable is set (to value= when given).",
                          [Parameter("key"), Parameter("value", default: .null)]) { a, _ in
            guard case .string(let key) = a["key"], let current = environment[key] else { return false }
            return .bool(a["value"].isNull || a["value"] == .string(current))
        },
        ExecutionFunction("item", doc: "Return a dict of the named variables (default '' for unset ones).",
                          [Parameter("keys"), Parameter("default", default: "")]) { a, _ in
            let keys = a["keys"].stringValue.map { [$0] } ?? (a["keys"].listValue ?? []).map(\.pythonString)
            return Value.ordered(keys.map { ($0, environment[$0].map(Value.string) ?? a["default"]) })
        },
        ExecutionFunction("items", doc: "Return the whole environment.") { _, _ in
            Value.ordered(environment.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        },
    ]
}
