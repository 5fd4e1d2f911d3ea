import BrineCore
import Foundation

/// Salt's `alternatives` states (Salt 3008 ships them in its alternatives
/// extension; the words are those of Salt's own state module).
public enum AlternativesState: StateModule {
    public static let name = "alternatives"

    public static let functions: [StateFunction] = [
        StateFunction("install", doc: "Register path as an alternative for name (link, priority).",
                      [Parameter("link"), Parameter("path"), Parameter("priority")]) { call in
            try install(call)
        },
        StateFunction("remove", doc: "Remove path from the alternatives of name.", [Parameter("path")]) { call in
            try remove(call)
        },
        StateFunction("auto", doc: "Put name in auto mode (the highest priority wins).") { call in
            try auto(call)
        },
        StateFunction("set", doc: "Point name at path, one of its alternatives.", [Parameter("path")]) { call in
            try set(call)
        },
    ]

    static func install(_ call: StateCall) throws -> StateResult {
        let name = call.name, path = call.string("path") ?? "", priority = call["priority"].pythonString
        var ret = StateResult(name: name)
        for key in ["link", "path", "priority"] { ret.extra[key] = call[key] }  // Salt's return carries them
        if try AlternativesModule.exists(name, path: path, call.context) {
            ret.comment = "Alternative \(path) for \(name) is already registered"
            return ret
        }
        if call.test {
            ret.result = nil
            ret.comment = "Alternative will be set for \(name) to \(path) with priority \(priority)"
            return ret
        }
        let out = try call.call("alternatives.install", [.string(name), call["link"], .string(path), call["priority"]])
        guard try AlternativesModule.exists(name, path: path, call.context) else {
            ret.result = false
            ret.comment = "Alternative for \(name) not installed: \(out.pythonString)"
            return ret
        }
        ret.comment = AlternativesModule.current(name) == path ? "Alternative for \(name) set to path \(path) with priority \(priority)"
            : "Alternative \(path) for \(name) registered with priority \(priority) and not set to default"
        ret.changes = ["name": .string(name), "link": call["link"], "path": .string(path), "priority": call["priority"]]
        return ret
    }

    static func remove(_ call: StateCall) throws -> StateResult {
        let name = call.name, path = call.string("path") ?? ""
        var ret = StateResult(name: name)
        ret.extra["path"] = .string(path)
        if try AlternativesModule.exists(name, path: path, call.context) {
            if call.test {
                ret.result = nil
                ret.comment = "Alternative for \(name) will be removed"
                return ret
            }
            _ = try call.call("alternatives.remove", [.string(name), .string(path)])
            if let current = AlternativesModule.current(name) {
                ret.comment = "Alternative for \(name) removed. Falling back to path \(current)"
                ret.changes = ["path": .string(current)]
            } else {
                ret.comment = "Alternative for \(name) removed"
            }
            return ret
        }
        if let current = AlternativesModule.current(name) {
            ret.comment = "Alternative for \(name) is set to it's default path \(current)"
            return ret
        }
        ret.result = false
        ret.comment = "Alternative for \(name) doesn't exist"
        return ret
    }

    static func auto(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let display = try call.call("alternatives.display", [.string(name)]).pythonString
        if display.split(separator: "\n").first?.hasSuffix(" auto mode") == true {
            return StateResult(name: name, comment: "\(name) already in auto mode")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "\(name) will be put in auto mode") }
        return StateResult(name: name, changes: ["result": try call.call("alternatives.auto", [.string(name)])])
    }

    static func set(_ call: StateCall) throws -> StateResult {
        let name = call.name, path = call.string("path") ?? ""
        var ret = StateResult(name: name)
        ret.extra["path"] = .string(path)
        if AlternativesModule.current(name) == path {
            ret.comment = "Alternative for \(name) already set to \(path)"
            return ret
        }
        guard try AlternativesModule.exists(name, path: path, call.context) else {
            ret.result = false
            ret.comment = "Alternative \(path) for \(name) doesn't exist"
            return ret
        }
        if call.test {
            ret.result = nil
            ret.comment = "Alternative for \(name) will be set to path \(path)"
            return ret
        }
        _ = try call.call("alternatives.set", [.string(name), .string(path)])
        if let current = AlternativesModule.current(name), current == path {
            ret.comment = "Alternative for \(name) set to path \(current)"
            ret.changes = ["path": .string(current)]
        } else {
            ret.comment = "Alternative for \(name) not updated"
        }
        return ret
    }
}
