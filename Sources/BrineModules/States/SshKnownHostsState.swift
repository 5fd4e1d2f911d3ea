import BrineCore
import Foundation

/// Salt's `ssh_known_hosts` states: a host's key in the system's or a
/// user's known_hosts (given as `key` + `enc`, or fetched with ssh-keyscan
/// and checked against `fingerprint`).
public enum SshKnownHostsState: StateModule {
    public static let name = "ssh_known_hosts"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Make sure the host's key is in known_hosts (key+enc, or fingerprint of what ssh-keyscan gets).",
                      .optional("user", "fingerprint", "key", "port", "enc", "config", "fingerprint_hash_type")
                          + [Parameter("hash_known_hosts", default: true), Parameter("timeout", default: 5)]) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Make sure the host has no key in known_hosts.", .optional("user", "config")) { call in
            try absent(call)
        },
    ]

    static func config(_ call: StateCall) -> String {
        call.string("config") ?? (call.string("user") == nil ? "/etc/ssh/ssh_known_hosts" : ".ssh/known_hosts")
    }

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name, user = call.string("user"), config = config(call)
        let key = call.string("key"), enc = call.string("enc"), fingerprint = call.string("fingerprint")
        let hash = call.string("fingerprint_hash_type"), port = call.arguments.int("port")
        if user == nil && !config.hasPrefix("/") {
            return .failed(name, "If not specifying a \"user\", specify an absolute \"config\".")
        }
        if call.test {
            if key != nil && fingerprint != nil { return .failed(name, "Specify either \"key\" or \"fingerprint\", not both.") }
            if key != nil && enc == nil { return .failed(name, "Required argument \"enc\" if using \"key\" argument.") }
            let file = try SshModule.knownHostsFile(config, user: user)
            let entries = try SshModule.knownHostEntries(name, port: port, file: file, hash: hash, call.context)
            if entries.isEmpty { return StateResult(name: name, result: nil, comment: "Key for \(name) is set to be added to \(config)") }
            let present = key.map { k in entries.contains { $0.key == k } } ?? fingerprint.map { f in entries.contains { $0.fingerprint == f } } ?? true
            return present ? StateResult(name: name, comment: "Host \(name) is already in \(config)")
                : StateResult(name: name, result: nil, comment: "Key for \(name) is set to be updated in \(config)")
        }
        let result = try SshModule.setKnownHost(name, user: user, config: config, key: key, enc: enc, fingerprint: fingerprint, port: port,
                                                hashFile: call.flag("hash_known_hosts", default: true), hash: hash,
                                                timeout: call.arguments.int("timeout") ?? 5, call.context)
        switch result["status"]?.stringValue {
        case "exists": return StateResult(name: name, comment: "\(name) already exists in \(config)")
        case "updated": break
        default: return .failed(name, result["error"]?.pythonString ?? "unknown error")
        }
        let first = result["new"]?.listValue?.first
        let comment: String
        if key != nil {
            comment = "\(name)'s key saved to \(config) (key: \(first?["key"]?.pythonString ?? ""))"
        } else if fingerprint != nil {
            comment = "\(name)'s key saved to \(config) (fingerprint: \(first?["fingerprint"]?.pythonString ?? ""))"
        } else if let enc {
            comment = "\(name)'s \(enc) key saved to \(config) (key: \(first?["key"]?.pythonString ?? ""))"
        } else {
            comment = "\(name)'s key(s) saved to \(config)"
        }
        return StateResult(name: name, changes: ["old": result["old"] ?? .null, "new": result["new"] ?? .null], comment: comment)
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name, user = call.string("user"), config = config(call)
        if user == nil && !config.hasPrefix("/") {
            return .failed(name, "If not specifying a \"user\", specify an absolute \"config\".")
        }
        let file = try SshModule.knownHostsFile(config, user: user)
        let entries = try SshModule.knownHostEntries(name, port: nil, file: file, hash: nil, call.context)
        if entries.isEmpty { return StateResult(name: name, comment: "Host is already absent") }
        if call.test { return StateResult(name: name, result: nil, comment: "Key for \(name) is set to be removed from \(config)") }
        let removed = try SshModule.removeKnownHost(name, user: user, config: config, port: nil, call.context)
        if removed["status"] == "error" { return .failed(name, removed["error"]?.pythonString ?? "") }
        return StateResult(name: name, changes: ["old": .list(entries.map(\.value)), "new": .null], comment: removed["comment"]?.pythonString ?? "")
    }
}
