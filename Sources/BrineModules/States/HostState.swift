import BrineCore
import Foundation
import OrderedCollections

/// Salt's `host` states: names of addresses in the hosts file.
public enum HostState: StateModule {
    public static let name = "host"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Make sure the name is an alias of each address in ip (clean: and of no other).",
                      [Parameter("ip"), Parameter("comment", default: ""), Parameter("clean", default: false)]) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Make sure the name is not an alias of the addresses in ip.", [Parameter("ip")]) { call in
            try absent(call)
        },
        StateFunction("only", doc: "Make hostnames the only aliases of the address name.", [Parameter("hostnames")]) { call in
            try only(call)
        },
    ]

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name
        // A string is one address (Salt wraps it in a list); each address once, in order.
        var seen = Set<String>()
        let addresses = (call["ip"].listValue?.map(\.pythonString) ?? (call["ip"].isNull ? [] : [call["ip"].pythonString]))
            .filter { seen.insert($0).inserted }
        let comment = call.string("comment") ?? ""
        var ret = StateResult(name: name)
        let hosts = try HostsFile.read(call.context).entries
        var said: [String] = []
        var toAdd: [String] = [], toRemove: [String] = [], comments: [String] = []
        for address in addresses where hosts[address] == nil {
            toAdd.append(address)
            if !comment.isEmpty { comments.append(address) }
        }
        var warnings: [Value] = []
        for (address, entry) in hosts where entry.line == nil {
            if !addresses.contains(address) {
                guard entry.aliases.contains(name) else { continue }
                if call.bool("clean") {
                    toRemove.append(address)
                } else {
                    warnings.append(.string("Host \(name) present for IP address \(address). To get rid of this warning, either run this state with 'clean' set to True to remove \(name) from \(address), or add \(address) to the 'ip' argument."))
                }
            } else if entry.aliases.contains(name) {
                if !comment.isEmpty && entry.comment != comment {
                    comments.append(address)
                } else {
                    said.append("Host \(name) (\(address)) already present")
                }
            } else if IPAddress(address) != nil {
                toAdd.append(address)
                if !comment.isEmpty { comments.append(address) }
            } else {
                ret.result = false
                said.append("Invalid IP Address for \(name) (\(address))")
            }
        }
        if !warnings.isEmpty { ret.extra["warnings"] = .list(warnings) }
        /// One kind of edit over addresses, said and recorded as Salt does.
        func edit(_ addresses: [String], key: String, value: String, pending: Bool, would: (String) -> String, did: (String) -> String,
                  _ action: (String) throws -> Void) throws {
            var recorded = OrderedDictionary<String, Value>()
            for address in addresses {
                if call.test {
                    if pending { ret.result = nil }
                    said.append(would(address))
                } else {
                    try action(address)
                    said.append(did(address))
                }
                recorded[address] = .list((recorded[address]?.listValue ?? []) + [.string(value)])
            }
            if !recorded.isEmpty { ret.changes[key] = .map(recorded) }
        }
        try edit(toAdd, key: "added", value: name, pending: true, would: { "Host \(name) (\($0)) would be added" },
                 did: { "Added host \(name) (\($0))" }) { _ = try call.call("hosts.add_host", [.string($0), .string(name)]) }
        try edit(comments, key: "comment_added", value: comment, pending: false, would: { "Comment for \($0) (\(comment)) would be added" },
                 did: { "Set comment for host \($0) (\(comment))" }) { _ = try call.call("hosts.set_comment", [.string($0), .string(comment)]) }
        try edit(toRemove, key: "removed", value: name, pending: true, would: { "Host \(name) (\($0)) would be removed" },
                 did: { "Removed host \(name) (\($0))" }) { _ = try call.call("hosts.rm_host", [.string($0), .string(name)]) }
        ret.comment = said.joined(separator: "\n")
        return ret
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name
        var ret = StateResult(name: name, result: nil)
        var said: [String] = []
        for address in call["ip"].listValue?.map(\.pythonString) ?? (call["ip"].isNull ? [] : [call["ip"].pythonString]) {
            let hosts = try HostsFile.read(call.context).entries
            if !(hosts[address]?.aliases.contains(name) ?? false) {
                ret.result = true
                said.append("Host \(name) (\(address)) already absent")
            } else if call.test {
                said.append("Host \(name) (\(address)) needs to be removed")
            } else {
                _ = try call.call("hosts.rm_host", [.string(address), .string(name)])
                ret.changes = ["host": .string(name)]
                ret.result = true
                said.append("Removed host \(name) (\(address))")
            }
        }
        ret.comment = said.joined(separator: "\n")
        return ret
    }

    static func only(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let old = (try HostsFile.read(call.context).entries[name]?.aliases ?? []).joined(separator: " ")
        let hostnames = call["hostnames"].listValue?.map(\.pythonString) ?? [call["hostnames"].pythonString]
        let new = hostnames.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        if old == new { return StateResult(name: name, comment: "IP address \(name) already set to \"\(new)\"") }
        if call.test { return StateResult(name: name, result: nil, comment: "Would change \(name) from \"\(old)\" to \"\(new)\"") }
        try HostsFile.setHost(ip: name, alias: new, comment: nil, call.context)
        return StateResult(name: name, changes: [name: ["old": .string(old), "new": .string(new)]],
                           comment: "successfully changed \(name) from \"\(old)\" to \"\(new)\"")
    }
}
