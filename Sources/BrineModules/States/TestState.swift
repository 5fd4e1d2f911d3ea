import BrineCore
import OrderedCollections

/// Salt's `test` states: fixed outcomes for trying requisites and outputs.
public enum TestState: StateModule {
    public static let name = "test"

    static func fixed(_ fn: String, _ doc: String, result: Bool, changes: Bool, comment: String) -> StateFunction {
        StateFunction(fn, doc: doc, .optional("changes")) { call in
            var ret = StateResult(name: call.name, result: result, comment: comment)
            if changes {
                ret.changes = call["changes"].mapValue ?? ["testing": ["old": "Unchanged", "new": "Something pretended to change"]]
                if call.test && result { ret.result = nil; ret.comment = "If we weren't testing, this would be a success with changes" }
            }
            return ret
        }
    }

    public static let functions: [StateFunction] = [
        fixed("succeed_without_changes", "Succeed without making changes.", result: true, changes: false, comment: "Success!"),
        fixed("succeed_with_changes", "Succeed and report changes.", result: true, changes: true, comment: "Success!"),
        fixed("fail_without_changes", "Fail without making changes.", result: false, changes: false, comment: "Failure!"),
        fixed("fail_with_changes", "Fail and report changes.", result: false, changes: true, comment: "Failure!"),
        StateFunction("nop", doc: "Do nothing, successfully.") { call in
            StateResult(name: call.name, result: true, comment: "Success!")
        },
        StateFunction("show_notification", doc: "Show text as the comment.", .optional("text")) { call in
            StateResult(name: call.name, result: true, comment: call.string("text") ?? "")
        },
        StateFunction("configurable_test_state", doc: "A state whose result, changes and comment are given as arguments.",
                      [Parameter("changes", default: true), Parameter("result", default: true),
                       Parameter("comment", default: ""), Parameter("warnings", default: .null)]) { call in
            var ret = StateResult(name: call.name, comment: call.string("comment") ?? "")
            switch call["result"] {
            case .string(let s) where s.lowercased() == "random": ret.result = Bool.random()
            case let v: ret.result = v.asFlag
            }
            let changes: Bool
            switch call["changes"] {
            case .string(let s) where s.lowercased() == "random": changes = Bool.random()
            case let v: changes = v.asFlag
            }
            if changes { ret.changes = ["testing": ["old": "Unchanged", "new": "Something pretended to change"]] }
            if call.test { ret.result = changes ? nil : true }
            if case .list(let w) = call["warnings"] { ret.extra["warnings"] = .list(w) }
            return ret
        },
    ]
}
