import ArgumentParser
import BrineCommandLine
import BrineCore
import Foundation

/// `brine-full`: every command. The lean `brine` hands it every command but
/// `call` (with argv[0] kept); invoked through a link named `salt-call`,
/// `salt-master`, … it behaves as that Salt command, so the seed's command
/// lines run as written. Containers get this executable mounted.
@main
struct BrineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brine",
        abstract: "Configuration management and remote execution in the spirit of SaltStack.",
        version: Brine.version,
        subcommands: [Call.self, Master.self, Minion.self, Key.self, Jobs.self, Build.self, ContainerCommand.self, Image.self, BuildPlanCommand.self, BuildStepCommand.self, Monitor.self, Stats.self, Run.self],
        defaultSubcommand: Run.self
    )

    /// Salt's command names mapped to Brine's subcommands (a switch, not a
    /// dictionary: this runs first in every process).
    static func subcommand(invokedAs name: String) -> String? {
        switch name {
        case "salt-call": return "call"
        case "salt-master": return "master"
        case "salt-minion": return "minion"
        case "salt-key": return "key"
        case "salt": return "run"
        default: return nil
        }
    }

    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let invokedAs = (CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent }) ?? "brine"
        if let subcommand = subcommand(invokedAs: invokedAs) {
            arguments.insert(subcommand, at: 0)
        }
        // The minion has its own parser (shared with the lean brine-minion executable).
        if arguments.first == "minion" {
            await MinionLauncher.run(Array(arguments.dropFirst()))
        }
        // So has `call`, the command run most: no reflection-driven parsing.
        if arguments.first == "call" {
            runAndExit { try CallCommandLine.run(Array(arguments.dropFirst())) }
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
