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
        StateFunction("check_pillar", doc: "Fail when pillar keys are missing or of the wrong type (present, boolean, integer, string, listing, dictionary).",
                      .optional("present", "boolean", "integer", "string", "listing", "dictionary") + [Parameter("verbose", default: false)]) { call in
            try checkPillar(call)
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

    /// Salt's `check_pillar`: each listed key looked up as `pillar.get`
    /// does; its type checked as Python's `isinstance` would (a boolean is
    /// also an integer); failures and, with `verbose`, passes named with
    /// Python's class names.
    /// The type checks of `check_pillar`, named as Python prints the
    /// classes Salt's `isinstance` checks use.
    enum PillarType: String {
        case boolean = "<class 'bool'>", integer = "<class 'int'>", string = "(<class 'str'>,)",
             listing = "<class 'list'>", dictionary = "<class 'dict'>"

        /// Python's isinstance: a boolean is also an integer.
        func matches(_ value: Value) -> Bool {
            switch (self, value) {
            case (.boolean, .bool), (.integer, .bool), (.integer, .int), (.string, .string), (.listing, .list), (.dictionary, .map): true
            default: false
            }
        }
    }

    static func checkPillar(_ call: StateCall) throws -> StateResult {
        let checks: [(argument: String, type: PillarType?)] = [("present", nil), ("boolean", .boolean), ("integer", .integer),
                                                               ("string", .string), ("listing", .listing), ("dictionary", .dictionary)]
        guard checks.contains(where: { call[$0.argument].isTruthy }) else {
            throw BrineError(.arguments, "Missing required argument text.")
        }
        var ret = StateResult(name: call.name)
        var failed = OrderedDictionary<String, PillarType?>(), fine = OrderedDictionary<String, PillarType?>()
        for (argument, type) in checks {
            let keys: [String]
            switch call[argument] {
            case .null, .bool(false): keys = []
            case .string(let key): keys = [key]
            case .list(let items): keys = items.map(\.pythonString)
            default: throw BrineError(.arguments, "\(argument) must be a string or a list of pillar keys")
            }
            for key in keys {
                let value = try call.call("pillar.get", [.string(key), .null])
                if value.isNull {
                    failed[key] = .some(nil)
                    ret.result = false
                } else if let type, !type.matches(value) {
                    failed[key] = type
                    ret.result = false
                } else if call.bool("verbose") {
                    fine[key] = type
                }
            }
        }
        for (key, type) in failed {
            ret.comment += "Pillar key \"\(key)\" " + (type.map { "is not \($0.rawValue).\n" } ?? "is missing.\n")
        }
        if call.bool("verbose") && !fine.isEmpty {
            ret.comment += "Those keys passed the check:\n" + fine.map { "- \($0.key) (\($0.value?.rawValue ?? "None"))\n" }.joined()
        }
        return ret
    }
}
