import BrineCore

/// Salt's `slsutil` and `defaults` helpers used from templates: recursive
/// dictionary merges with Salt's strategies.
public enum SlsutilModule: ExecutionModule {
    public static let name = "slsutil"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("merge", doc: "Merge obj_b into obj_a (strategy: smart/recurse/overwrite; merge_lists).",
                          [Parameter("obj_a"), Parameter("obj_b"), Parameter("strategy", default: "smart"),
                           Parameter("renderer", default: "yaml"), Parameter("merge_lists", default: false)]) { a, _ in
            merge(a["obj_a"], a["obj_b"], strategy: a.string("strategy") ?? "smart", lists: a.bool("merge_lists"))
        },
        ExecutionFunction("update", doc: "Recursively update dest with upd (returns the result).",
                          [Parameter("dest"), Parameter("upd"), Parameter("recursive_update", default: true),
                           Parameter("merge_lists", default: false)]) { a, _ in
            a.bool("recursive_update") ? a["dest"].merged(with: a["upd"], mergeLists: a.bool("merge_lists"))
                : shallow(a["dest"], a["upd"])
        },
    ]

    static func merge(_ a: Value, _ b: Value, strategy: String, lists: Bool) -> Value {
        strategy == "overwrite" ? shallow(a, b) : a.merged(with: b, mergeLists: lists)
    }

    static func shallow(_ a: Value, _ b: Value) -> Value {
        guard case .map(var base) = a, case .map(let overlay) = b else { return b }
        for (k, v) in overlay { base[k] = v }
        return .map(base)
    }
}

public enum DefaultsModule: ExecutionModule {
    public static let name = "defaults"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("merge", doc: "Deep-merge src into dest (defaults.merge).",
                          [Parameter("dest"), Parameter("src"), Parameter("merge_lists", default: false),
                           Parameter("in_place", default: true)]) { a, _ in
            a["dest"].merged(with: a["src"], mergeLists: a.bool("merge_lists"))
        },
        ExecutionFunction("update", doc: "Update each item of a dict of dicts with defaults.",
                          [Parameter("dest"), Parameter("defaults"), Parameter("merge_lists", default: true),
                           Parameter("in_place", default: true)]) { a, _ in
            guard case .map(let items) = a["dest"] else { return a["dest"] }
            return .map(items.mapValues { a["defaults"].merged(with: $0, mergeLists: a.bool("merge_lists")) })
        },
        ExecutionFunction("deepcopy", doc: "Return a copy of the value.", [Parameter("source")]) { a, _ in a["source"] },
    ]
}

/// Salt's `log` module: templates write to the minion's log (stderr here).
public enum LogModule: ExecutionModule {
    public static let name = "log"

    static func level(_ name: String) -> ExecutionFunction {
        ExecutionFunction(name, doc: "Log a message at \(name) level.", [Parameter("message")], varargs: true) { a, ctx in
            let configured = ctx.opts.string("log_level") ?? "warning"
            let order = ["debug", "info", "warning", "error", "critical"]
            let wanted = order.firstIndex(of: name == "exception" ? "error" : name) ?? 2
            if wanted >= (order.firstIndex(of: configured) ?? 2) {
                let label = "[\(name.uppercased())".padding(toLength: 9, withPad: " ", startingAt: 0) + "]"
                FileHandleStderr.write("\(label) \(a.string("message") ?? "")\n")
            }
            return .null
        }
    }

    public static let functions: [ExecutionFunction] = ["debug", "info", "warning", "error", "critical", "exception"].map(level)
}

/// Salt's `cp` functions that read the file server.
public enum CpModule: ExecutionModule {
    public static let name = "cp"

    /// Salt's `list_states`: the SLS names of file-server paths
    /// (`a/b.sls` → `a.b`, `a/init.sls` → `a`), sorted, each once.
    public static func slsNames(_ files: [String]) -> [String] {
        var names = Set<String>()
        for file in files where file.hasSuffix(".sls") {
            var name = String(file.dropLast(4))
            if name.hasSuffix("/init") { name = String(name.dropLast(5)) }
            names.insert(name.replacingOccurrences(of: "/", with: "."))
        }
        return names.sorted()
    }

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("list_states", doc: "List the SLS names available in a saltenv.", [Parameter("saltenv", default: "base")]) { a, ctx in
            .list(slsNames(try ctx.fileClient.listFiles(saltenv: a.string("saltenv") ?? "base")).map(Value.string))
        },
        ExecutionFunction("list_master", doc: "List the files on the file server for a saltenv.", [Parameter("saltenv", default: "base"),
                                                                                                  Parameter("prefix", default: "")]) { a, ctx in
            let prefix = a.string("prefix") ?? ""
            return .list(try ctx.fileClient.listFiles(saltenv: a.string("saltenv") ?? "base").filter { $0.hasPrefix(prefix) }.map(Value.string))
        },
        ExecutionFunction("list_master_dirs", doc: "List the directories on the file server for a saltenv.",
                          [Parameter("saltenv", default: "base"), Parameter("prefix", default: "")]) { a, ctx in
            let prefix = a.string("prefix") ?? ""
            var dirs = Set<String>()
            for file in try ctx.fileClient.listFiles(saltenv: a.string("saltenv") ?? "base") {
                var dir = FileOps.dirname(file)
                while !dir.isEmpty, dir != "/", dirs.insert(dir).inserted { dir = FileOps.dirname(dir) }
            }
            return .list(dirs.filter { $0.hasPrefix(prefix) }.sorted().map(Value.string))
        },
        ExecutionFunction("get_file_str", doc: "Return the content of a salt:// file, or False.", [Parameter("path"),
                                                                                                 Parameter("saltenv", default: "base")]) { a, ctx in
            guard let local = try ctx.fileClient.cache(a.string("path") ?? "", saltenv: a.string("saltenv") ?? ctx.saltenv) else { return false }
            return .string(try FileOps.readText(local))
        },
        ExecutionFunction("cache_file", doc: "Cache a salt:// file locally; return its local path or False.",
                          [Parameter("path"), Parameter("saltenv", default: "base")]) { a, ctx in
            guard let local = try ctx.fileClient.cache(a.string("path") ?? "", saltenv: a.string("saltenv") ?? ctx.saltenv) else { return false }
            return .string(local)
        },
    ]
}
