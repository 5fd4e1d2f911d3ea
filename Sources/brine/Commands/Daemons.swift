import ArgumentParser
import BrineCore
import Foundation

/// `brine master`: for now loads and shows the resolved configuration.
struct Master: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the master daemon (salt-master).")

    @OptionGroup var config: ConfigOptions

    @Flag(name: .customLong("show-config"), help: "Print the resolved configuration (paths joined to root_dir) and exit.")
    var showConfig = false

    @Option(name: .customLong("out"), help: "Output format for --show-config: yaml or json.")
    var out = "yaml"

    func run() throws {
        do {
            let opts = try config.load(.master)
            try show(opts, requested: showConfig, out: out)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}

/// `brine minion`: for now loads and shows the resolved configuration.
struct Minion: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the minion daemon (salt-minion).")

    @OptionGroup var config: ConfigOptions

    @Flag(name: .customLong("show-config"), help: "Print the resolved configuration (paths joined to root_dir) and exit.")
    var showConfig = false

    @Option(name: .customLong("out"), help: "Output format for --show-config: yaml or json.")
    var out = "yaml"

    func run() throws {
        do {
            let opts = try config.load(.minion)
            try show(opts, requested: showConfig, out: out)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}

private func show(_ opts: Config, requested: Bool, out: String) throws {
    guard requested else {
        throw BrineError(.usage, "the \(opts.role.rawValue) daemon is not part of this build yet",
                         hint: "use --show-config to check a configuration")
    }
    let data = BrineCore.Value.map(opts.options)
    print(out == "json" ? JSON.encode(data) : YAML.encode(data), terminator: out == "json" ? "\n" : "")
}
