import BrineCore
import Foundation

/// `brine minion` / `salt-minion` / `brine-minion`: one parser and one entry
/// point, so the lean `brine-minion` executable (which links neither the
/// master nor ArgumentParser, and stays small in memory) and the `brine`
/// binary behave the same.
public struct MinionCommandLine: Sendable, Equatable {
    public var configDir: String?
    public var logLevel: String?
    public var daemon = false
    public var showConfig = false
    public var out = "yaml"
    public var swarm: Int?
    public var help = false
    public var version = false

    public static let usage = """
        USAGE: brine minion [-c DIR] [-l LEVEL] [-d] [--show-config [--out yaml|json]] [--swarm N]

        Run the minion daemon (salt-minion), in the foreground unless -d.

        OPTIONS:
          -c, --config-dir DIR    Configuration directory (default: $BRINE_CONFIG_DIR, $SALT_CONFIG_DIR, /etc/brine).
          -l, --log-level LEVEL   Console log level: quiet, critical, error, warning, info, debug.
          -d, --daemon            Run in the background (writes the pidfile).
          --show-config           Print the resolved configuration (paths joined to root_dir) and exit.
          --out FORMAT            Output format for --show-config: yaml or json.
          --swarm N               Benchmark mode: serve N minion identities (ID-0000…) from one process.
          --version               Show the version.
          -h, --help              Show help information.

        """

    public init() {}

    /// Parses the arguments after the command name (`--opt=value` forms too).
    public init(parsing arguments: [String]) throws(BrineError) {
        var rest = arguments[...]
        func value(_ option: String, _ inline: String?) throws(BrineError) -> String {
            if let inline { return inline }
            guard let next = rest.popFirst(), !next.hasPrefix("-") || next == "-" else {
                throw BrineError(.usage, "missing value for '\(option)'", hint: "see 'brine minion --help'")
            }
            return next
        }
        while let argument = rest.popFirst() {
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            let (option, inline) = argument.hasPrefix("--") && parts.count == 2 ? (parts[0], Optional(parts[1])) : (argument, nil)
            switch option {
            case "-c", "--config-dir": configDir = try value(option, inline)
            case "-l", "--log-level": logLevel = try value(option, inline)
            case "-d", "--daemon": daemon = true
            case "--show-config": showConfig = true
            case "--out": out = try value(option, inline)
            case "--swarm":
                let text = try value(option, inline)
                guard let count = Int(text), count > 0 else {
                    throw BrineError(.usage, "--swarm needs a positive count, not '\(text)'")
                }
                swarm = count
            case "-h", "--help": help = true
            case "--version": version = true
            default:
                throw BrineError(.usage, "unknown option '\(argument)' for the minion", hint: "see 'brine minion --help'")
            }
        }
        guard ["yaml", "json"].contains(out) else {
            throw BrineError(.usage, "--out must be yaml or json, not '\(out)'")
        }
    }

    public var directory: String {
        Config.configDirectory(explicit: configDir, environment: ProcessInfo.processInfo.environment)
    }

    /// Loads the minion file; prints warnings unless the log level hides them.
    public func loadConfig() throws -> Config {
        let defaults = Config(role: .minion, options: [:], configDir: "").options
        let config = try Config.load(role: .minion, configDir: directory, overrides: defaults)
        config.startLogging(consoleLevel: logLevel)
        return config
    }

    /// Parses, runs and exits: 0 when the minion stopped cleanly, 64 for a
    /// usage error, 1 for anything else (one line on stderr, never a trace).
    public static func main(_ arguments: [String]) async -> Never {
        do {
            try await MinionCommandLine(parsing: arguments).run()
            exit(0)
        } catch let error as BrineError {
            FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
            exit(error.kind == .usage ? 64 : 1)
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            exit(1)
        }
    }

    /// Runs the minion as these options ask; returns when it stops.
    public func run() async throws {
        if help { return print(Self.usage, terminator: "") }
        if version { return print(Brine.version) }
        let opts = try loadConfig()
        if showConfig { return print(opts.shown(json: out == "json"), terminator: "") }
        let owned = ([opts.string("pki_dir"), opts.string("cachedir")].compactMap { $0 },
                     [opts.string("log_file") ?? ""].filter { !$0.isEmpty })
        if try DaemonSupport.relaunchIfNeeded(daemon: daemon, user: opts.string("user"), paths: owned, logFile: opts.string("log_file")) {
            return
        }
        let minion = MinionDaemon(opts: opts, configDir: directory)
        if let swarm {
            try await minion.runSwarm(count: swarm)
        } else {
            try await minion.run()
        }
    }
}
