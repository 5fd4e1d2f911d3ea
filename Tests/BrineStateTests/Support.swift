import BrineCore
import BrineModules
import BrineState
import Foundation
import OrderedCollections

/// A state tree in a temporary directory: `srv/salt`, `srv/pillar`, and a
/// target directory the states write into.
struct Tree {
    let root: String
    var salt: String { root + "/salt" }
    var pillarDir: String { root + "/pillar" }
    var target: String { root + "/target" }

    init() {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("brine-state-\(UUID().uuidString)").path
        for dir in [root + "/salt", root + "/pillar", root + "/target"] {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }

    func sls(_ name: String, _ text: String) throws {
        try write(salt + "/" + name, text)
    }

    func pillar(_ name: String, _ text: String) throws {
        try write(pillarDir + "/" + name, text)
    }

    func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    func context(id: String = "m001", grains extra: Value = .emptyMap, options: [String: Value] = [:]) throws -> ExecutionContext {
        var overrides = Config(role: .minion, options: [:], configDir: "").options
        overrides["file_client"] = "local"
        overrides["id"] = .string(id)
        overrides["file_roots"] = ["base": [.string(salt)]]
        overrides["pillar_roots"] = ["base": [.string(pillarDir)]]
        for (k, v) in options { overrides[k] = v }
        let opts = try Config.load(role: .minion, configDir: root + "/etc", overrides: overrides)
        let grains = CoreGrains.detect(id: id).merged(with: extra)
        let pillar = Lazy<Value> { try PillarCompiler(config: opts, minionID: id, grains: grains).compile() }
        return ExecutionContext(opts: opts, grains: Lazy(value: grains), pillar: pillar, loader: Modules.loader,
                                fileClient: LocalFileClient(config: opts), isDirectCall: true)
    }

    /// Writes `text` as `name.sls`, applies it (with CLI-style `extra`
    /// words) and returns the states' returns in run order.
    func applyStates(_ name: String, _ text: String, _ extra: [String] = [], options: [String: Value] = [:]) throws -> [Value] {
        try sls(name + ".sls", text)
        let ctx = try context(options: options)
        return try ctx.loader.call("state.apply", CallArguments.parse([name] + extra), context: ctx).runs.map(\.ret)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// Runs `state.<fun>` with CLI-style words.
func state(_ ctx: ExecutionContext, _ fun: String, _ words: String...) throws -> Value {
    try ctx.loader.call("state." + fun, CallArguments.parse(words), context: ctx)
}

extension Value {
    /// The state returns in run order.
    var runs: [(tag: String, ret: Value)] {
        guard case .map(let m) = self else { return [] }
        return m.map { ($0.key, $0.value) }.sorted { ($0.1["__run_num__"]?.intValue ?? 0) < ($1.1["__run_num__"]?.intValue ?? 0) }
    }

    func ret(_ id: String) -> Value? {
        runs.first { $0.ret["__id__"]?.stringValue == id }?.ret
    }

    var errors: [String] { listValue?.compactMap(\.stringValue) ?? [] }
}
