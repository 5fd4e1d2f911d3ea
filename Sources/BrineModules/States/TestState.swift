import BrineCore
import OrderedCollections

/// Salt's `test` states: fixed outcomes for trying requisites and outputs.
public enum TestState: StateModule {
    public static let name = "test"

    /// Salt 3008's fixed-outcome states, test mode included: `comment`
    /// replaces the default comment; with `test=True` the states that would
    /// change report None (or False for a failure without changes) and
    /// Salt's words.
    static func fixed(_ fn: String, _ doc: String, result: Bool, changes: Bool, comment: String,
                      inTest: (result: Bool?, comment: String)?) -> StateFunction {
        StateFunction(fn, doc: doc, .optional("changes", "comment")) { call in
            var ret = StateResult(name: call.name, result: result, comment: call.string("comment") ?? comment)
            if changes {
                ret.changes = call["changes"].mapValue ?? ["testing": ["old": "Unchanged", "new": "Something pretended to change"]]
            }
            if call.test, let inTest {
                ret.result = inTest.result
                ret.comment = inTest.comment
            }
            return ret
        }
    }

    public static let functions: [StateFunction] = [
        fixed("succeed_without_changes", "Succeed without making changes.", result: true, changes: false, comment: "Success!",
              inTest: nil),
        fixed("succeed_with_changes", "Succeed and report changes.", result: true, changes: true, comment: "Success!",
              inTest: (nil, "If we weren't testing, this would be successful with changes")),
        fixed("fail_without_changes", "Fail without making changes.", result: false, changes: false, comment: "Failure!",
              inTest: (false, "If we weren't testing, this would be a failure!")),
        fixed("fail_with_changes", "Fail and report changes.", result: false, changes: true, comment: "Failure!",
              inTest: (nil, "If we weren't testing, this would be failed with changes")),
        StateFunction("mod_watch", doc: "Called by a watch that fired: 'Watch statement fired.', the watched states that changed.",
                      .optional("result", "comment", "changes")) { call in
            var ret = StateResult(name: call.name, result: call["result"].isNull ? true : call.bool("result"),
                                  comment: call.string("comment") ?? "Watch statement fired.")
            ret.changes = call["changes"].mapValue ?? ["Requisites with changes": .list(call.watchedChanges.map(Value.string))]
            return ret
        },
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
