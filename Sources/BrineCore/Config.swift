import Foundation
import Logging
import OrderedCollections

/// Which daemon a configuration file is for.
public enum Role: String, Sendable {
    case master, minion
}

/// The type an option must have; checked when a file is loaded.
public enum OptionType: Sendable {
    case string, int, bool, float, list, map, stringOrList, any

    func accepts(_ value: Value) -> Bool {
        switch (self, value) {
        case (.any, _), (_, .null): true
        case (.string, .string), (.string, .int), (.string, .float): true
        case (.int, .int): true
        case (.float, .float), (.float, .int): true
        case (.bool, .bool): true
        case (.list, .list): true
        case (.map, .map): true
        case (.stringOrList, .string), (.stringOrList, .list): true
        default: false
        }
    }

    var word: String {
        switch self {
        case .string: "a string"
        case .int: "an integer"
        case .bool: "True or False"
        case .float: "a number"
        case .list: "a list"
        case .map: "a mapping"
        case .stringOrList: "a string or a list"
        case .any: "any value"
        }
    }
}

/// A Salt-style options dictionary (`opts`) with the rules for loading it.
///
/// Options keep Salt's names; defaults follow Salt's except that Brine's own
/// directories are `/etc/brine`, `/var/cache/brine`, … (state trees stay in
/// `/srv/salt` and `/srv/pillar`, where Salt users keep them).
public struct Config: Sendable {
    public var role: Role
    public var options: OrderedDictionary<String, Value>
    /// The directory the configuration was read from.
    public var configDir: String
    /// Options the file named that Brine does not know; reported, not fatal.
    public var warnings: [String] = []

    public subscript(key: String) -> Value? {
        get { options[key] }
        set { options[key] = newValue }
    }

    public func string(_ key: String) -> String? {
        switch options[key] {
        case .string(let s): s
        case .int(let i): String(i)
        case .float(let d): Value.pythonFloat(d)
        default: nil
        }
    }

    public func bool(_ key: String) -> Bool { options[key]?.asFlag ?? false }
    public func int(_ key: String) -> Int? { options[key]?.intValue }
    public func double(_ key: String) -> Double? { options[key]?.doubleValue }

    /// Environment name → directories, as `file_roots`/`pillar_roots` give them.
    public func roots(_ key: String) -> OrderedDictionary<String, [String]> {
        var result = OrderedDictionary<String, [String]>()
        guard case .map(let envs) = options[key] else { return result }
        for (env, dirs) in envs {
            switch dirs {
            case .list(let l): result[env] = l.compactMap(\.stringValue)
            case .string(let s): result[env] = [s]
            default: result[env] = []
            }
        }
        return result
    }

    public init(role: Role, options: OrderedDictionary<String, Value>, configDir: String) {
        self.role = role
        self.options = options
        self.configDir = configDir
    }
}

// MARK: - Loading

extension Config {
    /// The directory configuration is read from: `-c DIR`, else
    /// `BRINE_CONFIG_DIR`, else `SALT_CONFIG_DIR`, else `/etc/brine`.
    public static func configDirectory(explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let dir = environment["BRINE_CONFIG_DIR"], !dir.isEmpty { return dir }
        if let dir = environment["SALT_CONFIG_DIR"], !dir.isEmpty { return dir }
        return "/etc/brine"
    }

    /// Loads `DIR/master` or `DIR/minion` (plus `DIR/<role>.d/*.conf`),
    /// applies defaults, checks types and resolves paths against `root_dir`.
    /// A missing file means all defaults, as with Salt.
    public static func load(role: Role, configDir: String, overrides: OrderedDictionary<String, Value> = [:])
        throws(BrineError) -> Config
    {
        let dir = absolutePath(configDir)
        var config = Config(role: role, options: Defaults.options(for: role), configDir: dir)
        let mainFile = dir + "/" + role.rawValue
        var files: [String] = []
        if FileManager.default.fileExists(atPath: mainFile) { files.append(mainFile) }
        let dropIn = dir + "/" + role.rawValue + ".d"
        if let names = try? FileManager.default.contentsOfDirectory(atPath: dropIn) {
            files += names.filter { $0.hasSuffix(".conf") }.sorted().map { dropIn + "/" + $0 }
        }
        for file in files {
            Logger.brine("brine.config").debug("Reading configuration from \(file)")
            try config.apply(file: file)
        }
        for (key, value) in overrides { config.options[key] = value }
        config.resolvePaths()
        return config
    }

