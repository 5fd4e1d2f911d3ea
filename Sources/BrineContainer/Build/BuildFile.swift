import BrineCore
import Foundation

/// `brine-build.yaml`: what image to build from what, with which states.
///
/// ```yaml
/// from: local/bookworm:minbase
/// image: example/web:1
/// sls: [users, web]          # or: highstate: true
/// pillar: {web: {port: 8080}}
/// grains: {role: web}
/// file_roots: salt           # relative to this file; a list, or {env: [dirs]}
/// pillar_roots: pillar
/// layers: per-sls            # or: single
/// apt_cache: true            # apt's lists and .debs kept between builds, not in the image
/// config: {cmd: [nginx, -g, daemon off;], expose: [80], env: {A: b}, workdir: /srv,
///          user: www-data, labels: {a: b}, volumes: [/data], entrypoint: [...]}
/// ```
public struct BuildFile: Sendable {
    public enum Layers: String, Sendable { case perSLS = "per-sls", single }

    public struct ImageConfig: Sendable, Equatable {
        public var cmd: [String]?
        public var entrypoint: [String]?
        public var expose: [String] = []
        public var env: [(String, String)] = []
        public var workdir: String?
        public var user: String?
        public var labels: [(String, String)] = []
        public var volumes: [String] = []

        public static func == (a: ImageConfig, b: ImageConfig) -> Bool {
            a.cmd == b.cmd && a.entrypoint == b.entrypoint && a.expose == b.expose && a.env.map { $0.0 + "=" + $0.1 } == b.env.map { $0.0 + "=" + $0.1 }
                && a.workdir == b.workdir && a.user == b.user && a.volumes == b.volumes
                && a.labels.map { $0.0 + "=" + $0.1 } == b.labels.map { $0.0 + "=" + $0.1 }
        }
    }

    public var path: String
    public var from: String
    public var image: String
    /// nil: the highstate (top.sls).
    public var sls: [String]?
    public var pillar: Value
    public var grains: Value
    public var id: String
    /// saltenv → host directories.
    public var fileRoots: [(env: String, dirs: [String])]
    public var pillarRoots: [(env: String, dirs: [String])]
    public var layers: Layers
    /// apt's package lists and downloaded .debs live in a Docker volume
    /// shared by builds (see `AptBuildCache`), not in the image's layers.
    public var aptCache: Bool
    public var config: ImageConfig

    static let keys: Set<String> = ["from", "image", "sls", "highstate", "pillar", "grains", "id", "file_roots", "pillar_roots",
                                    "layers", "apt_cache", "config"]
    static let configKeys: Set<String> = ["cmd", "entrypoint", "expose", "env", "workdir", "user", "labels", "volumes"]

    /// Reads and checks a build file; every error names the file and line.
    public static func load(_ path: String) throws(BrineError) -> BuildFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw BrineError(.io, "cannot read build file \(path): \(error.localizedDescription)",
                             hint: "write a brine-build.yaml (see README, \"Building images\") or name one: brine build FILE")
        }
        let document = try YAML.decode(text, file: path)
        return try BuildFile(document: document, text: text, path: path)
    }

    init(document: Value, text: String, path: String) throws(BrineError) {
        let reader = Reader(text: text, path: path)
        guard let map = document.mapValue else { throw reader.error("the build file must be a mapping of keys (from, image, sls, …)") }
        for key in map.keys where !Self.keys.contains(key) {
            throw reader.error("unknown key '\(key)'; expected one of \(Self.keys.sorted().joined(separator: ", "))", key: key)
        }
        self.path = path
        let directory = (Config.absolutePath(path) as NSString).deletingLastPathComponent
        from = try reader.string(map["from"], key: "from", required: true) ?? ""
        image = try reader.string(map["image"], key: "image", required: true) ?? ""
        let highstate = map["highstate"]?.asFlag ?? false
        switch (map["sls"], highstate) {
        case (nil, true): sls = nil
        case (nil, false): throw reader.error("name the states to apply: 'sls: [a, b]' or 'highstate: true'")
        case (_?, true): throw reader.error("give either 'sls' or 'highstate: true', not both", key: "highstate")
        case (let value?, false):
            let names = try reader.strings(value, key: "sls")
            guard !names.isEmpty else { throw reader.error("'sls' is empty", key: "sls") }
            sls = names
        }
        pillar = map["pillar"] ?? .emptyMap
        grains = map["grains"] ?? .emptyMap
        guard pillar.mapValue != nil else { throw reader.error("'pillar' must be a mapping", key: "pillar") }
        guard grains.mapValue != nil else { throw reader.error("'grains' must be a mapping", key: "grains") }
        id = try reader.string(map["id"], key: "id") ?? Self.defaultID(image)
        fileRoots = try reader.roots(map["file_roots"], key: "file_roots", relativeTo: directory, default: "salt")
        pillarRoots = try reader.roots(map["pillar_roots"], key: "pillar_roots", relativeTo: directory, default: "pillar")
        let layerText = try reader.string(map["layers"], key: "layers") ?? "per-sls"
        guard let layers = Layers(rawValue: layerText) else { throw reader.error("'layers' must be per-sls or single", key: "layers") }
        self.layers = layers
        switch map["apt_cache"] {
        case nil: aptCache = true
        case .bool(let flag)?: aptCache = flag
        case _?: throw reader.error("'apt_cache' must be true or false", key: "apt_cache")
        }
        config = try reader.imageConfig(map["config"])
        guard from != image else { throw reader.error("'image' must differ from 'from'", key: "image") }
    }

    /// `example/web:1` → `web`.
    static func defaultID(_ image: String) -> String {
        let repo = DockerClient.splitReference(image).0
        return String(repo.split(separator: "/").last ?? "brine-build")
    }

    /// The build's steps: one per SLS with per-sls layers, else one.
    public var steps: [[String]?] {
        guard let sls else { return [nil] }
        return layers == .single ? [sls] : sls.map { [$0] }
    }
}

