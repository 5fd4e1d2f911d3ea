import BrineCore
import Foundation
import OrderedCollections

/// Salt's grains writers: `grains.setval`, `setvals`, `append`, `delval`,
/// `delkey` keep custom grains in the `grains` file beside the minion's
/// config (YAML, keys sorted, written whole through a temporary file),
/// which every later call reads back (LocalContext).
enum GrainsFile {
    static func path(_ ctx: ExecutionContext) -> String { ctx.opts.configDir + "/grains" }

    static func load(_ ctx: ExecutionContext) throws -> OrderedDictionary<String, Value> {
        let file = path(ctx)
        guard FileOps.isFile(file) else { return [:] }
        let data = try YAML.decode(try FileOps.readText(file), file: file)
        if data.isNull { return [:] }
        guard case .map(let grains) = data else {
            throw BrineError(.config, "\(file) does not hold a mapping of grains", hint: "fix or remove the file")
        }
        return grains
    }

    static func save(_ grains: OrderedDictionary<String, Value>, _ ctx: ExecutionContext) throws {
        var sorted = OrderedDictionary<String, Value>()
        for key in grains.keys.sorted() { sorted[key] = grains[key] }
        try AtomicFile.write(sorted.isEmpty ? "{}\n" : YAML.encode(.map(sorted)), to: path(ctx))
    }

    /// Salt's `grains.set`: nested keys by delimiter; a dict or list in
    /// the way needs `force`; `destructive` with None removes the key.
    static func set(_ key: String, _ value: Value, force: Bool, destructive: Bool, delimiter: String = ":",
                    _ ctx: ExecutionContext) throws -> Value {
        var grains = try load(ctx)
        let parts = key.components(separatedBy: delimiter)
        func fail(_ comment: String) -> Value { ["comment": .string(comment), "changes": .emptyMap, "result": false] }
        if parts.count == 1 {
            if let existing = grains[key], existing.mapValue != nil || existing.listValue != nil, !force {
                return fail("The key '\(key)' exists but is a dict or a list. Use 'force=True' to overwrite.")
            }
            if value.isNull && destructive { grains.removeValue(forKey: key) } else { grains[key] = value }
        } else {
            var root = Value.map(grains)
            try setNested(&root, parts[...], value, force: force)
            grains = root.mapValue ?? [:]
        }
        try save(grains, ctx)
        return ["comment": "", "changes": [.init(stringLiteral: key): value], "result": true]
    }

    static func setNested(_ node: inout Value, _ parts: ArraySlice<String>, _ value: Value, force: Bool) throws {
        guard let first = parts.first else { node = value; return }
        var map = node.mapValue ?? [:]
        if node.mapValue == nil && !node.isNull && !force {
            throw BrineError(.arguments, "The key '\(first)' is not a dict: use 'force=True' to overwrite it")
        }
        var child = map[first] ?? .null
        try setNested(&child, parts.dropFirst(), value, force: force)
        map[first] = child
        node = .map(map)
    }

    /// Salt's `grains.append`, step by step: the current value from all
    /// grains, a list's items appended one by one, and a nested key written
    /// back through its parents as one top-level grain.
    static func append(_ key: String, _ value: Value, convert: Bool, delimiter: String, _ ctx: ExecutionContext) throws -> Value {
        // The grains file as it is now (earlier calls in this process may
        // have changed it) over the grains the call started with.
        let all = try ctx.grains().merged(with: .map(try load(ctx)))
        func get(_ path: String) -> Value? { delimiter.isEmpty ? all[path] : all.traverse(path, delimiter: delimiter) }
        var current = get(key) ?? .list([])
        if convert, current.listValue == nil { current = .list([current]) }
        guard var list = current.listValue else { return .string("The key \(key) is not a valid list") }
        if list.contains(value) { return .string("The val \(value.pythonString) was already in the list \(key)") }
        list += value.listValue ?? [value]
        var path = key, grain = Value.list(list)
        while !delimiter.isEmpty, let range = path.range(of: delimiter, options: .backwards) {
            let rest = String(path[range.upperBound...])
            path = String(path[..<range.lowerBound])
            var parent = get(path)?.mapValue ?? [:]
            parent[rest] = grain
            grain = .map(parent)
        }
        var grains = try load(ctx)
        grains[path] = grain
        try save(grains, ctx)
        return [.init(stringLiteral: path): grain]
    }

    static let functions: [ExecutionFunction] = [
        ExecutionFunction("setval", doc: "Set a custom grain (kept in the config dir's grains file).",
                          [Parameter("key"), Parameter("val"), Parameter("destructive", default: false),
                           Parameter("refresh_pillar", default: true)]) { a, ctx in
            // Salt's setval is setvals of one key: the key is taken literally.
            let key = a.string("key") ?? ""
            var grains = try load(ctx)
            if a["val"].isNull && a.bool("destructive") { grains.removeValue(forKey: key) } else { grains[key] = a["val"] }
            try save(grains, ctx)
            return [.init(stringLiteral: key): a["val"]]
        },
        ExecutionFunction("setvals", doc: "Set several custom grains from a dict.",
                          [Parameter("grains"), Parameter("destructive", default: false),
                           Parameter("refresh_pillar", default: true)]) { a, ctx in
            guard case .map(let new) = a["grains"] else { throw BrineError(.arguments, "setvals grains must be a dictionary.") }
            var grains = try load(ctx)
            for (key, value) in new {
                if value.isNull && a.bool("destructive") { grains.removeValue(forKey: key) } else { grains[key] = value }
            }
            try save(grains, ctx)
            return .map(new)
        },
        ExecutionFunction("set", doc: "Set a key (nested with ':'); force=True replaces a dict or list.",
                          [Parameter("key"), Parameter("val", default: ""), Parameter("force", default: false),
                           Parameter("destructive", default: false), Parameter("delimiter", default: ":")]) { a, ctx in
            try set(a.string("key") ?? "", a["val"], force: a.bool("force"), destructive: a.bool("destructive"),
                    delimiter: a.string("delimiter") ?? ":", ctx)
        },
        ExecutionFunction("append", doc: "Append a value (or a list's items) to a list grain, made when missing; nested keys by delimiter.",
                          [Parameter("key"), Parameter("val"), Parameter("convert", default: false),
                           Parameter("delimiter", default: ":")]) { a, ctx in
            try append(a.string("key") ?? "", a["val"], convert: a.bool("convert"), delimiter: a.string("delimiter") ?? ":", ctx)
        },
        ExecutionFunction("delval", doc: "Set a grain to None (destructive=True removes it).",
                          [Parameter("key"), Parameter("destructive", default: false)]) { a, ctx in
            try set(a.string("key") ?? "", .null, force: false, destructive: a.bool("destructive"), ctx)
        },
        ExecutionFunction("delkey", doc: "Remove a grain.", [Parameter("key"), Parameter("force", default: false)]) { a, ctx in
            try set(a.string("key") ?? "", .null, force: a.bool("force"), destructive: true, ctx)
        },
    ]
}
