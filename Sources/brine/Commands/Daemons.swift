import ArgumentParser
import BrineCore
import Foundation

/// What `brine master` and `brine minion` share: `-c`, `--show-config`.
struct DaemonOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Flag(name: .customLong("show-config"), help: "Print the resolved configuration (paths joined to root_dir) and exit.")
    var showConfig = false

    @Option(name: .customLong("out"), help: "Output format for --show-config: yaml or json.")
    var out = "yaml"

    func run(_ role: Role) throws {
        do {
            let opts = try config.load(role)
            guard showConfig else {
                throw BrineError(.usage, "the \(role.rawValue) daemon is not part of this build yet",
                                 hint: "use --show-config to check a configuration")
            }
            let data = BrineCore.Value.map(opts.options)
            print(out == "json" ? JSON.encode(data) : YAML.encode(data), terminator: out == "json" ? "\n" : "")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}

/// `brine master` (salt-master).
struct Master: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the master daemon (salt-master).")
    @OptionGroup var options: DaemonOptions
    func run() throws { try options.run(.master) }
}

/// `brine minion` (salt-minion).
struct Minion: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the minion daemon (salt-minion).")
    @OptionGroup var options: DaemonOptions
    func run() throws { try options.run(.minion) }
}