/// Typed access to the build file's values, with the line of the key on error.
struct Reader {
    let text: String
    let path: String

    func line(of key: String) -> Int? {
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop(while: { $0 == " " })
            if trimmed.hasPrefix(key + ":") || trimmed.hasPrefix("\"\(key)\":") || trimmed.hasPrefix("'\(key)':") { return i + 1 }
        }
        return nil
    }

    /// Keys inside `config` fall back to the line of `config` (flow mappings).
    func error(_ message: String, key: String? = nil) -> BrineError {
        let line = key.flatMap(line(of:)) ?? (key.map(BuildFile.configKeys.contains) == true ? line(of: "config") : nil)
        return BrineError(.config, message, at: SourceLocation(file: path, line: line))
    }

    func string(_ value: Value?, key: String, required: Bool = false) throws(BrineError) -> String? {
        switch value {
        case nil, .null?:
            if required { throw error("missing '\(key)'") }
            return nil
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case let other?: throw error("'\(key)' must be a string, not \(other.typeName)", key: key)
        }
    }

    func strings(_ value: Value, key: String) throws(BrineError) -> [String] {
        switch value {
        case .string(let s): return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .list(let items):
            var out: [String] = []
            for item in items {
                switch item {
                case .string(let s): out.append(s)
                case .int(let i): out.append(String(i))
                default: throw error("'\(key)' must be a list of strings", key: key)
                }
            }
            return out
        default: throw error("'\(key)' must be a list of strings", key: key)
        }
    }

    func roots(_ value: Value?, key: String, relativeTo directory: String, default fallback: String) throws(BrineError)
        -> [(env: String, dirs: [String])]
    {
        func absolute(_ dir: String) -> String {
            dir.hasPrefix("/") ? dir : (directory as NSString).appendingPathComponent(dir)
        }
        let table: [(String, [String])]
        switch value {
        case nil, .null?:
            let dir = absolute(fallback)
            return FileManager.default.fileExists(atPath: dir) ? [("base", [dir])] : []
        case .map(let map)?:
            var t: [(String, [String])] = []
            for (env, dirs) in map { t.append((env, try strings(dirs, key: key))) }
            table = t
        case let other?: table = [("base", try strings(other, key: key))]
        }
        var result: [(env: String, dirs: [String])] = []
        for (env, dirs) in table {
            var resolved: [String] = []
            for dir in dirs.map(absolute) {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw error("'\(key)': \(dir) is not a directory", key: key)
                }
                resolved.append(dir)
            }
            result.append((env, resolved))
        }
        return result
    }

    func imageConfig(_ value: Value?) throws(BrineError) -> BuildFile.ImageConfig {
        var config = BuildFile.ImageConfig()
        guard let value, !value.isNull else { return config }
        guard let map = value.mapValue else { throw error("'config' must be a mapping", key: "config") }
        for key in map.keys where !BuildFile.configKeys.contains(key) {
            throw error("unknown config key '\(key)'; expected one of \(BuildFile.configKeys.sorted().joined(separator: ", "))", key: key)
        }
        func command(_ key: String) throws(BrineError) -> [String]? {
            switch map[key] {
            case nil, .null?: return nil
            case .string(let s)?: return ["/bin/sh", "-c", s]
            case .list?: return try strings(map[key] ?? .null, key: key)
            default: throw error("'\(key)' must be a list of words or a shell command string", key: key)
            }
        }
        config.cmd = try command("cmd")
        config.entrypoint = try command("entrypoint")
        if let expose = map["expose"] { config.expose = try strings(expose.listValue != nil ? expose : [expose], key: "expose") }
        if let volumes = map["volumes"] { config.volumes = try strings(volumes.listValue != nil ? volumes : [volumes], key: "volumes") }
        config.workdir = try string(map["workdir"], key: "workdir")
        config.user = try string(map["user"], key: "user")
        config.env = try pairs(map["env"], key: "env")
        config.labels = try pairs(map["labels"], key: "labels")
        return config
    }

    func pairs(_ value: Value?, key: String) throws(BrineError) -> [(String, String)] {
        guard let value, !value.isNull else { return [] }
        guard let map = value.mapValue else { throw error("'\(key)' must be a mapping", key: key) }
        return map.map { ($0.key, $0.value.pythonString) }
    }
}