    mutating func apply(file: String) throws(BrineError) {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw BrineError(.config, "cannot read configuration file: \(error.localizedDescription)",
                             at: SourceLocation(file: file))
        }
        let parsed = try YAML.decode(text, file: file)
        guard case .map(let entries) = parsed else {
            if parsed.isNull { return }
            throw BrineError(.config, "the configuration must be a mapping of option: value",
                             at: SourceLocation(file: file, line: 1))
        }
        let known = Defaults.types(for: role)
        for (key, value) in entries {
            if let type = known[key] {
                guard type.accepts(value) else {
                    throw BrineError(.config, "option '\(key)' must be \(type.word), not \(value.typeName) \(value.pythonRepr)",
                                     at: SourceLocation(file: file, line: Config.line(of: key, in: text)),
                                     hint: "fix the value or remove the line to use the default")
                }
            } else if !key.contains(".") {
                // `mysql.user`, `postgres.host`, `hosts.file`: execution
                // modules' options (read with config.option), not Brine's own
                warnings.append("\(file): unknown option '\(key)' ignored by Brine")
            }
            options[key] = value
        }
    }

    /// Salt's `prepend_root_dir`: these options live below `root_dir`, whether
    /// written relative or absolute, unless already under it.
    static let rootedOptions = ["pki_dir", "cachedir", "pidfile", "sock_dir", "log_file", "autosign_file",
                                "autoreject_file", "token_dir", "extension_modules"]

    mutating func resolvePaths() {
        let root = Config.absolutePath(string("root_dir") ?? "/")
        options["root_dir"] = .string(root)
        for key in Config.rootedOptions {
            guard let path = string(key), !path.isEmpty else { continue }
            options[key] = .string(Config.rooted(path, under: root))
        }
    }

    static func rooted(_ path: String, under root: String) -> String {
        if root == "/" { return path.hasPrefix("/") ? path : "/" + path }
        if path == root || path.hasPrefix(root + "/") { return path }
        let relative = path.drop(while: { $0 == "/" })
        return (root.hasSuffix("/") ? root : root + "/") + relative
    }

    public static func absolutePath(_ path: String) -> String {
        var result = path
        if !result.hasPrefix("/") {
            result = FileManager.default.currentDirectoryPath + "/" + result
        }
        // Normalise "a/./b", "a//b" and a trailing slash, keep ".." as given.
        var parts: [Substring] = []
        for part in result.split(separator: "/") where part != "." {
            if part == "..", !parts.isEmpty { parts.removeLast() } else if part != ".." { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The 1-based line where `key:` starts a top-level entry, for messages.
    static func line(of key: String, in text: String) -> Int? {
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            if line.hasPrefix(key + ":") || line.hasPrefix("'\(key)':") || line.hasPrefix("\"\(key)\":") {
                return number
            }
        }
        return nil
    }
}

extension Config {
    /// `nodegroups`, as the matcher takes them.
    public var nodegroups: [String: Value] {
        self["nodegroups"]?.mapValue.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.key, $0.value) }) } ?? [:]
    }
}

extension Config {
    /// The resolved options as `--show-config` prints them: YAML, or JSON with a newline.
    public func shown(json: Bool) -> String {
        let data = Value.map(options)
        return json ? JSON.encode(data) + "\n" : YAML.encode(data)
    }
}
