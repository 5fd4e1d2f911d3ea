import BrineCore
import BrineModules
import Foundation

func makeTempDir(_ tag: String = "brine") -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(tag)-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A context like `brine call --local` builds, with files from `fileRoot`
/// and the given pillar.
func makeContext(fileRoot: String? = nil, pillar: Value = .emptyMap, direct: Bool = true,
                 options: [String: Value] = [:]) throws -> ExecutionContext
{
    var overrides = Config(role: .minion, options: [:], configDir: "").options
    overrides["file_client"] = "local"
    if let fileRoot { overrides["file_roots"] = ["base": [.string(fileRoot)]] }
    for (k, v) in options { overrides[k] = v }
    let opts = try Config.load(role: .minion, configDir: makeTempDir("cfg"), overrides: overrides)
    return ExecutionContext(opts: opts, grains: Lazy { CoreGrains.detect(id: "testminion") }, pillar: Lazy(value: pillar),
                            loader: .standard, fileClient: LocalFileClient(config: opts), isDirectCall: direct)
}

/// Calls `mod.fun` with CLI-style words (`a`, `k=v`).
func call(_ context: ExecutionContext, _ function: String, _ words: String...) throws -> Value {
    try context.loader.call(function, CallArguments.parse(words), context: context)
}

func callWith(_ context: ExecutionContext, _ function: String, _ positional: [Value] = [], _ keyword: [String: Value] = [:]) throws -> Value {
    var kw = CallArguments().keyword
    for (k, v) in keyword.sorted(by: { $0.key < $1.key }) { kw[k] = v }
    return try context.loader.call(function, CallArguments(positional: positional, keyword: kw), context: context)
}

func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

let isRoot = geteuid() == 0
