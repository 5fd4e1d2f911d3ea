import BrineCore

/// Salt's `alias` states: mail aliases present or absent, in Salt's words.
public enum AliasState: StateModule {
    public static let name = "alias"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Point the alias NAME at target (an address, a list, or |command).", [Parameter("target")]) { call in
            let name = call.name
            let target = AliasesModule.target(call["target"])
            let given = call["target"].pythonString  // Salt's words show a list as Python writes it
            if try AliasesModule.hasTarget(name, target, call.context) {
                return StateResult(name: name, comment: "Alias \(name) already present")
            }
            if call.test { return StateResult(name: name, result: nil, comment: "Alias \(name) -> \(given) is set to be added") }
            try AliasesModule.setTarget(name, target, call.context)
            return StateResult(name: name, changes: ["alias": .string(name)], comment: "Set email alias \(name) -> \(given)")
        },
        StateFunction("absent", doc: "Remove the alias NAME.") { call in
            let name = call.name
            if try (AliasesModule.aliases(call.context)[name] ?? "").isEmpty {
                return StateResult(name: name, comment: "Alias \(name) already absent")
            }
            if call.test { return StateResult(name: name, result: nil, comment: "Alias \(name) is set to be removed") }
            try AliasesModule.remove(name, call.context)
            return StateResult(name: name, changes: ["alias": .string(name)], comment: "Removed alias \(name)")
        },
    ]
}
