import BrineCore
import Foundation
import OrderedCollections

/// Salt's `group` states, through groupadd/groupmod/gpasswd.
public enum GroupState: StateModule {
    public static let name = "group"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Ensure a group exists with the given gid and members.",
                      .optional("gid", "members", "addusers", "delusers") + [Parameter("system", default: false)]) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Ensure a group does not exist.") { call in
            let name = call.name
            guard getgrnam(name) != nil else { return StateResult(name: name, comment: "Group not present") }
            if call.test { return StateResult(name: name, result: nil, comment: "Group \(name) is set for removal") }
            let result = try call.context.runner.run(Command(["groupdel", name]))
            guard result.retcode == 0 else { return .failed(name, "Failed to remove group \(name): \(result.stderr)") }
            return StateResult(name: name, changes: [name: ""], comment: "Removed group \(name)")
        },
    ]

    static func members(_ name: String) -> [String] {
        guard let gr = getgrnam(name) else { return [] }
        var result: [String] = []
        var cursor = gr.pointee.gr_mem
        while let member = cursor?.pointee {
            result.append(String(cString: member))
            cursor = cursor?.advanced(by: 1)
        }
        return result.sorted()
    }

    static func info(_ name: String) -> Value {
        guard let gr = getgrnam(name) else { return .emptyMap }
        return ["name": .string(name), "gid": .int(Int(gr.pointee.gr_gid)), "members": .list(members(name).map(Value.string)),
                "passwd": "x"]
    }

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let wantMembers = call["members"].listValue?.map(\.pythonString)
        guard let existing = getgrnam(name) else {
            if call.test { return StateResult(name: name, result: nil, comment: "Group \(name) set to be added") }
            var argv = ["groupadd"]
            if let gid = call["gid"].intValue { argv += ["-g", String(gid)] }
            if call.bool("system") { argv.append("-r") }
            let result = try call.context.runner.run(Command(argv + [name]))
            guard result.retcode == 0 else { return .failed(name, "Failed to create new group \(name): \(result.stderr)") }
            let initial = wantMembers ?? call["addusers"].listValue?.map(\.pythonString) ?? []
            if !initial.isEmpty {
                _ = try call.context.runner.run(Command(["gpasswd", "-M", initial.joined(separator: ","), name]))
            }
            return StateResult(name: name, changes: info(name).mapValue ?? [:], comment: "New group \(name) created")
        }
        var changes = OrderedDictionary<String, Value>()
        let gid = Int(existing.pointee.gr_gid)
        if let want = call["gid"].intValue, want != gid { changes["gid"] = .int(want) }
        let current = members(name)
        var target = Set(current)
        if let wantMembers { target = Set(wantMembers) }
        target.formUnion(call["addusers"].listValue?.map(\.pythonString) ?? [])
        target.subtract(call["delusers"].listValue?.map(\.pythonString) ?? [])
        if target != Set(current) { changes["members"] = .list(target.sorted().map(Value.string)) }
        if changes.isEmpty { return StateResult(name: name, comment: "Group \(name) is present and up to date") }
        if call.test {
            return StateResult(name: name, result: nil, changes: changes,
                               comment: "The following group attributes are set to be changed:\n" + changes.keys.joined(separator: "\n"))
        }
        if let want = changes["gid"]?.intValue {
            let r = try call.context.runner.run(Command(["groupmod", "-g", String(want), name]))
            guard r.retcode == 0 else { return .failed(name, "Failed to change gid of \(name): \(r.stderr)") }
        }
        if changes["members"] != nil {
            let r = try call.context.runner.run(Command(["gpasswd", "-M", target.sorted().joined(separator: ","), name]))
            guard r.retcode == 0 else { return .failed(name, "Failed to set members of \(name): \(r.stderr)") }
        }
        return StateResult(name: name, changes: changes, comment: "The following group attributes were changed:\n" + changes.keys.joined(separator: "\n"))
    }
}
