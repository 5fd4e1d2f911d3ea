import BrineCore
import OrderedCollections

/// Salt's `sys` module: what functions exist and what they do.
public enum SysModule: ExecutionModule {
    public static let name = "sys"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("list_functions", doc: "List the functions of all modules, or of the named modules (globs allowed).",
                          varargs: true, kwargs: true) { a, ctx in
            .list(matching(a.extra.map(\.pythonString), in: ctx.loader).map(Value.string))
        },
        ExecutionFunction("list_modules", doc: "List the execution modules (globs allowed).", varargs: true) { a, ctx in
            let patterns = a.extra.map(\.pythonString)
            return .list(ctx.loader.moduleNames.sorted().filter { name in
                patterns.isEmpty || patterns.contains { Glob.match(name, $0) }
            }.map(Value.string))
        },
        ExecutionFunction("list_state_modules", doc: "List the state modules (globs allowed).", varargs: true) { a, _ in
            let patterns = a.extra.map(\.pythonString)
            let names = Set(StateLoader.standard.functions.keys.compactMap { $0.split(separator: ".").first.map(String.init) })
            return .list(names.sorted().filter { name in patterns.isEmpty || patterns.contains { Glob.match(name, $0) } }.map(Value.string))
        },
        ExecutionFunction("list_state_functions", doc: "List the state functions, of all state modules or of the named ones (globs allowed).",
                          varargs: true) { a, _ in
            .list(stateMatching(a.extra.map(\.pythonString)).map(Value.string))
        },
        ExecutionFunction("state_doc", doc: "Return the docstrings of state functions, of all or of the named modules or functions.",
                          varargs: true) { a, _ in
            var docs = OrderedDictionary<String, Value>()
            for name in stateMatching(a.extra.map(\.pythonString)) {
                docs[name] = .string(StateLoader.standard.functions[name]?.doc ?? "")
            }
            return .map(docs)
        },
        ExecutionFunction("doc", doc: "Return the docstrings of all functions, or of the named modules or functions.",
                          varargs: true) { a, ctx in
            var docs = OrderedDictionary<String, Value>()
            for name in matching(a.extra.map(\.pythonString), in: ctx.loader) {
                guard let function = ctx.loader.functions[name] else { continue }
                docs[name] = .string("\(function.doc)\n\nUsage: \(name)(\(function.signature.drop { $0 != "(" }.dropFirst())")
            }
            return .map(docs)
        },
        ExecutionFunction("argspec", doc: "Return the argument specification of functions.", varargs: true) { a, ctx in
            var specs = OrderedDictionary<String, Value>()
            for name in matching(a.extra.map(\.pythonString), in: ctx.loader) {
                guard let f = ctx.loader.functions[name] else { continue }
                specs[name] = [
                    "args": .list(f.parameters.map { .string($0.name) }),
                    "defaults": .list(f.parameters.compactMap(\.defaultValue)),
                    "varargs": f.varargs ? "args" : nil,
                    "kwargs": f.kwargs ? "kwargs" : nil,
                ]
            }
            return .map(specs)
        },
    ]

    static func stateMatching(_ patterns: [String]) -> [String] {
        StateLoader.standard.functions.keys.sorted().filter { name in
            patterns.isEmpty || patterns.contains { p in name == p || name.hasPrefix(p + ".") || (Glob.isPattern(p) && Glob.match(name, p)) }
        }
    }

    /// Function names for `sys.*` arguments: a module name (`test`), a
    /// function (`test.ping`) or a glob (`test.*`, `*.ping`).
    static func matching(_ patterns: [String], in loader: Loader) -> [String] {
        let all = loader.functions.keys.sorted()
        guard !patterns.isEmpty else { return all }
        return all.filter { name in
            patterns.contains { p in
                name == p || name.hasPrefix(p + ".") || (Glob.isPattern(p) && Glob.match(name, p))
            }
        }
    }
}
