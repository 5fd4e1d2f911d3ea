import BrineCore
import Foundation
import OrderedCollections

/// `docker.sls_build` and `docker_image.present sls=`: Brine's image
/// builder, the very one `brine build` runs (layer cache included), given
/// a build file written from the call's arguments and the minion's own
/// `file_roots`/`pillar_roots`. The builder lives in brine-full (it needs
/// the engine's streaming API), so this runs that executable, found beside
/// the running one.
enum DockerImageBuild {
    static func slsBuild(_ a: Arguments, _ ctx: ExecutionContext) throws -> Value {
        let repository = a.string("repository") ?? "", tag = a["tag"].isNull ? "latest" : a["tag"].pythonString
        let image = "\(repository):\(tag)"
        let mods = (a.stringList("mods") ?? []).filter { !$0.isEmpty }
        let directory = NSTemporaryDirectory() + "/brine-sls-build-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/empty", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var build: [String: Value] = ["from": .string(a.string("base") ?? "opensuse/python"), "image": .string(image),
                                      "id": .string(ctx.opts.string("id") ?? "brine-build"),
                                      "file_roots": existingRoots(ctx.opts["file_roots"], empty: directory + "/empty"),
                                      "pillar_roots": existingRoots(ctx.opts["pillar_roots"], empty: directory + "/empty")]
        if mods.isEmpty { build["highstate"] = true } else { build["sls"] = .list(mods.map(Value.string)) }
        if case .map = a["pillar"] { build["pillar"] = a["pillar"] }
        let file = directory + "/build.yaml"
        try AtomicFile.write(JSON.encode(.map(sortedMap(build)), indent: 2), to: file, mode: 0o600)
        let started = Date()
        let result = try ctx.runner.run(Command([try builder(), "build", file, "--no-color"], environment: ProcessInfo.processInfo.environment))
        guard result.retcode == 0 else {
            let output = (result.stdout + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
            throw BrineError(.execution, "Failed to build \(image) from SLS \(mods.joined(separator: ",")): \(output.suffix(2000))")
        }
        let id = try DockerEngine(ctx).inspect("images", image)?["Id"] ?? .null
        return ["Id": id, "Time_Elapsed": .float(Date().timeIntervalSince(started))]
    }

    /// The minion's roots that exist (a default such as /srv/pillar may
    /// not); an environment left without one gets an empty directory.
    static func existingRoots(_ roots: Value?, empty: String) -> Value {
        var out = OrderedDictionary<String, Value>()
        for (env, dirs) in roots?.mapValue ?? [:] {
            let present = (dirs.listValue ?? []).filter { FileManager.default.fileExists(atPath: $0.pythonString) }
            out[env] = .list(present.isEmpty ? [.string(empty)] : present)
        }
        return out.isEmpty ? ["base": [.string(empty)]] : .map(out)
    }

    /// brine-full beside this executable (or brine, which hands `build` to it).
    static func builder() throws -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
        let dir = (me as NSString).deletingLastPathComponent
        for name in ["brine-full", "brine"] where FileManager.default.isExecutableFile(atPath: dir + "/" + name) { return dir + "/" + name }
        throw BrineError(.notAvailable, "docker.sls_build needs brine-full beside \(me)", hint: "install every executable of the release together")
    }

    /// Keys sorted: a stable build file.
    static func sortedMap(_ d: [String: Value]) -> OrderedDictionary<String, Value> {
        OrderedDictionary(uniqueKeysWithValues: d.sorted { $0.key < $1.key })
    }
}
