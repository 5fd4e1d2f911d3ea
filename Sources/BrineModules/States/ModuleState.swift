import BrineCore
import OrderedCollections

/// Salt's `module` states: execution functions called from a state tree.
/// `module.run` takes both of Salt's syntaxes — the current one, a list of
/// `- mod.fun: [args…]` entries (several functions per state), and the
/// legacy one, `- name: mod.fun` with the function's arguments beside it
/// (`m_name`, `m_fun`, … for the names the state system keeps for itself).
/// `module.wait` does nothing until a watched state changes, then runs as
/// `module.run`.
public enum ModuleState: StateModule {
    public static let name = "module"

    public static let functions: [StateFunction] = [
        StateFunction("run", doc: "Run execution functions: '- mod.fun: [args]' entries, or legacy 'name: mod.fun' with its arguments.") { call in
            run(call)
        },
        StateFunction("wait", doc: "Run the functions of module.run only when a watched state changed.") { call in
            StateResult(name: call.name, result: true)
        },
        StateFunction("watch", doc: "Same as module.wait.") { call in
            StateResult(name: call.name, result: true)
        },
        StateFunction("mod_watch", doc: "What a watch that fired runs: module.run with the same arguments.") { call in
            run(call)
        },
    ]

    /// Keys the state system uses itself (Salt's `STATE_INTERNAL_KEYWORDS`
    /// and Brine's `name_order`): never function names or arguments.
    static let internalKeywords: Set<String> = [
        "onfail", "onfail_any", "onfail_all", "require", "require_any", "onchanges", "onchanges_any", "watch", "watch_any",
        "prereq", "prerequired", "listen", "onfail_stop", "onchanges_in", "onfail_in", "prereq_in", "watch_in", "require_in",
        "listen_in", "use", "use_in", "fun", "state", "check_cmd", "cmd_opts_exclude", "failhard", "onlyif", "unless", "creates",
                "retry", "order", "parallel", "reload_modules", "reload_grains", "reload_pillar", "runas", "runas_password",
                "no_log", "fire_event", "saltenv", "umask", "name_order", "sfun",
    ]

    /// The names a legacy call gives with an `m_` prefix.
    static let hiddenNames: Set<String> = ["name", "fun", "names", "state", "saltenv"]

    static func run(_ call: StateCall) -> StateResult {
        let keywords = call.arguments.extraKeywords.filter { !internalKeywords.contains($0.key) }
        // Salt's test: any key without a dot, or nothing but `name`, is the legacy syntax.
        if keywords.isEmpty || keywords.keys.contains(where: { !$0.contains(".") }) {
            return legacyRun(call, keywords)
        }
        return newStyleRun(call, keywords)
    }

    // MARK: - `- mod.fun: [args]`

    static func newStyleRun(_ call: StateCall, _ entries: OrderedDictionary<String, Value>) -> StateResult {
        var ret = StateResult(name: call.name, result: nil)
        ret.extra["name"] = .list(entries.keys.map(Value.string))
        // `mod.fun:label` calls the same function twice in one state.
        let functions = entries.keys.map { key in (key: key, function: String(key.prefix { $0 != ":" })) }
        let missing = functions.filter { (try? call.context.loader.function($0.function)) == nil }.map(\.function)
        if !missing.isEmpty || call.test {
            let testing = call.test ? functions.map(\.function).filter { !missing.contains($0) } : []
            var words: [String] = []
            if !missing.isEmpty { words.append("Unavailable function\(missing.count > 1 ? "s" : ""): \(missing.joined(separator: ", ")).") }
            if !testing.isEmpty { words.append("Function\(testing.count > 1 ? "s" : "") \(testing.joined(separator: ", ")) to be executed.") }
            ret.comment = words.joined(separator: " ")
            if !missing.isEmpty { ret.result = false }
            return ret
        }
        var failures: [String] = [], successes: [String] = []
        for (key, function) in functions {
            let (positional, keyword) = splitArguments(entries[key] ?? .null)
            do {
                let returned = try call.call(function, positional, keyword)
                if succeeded(returned) {
                    let said = returned.mapValue.map { $0["comment"]?.pythonString ?? "Success" } ?? returned.pythonString
                    successes.append("\(key): \(said)")
                    ret.changes[key] = returned
                } else if let map = returned.mapValue {
                    failures.append("'\(key)' failed: \(map["comment"]?.pythonString ?? "(error message N/A)")")
                } else {
                    failures.append("'\(key)': False")
                }
            } catch let error as BrineError {
                failures.append("'\(key)' failed: \(error.message)")
            } catch {
                failures.append("'\(key)' failed: \(error)")
            }
        }
        ret.comment = (failures + successes).joined(separator: ", ")
        ret.result = failures.isEmpty
        return ret
    }

