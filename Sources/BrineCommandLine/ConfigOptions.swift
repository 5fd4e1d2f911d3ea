import ArgumentParser
import BrineCore
import Foundation

/// `-c DIR` and the environment variables that replace it.
public struct ConfigOptions: ParsableArguments {
    public init() {}

    @Option(name: [.customShort("c"), .customLong("config-dir")],
            help: "Configuration directory (default: $BRINE_CONFIG_DIR, $SALT_CONFIG_DIR, /etc/brine).")
    public var configDir: String?

    /// Long form only: `salt-key` uses `-l` for `--list`; commands whose
    /// Salt twin has `-l` for the log level add it themselves.
    @Option(name: .customLong("log-level"), help: "Console log level: quiet, critical, error, warning, info, debug.")
    public var logLevel: String?

    public var directory: String {
        Config.configDirectory(explicit: configDir, environment: ProcessInfo.processInfo.environment)
    }

    public func load(_ role: Role, overrides: [String: Value] = [:]) throws -> Config {
        try Self.load(role, directory: directory, logLevel: logLevel, overrides: overrides)
    }

    /// The role's config file under `directory` with the command line's
    /// overrides; its warnings printed unless the log level hides them.
    public static func load(_ role: Role, directory: String, logLevel: String?, overrides: [String: Value]) throws -> Config {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
            // Salt's words, before any logging is set up; the defaults are used.
            FileHandle.standardError.write(Data("WARNING: CONFIG '\(directory)' directory does not exist.\n".utf8))
        }
        var ordered = Config(role: role, options: [:], configDir: "").options
        for (k, v) in overrides.sorted(by: { $0.key < $1.key }) { ordered[k] = v }
        let config = try Config.load(role: role, configDir: directory, overrides: ordered)
        config.startLogging(consoleLevel: logLevel)
        return config
    }
}
