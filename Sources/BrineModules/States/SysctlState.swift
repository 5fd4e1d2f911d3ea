import BrineCore
import Foundation

/// Salt's `sysctl.present`: a kernel parameter set now and kept in a
/// config file, with Salt's words in both modes.
public enum SysctlState: StateModule {
    public static let name = "sysctl"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Set a kernel parameter and keep it in config (default: sysctl.default_config).",
                      [Parameter("value"), Parameter("config", default: .null)]) { call in
            try present(call)
        },
    ]

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let value = call["value"].pythonString
        let config = call.string("config") ?? SysctlModule.defaultConfig
        if call.test { return try preview(call, value: value, config: config) }
        do {
            switch try SysctlModule.persist(name, value, config: config, call.context) {
            case "Updated": return StateResult(name: name, changes: [name: call["value"]], comment: "Updated sysctl value \(name) = \(value)")
            default: return StateResult(name: name, comment: "Sysctl value \(name) = \(value) is already set")
            }
        } catch let error as BrineError {
            return .failed(name, "Failed to set \(name) to \(value): \(error.message)")
        }
    }

    /// test=True: what Salt says would happen, from the file and the running value.
    static func preview(_ call: StateCall, value: String, config: String) throws -> StateResult {
        let name = call.name
        let configured: [String: String]
        if let found = SysctlModule.configured(in: config) {
            configured = Dictionary(uniqueKeysWithValues: found.map { ($0.key, $0.value) })
        } else if !FileOps.exists(config) {
            configured = [:]
        } else {
            return StateResult(name: name, result: nil, comment: "Sysctl option \(name) might be changed, we failed to check config file at \(config). The file is either unreadable, or missing.")
        }
        let current = try SysctlModule.value(of: name, call.context)
        let words = { (s: String) in s.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
        if !current.isEmpty {
            if configured[name] != nil {
                if value.split(whereSeparator: \.isWhitespace) == current.split(whereSeparator: \.isWhitespace) {
                    return StateResult(name: name, comment: "Sysctl value \(name) = \(value) is already set")
                }
            } else if words(current) != words(value) {
                return StateResult(name: name, result: nil, comment: "Sysctl option \(name) set to be changed to \(value)")
            } else {
                return StateResult(name: name, result: nil, comment: "Sysctl value is currently set on the running system but not in a config file. Sysctl option \(name) set to be changed to \(value) in config file.")
            }
        } else if configured[name] != nil {
            return StateResult(name: name, result: nil, comment: "Sysctl value \(name) is present in configuration file but is not present in the running config. The value \(name) is set to be changed to \(value)")
        }
        return StateResult(name: name, result: nil, comment: "Sysctl option \(name) would be changed to \(value)")
    }
}
