import BrineCore

/// Salt's `locale` states: a locale generated, the system's LANG set.
public enum LocaleState: StateModule {
    public static let name = "locale"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Generate the locale (e.g. 'en_US.UTF-8 UTF-8') unless locale -a lists it.") { call in
            try present(call)
        },
        StateFunction("system", doc: "Set the system's LANG.") { call in
            try system(call)
        },
    ]

    static func system(_ call: StateCall) throws -> StateResult {
        let name = call.name
        do {
            if try LocaleModule.systemLocale(call.context) == name {
                return StateResult(name: name, comment: "System locale \(name) already set")
            }
            if call.test { return StateResult(name: name, result: nil, comment: "System locale \(name) needs to be set") }
            try LocaleModule.setSystemLocale(name, call.context)
            return StateResult(name: name, changes: ["locale": .string(name)], comment: "Set system locale \(name)")
        } catch let error as BrineError {
            return .failed(name, "Failed to set system locale: \(error.message)")
        }
    }

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name
        if try LocaleModule.isAvailable(name, call.context) {
            return StateResult(name: name, comment: "Locale \(name) is already present")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "Locale \(name) needs to be generated") }
        do {
            if try LocaleModule.generate(name, call.context) {
                return StateResult(name: name, changes: ["locale": .string(name)], comment: "Generated locale \(name)")
            }
        } catch let error as BrineError {
            return .failed(name, "Failed to generate locale \(name): \(error.message)")
        }
        return .failed(name, "Failed to generate locale \(name)")
    }
}
