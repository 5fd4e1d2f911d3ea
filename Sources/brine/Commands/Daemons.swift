import ArgumentParser
import BrineCore
import BrineMaster
import BrineMinion
import Foundation

/// What `brine master` and `brine minion` share: `-c`, `--show-config`.
struct DaemonOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Flag(name: .customLong("show-config"), help: "Print the resolved configuration (paths joined to root_dir) and exit.")
    var showConfig = false

    @Option(name: .customLong("out"), help: "Output format for --show-config: yaml or json.")
    var out = "yaml"

    /// Loads the configuration; prints it and returns nil for --show-config.
    func load(_ role: Role) throws -> Config? {
        let opts = try config.load(role)
        guard showConfig else { return opts }
        let data = BrineCore.Value.map(opts.options)
        print(out == "json" ? JSON.encode(data) : YAML.encode(data), terminator: out == "json" ? "\n" : "")
        return nil
    }
}

/// `brine master` (salt-master), in the foreground.
struct Master: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the master daemon (salt-master).")
    @OptionGroup var options: DaemonOptions

    func run() async throws {
        do {
            guard let opts = try options.load(.master) else { return }
            try await MasterDaemon(opts: opts, withJobCache: true).run()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}

/// `brine minion` (salt-minion), in the foreground.
struct Minion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the minion daemon (salt-minion).")
    @OptionGroup var options: DaemonOptions

    @Option(name: .customLong("swarm"), help: "Benchmark mode: serve this many minion identities (ID-0000…) from one process.")
    var swarm: Int?

    func run() async throws {
        do {
            guard let opts = try options.load(.minion) else { return }
            let daemon = MinionDaemon(opts: opts, configDir: options.config.directory)
            if let swarm {
                guard swarm > 0 else { throw BrineError(.usage, "--swarm needs a positive count") }
                try await daemon.runSwarm(count: swarm)
            } else {
                try await daemon.run()
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}