    /// Salt's `call_function`: items of the entry's list are positional,
    /// one-key mappings in it are keyword arguments.
    static func splitArguments(_ value: Value) -> ([Value], [String: Value]) {
        var positional: [Value] = [], keyword: [String: Value] = [:]
        for item in value.listValue ?? (value.isNull ? [] : [value]) {
            if case .map(let m) = item {
                for (k, v) in m { keyword[k] = v }
            } else {
                positional.append(item)
            }
        }
        return (positional, keyword)
    }

    // MARK: - `name: mod.fun` (legacy)

    static func legacyRun(_ call: StateCall, _ given: OrderedDictionary<String, Value>) -> StateResult {
        let name = call.name
        var ret = StateResult(name: name, result: nil)
        guard let function = try? call.context.loader.function(name) else {
            return StateResult.failed(name, "Module function \(name) is not available")
        }
        if call.test {
            ret.comment = "Module function \(name) is set to execute"
            return ret
        }
        var remaining = given
        var positional: [Value] = [], missing: [String] = []
        for parameter in function.parameters {
            let key = hiddenNames.contains(parameter.name) ? "m_" + parameter.name : parameter.name
            if let value = remaining.removeValue(forKey: key) {
                positional.append(value)
            } else if let fallback = parameter.defaultValue {
                positional.append(fallback)
            } else {
                missing.append(key)
            }
        }
        if !missing.isEmpty {
            return StateResult.failed(name, "The following arguments are missing: " + missing.joined(separator: " "))
        }
        if function.varargs, let extra = remaining.removeValue(forKey: "args") {
            guard case .list(let items) = extra else { return StateResult.failed(name, "'args' must be a list.") }
            positional += items
        }
        var keyword: [String: Value] = [:]
        if function.kwargs, let extra = remaining.removeValue(forKey: "kwargs") {
            guard case .map(let map) = extra else { return StateResult.failed(name, "'kwargs' must be a dict.") }
            for (k, v) in map { keyword[k] = v }
        }
        let returned: Value
        do {
            returned = try call.call(name, positional, keyword)
        } catch let error as BrineError {
            return StateResult.failed(name, "Module function \(name) threw an exception. Exception: \(error.message)")
        } catch {
            return StateResult.failed(name, "Module function \(name) threw an exception. Exception: \(error)")
        }
        ret.changes["ret"] = returned
        ret.comment = "Module function \(name) executed"
        ret.result = succeeded(returned)
        return ret
    }

    /// Salt's `_get_result`: a boolean is the answer; in a mapping (at any
    /// depth) `result: False` or a non-zero `retcode` is a failure.
    static func succeeded(_ value: Value) -> Bool {
        switch value {
        case .bool(let b): return b
        case .map: return !containsFailure(value, depth: 0)
        default: return true
        }
    }

    static func containsFailure(_ value: Value, depth: Int) -> Bool {
        guard depth < 64, case .map(let map) = value else { return false }
        for (key, item) in map {
            if key == "result", item == .bool(false) { return true }
            if key == "retcode" {
                switch item {
                case .int(0), .float(0), .bool(false): break  // Python's `!= 0` is false for these
                default: return true
                }
            }
            if case .map = item, containsFailure(item, depth: depth + 1) { return true }
        }
        return false
    }
}
