import BrineCore
import Foundation

/// Salt's `debconf` states: answers set before a package asks for them.
public enum DebconfState: StateModule {
    public static let name = "debconf"

    public static let functions: [StateFunction] = [
        StateFunction("set", doc: "Answer a package's questions: data is {question: {type, value}}.", [Parameter("data")]) { call in
            try set(call)
        },
        StateFunction("set_file", doc: "Load answers from a file (salt://…).", [Parameter("source")] + .optional("template", "context", "defaults")) {
            call in
            if !call["context"].isNull && call["context"].mapValue == nil { return .failed(call.name, "Context must be formed as a dict") }
            if !call["defaults"].isNull && call["defaults"].mapValue == nil { return .failed(call.name, "Defaults must be formed as a dict") }
            if call.test { return StateResult(name: call.name, result: nil, comment: "Debconf selections would have been set.") }
            if call.string("template") != nil { return try loadTemplate(call) }
            let loaded = try call.call("debconf.set_file", [call["source"]])
            return loaded.asFlag ? StateResult(name: call.name, comment: "Debconf selections were set.")
                : .failed(call.name, "Unable to set debconf selections from file.")
        },
    ]

    /// `set_file` with `template: jinja`: the file rendered (with `context`
    /// and `defaults`) into a private temporary file, then loaded.
    static func loadTemplate(_ call: StateCall) throws -> StateResult {
        let source = call.string("source") ?? ""
        guard let local = try call.context.fileClient.cache(source, saltenv: call.context.saltenv), FileOps.isFile(local) else {
            return .failed(call.name, "Unable to set debconf selections from file.")
        }
        let rendered = try FileState.renderIfTemplate(try FileOps.readText(local), call: call, file: local, url: source)
        try DebconfModule.setSelections(rendered, call.context)
        return StateResult(name: call.name, comment: "Debconf selections were set.")
    }

    static func set(_ call: StateCall) throws -> StateResult {
        var ret = StateResult(name: call.name)
        guard case .map(let data) = call["data"] else { return .failed(call.name, "data must be a dictionary of questions") }
        let current = try DebconfModule.selections(call.context, fetchEmpty: true)[call.name]
        for (question, argument) in data {
            let type = argument["type"]?.pythonString ?? ""
            var value = argument["value"]?.pythonString ?? ""
            if type == "boolean" { value = (argument["value"]?.isTruthy ?? false) ? "true" : "false" }
            if let current, current.contains([question, type, value]) {
                if ret.comment.isEmpty { ret.comment = "Unchanged answers: " }
                ret.comment += "\(question) "
            } else if call.test {
                ret.result = nil
                // Salt shows the value; a password stays out of the return here.
                ret.changes[question] = .string("New value: \(type == "password" ? "(password hidden)" : value)")
            } else {
                do {
                    try DebconfModule.setSelections("\(call.name) \(question) \(type) \(value)", call.context)
                    ret.changes[question] = .string(type == "password" ? "(password hidden)" : value)
                } catch {
                    ret.result = false
                    ret.comment = "Some settings failed to be applied."
                    ret.changes[question] = "Failed to set!"
                }
            }
        }
        if ret.changes.isEmpty { ret.comment = "All specified answers are already set" }
        return ret
    }
}
