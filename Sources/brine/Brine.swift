import ArgumentParser
import BrineCommandLine
import BrineCore
import Foundation

/// `brine`: the command users type, kept small because `brine call` (and
/// `salt-call`) is the command run most, one process per call: it runs
/// `call` and the in-container build commands itself, and hands every other
/// command to an executable beside it — `brine-minion` for the minion,
/// `brine-full` (the master, keys, jobs, builds, containers, monitor, REST
/// API) for the rest — with the same arguments. A process that maps the
/// master, HTTP, TLS and Docker code only to render states starts ~2 ms
/// slower (bench/README.md, issue 14).
@main
enum Brine {
    static func main() {
        let invokedAs = (CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent }) ?? "brine"
        var arguments = Array(CommandLine.arguments.dropFirst())
        switch invokedAs {
        case "brine": break
        case "salt-call": arguments.insert("call", at: 0)
        case "salt-minion": arguments.insert("minion", at: 0)
        default:
            // salt, salt-master, salt-key…: their first word is theirs (`salt minion test.ping`
            // targets a minion named "minion"); brine-full maps the name itself.
            handToFull()
        }
        switch arguments.first {
        case "call":
            runAndExit { try CallCommandLine.run(Array(arguments.dropFirst())) }
        case "build-plan":
            // ArgumentParser's own help, usage errors and exit codes.
            BuildPlanCommand.main(Array(arguments.dropFirst()))
            exit(0)
        case "build-step":
            BuildStepCommand.main(Array(arguments.dropFirst()))
            exit(0)
        case "minion":
            // brine-minion takes the minion's options alone, brine-full the subcommand and them;
            // argv[0] is the executable's path (the `saltpath` grain, the daemon's relaunch).
            hand(to: [("brine-minion", Array(arguments.dropFirst())), ("brine-full", arguments)], argv0: nil)
        default:
            handToFull()
        }
    }

    /// Every other command: untouched, argv[0] included (brine-full maps salt-master, salt-key and salt itself).
    static func handToFull() -> Never {
        hand(to: [("brine-full", Array(CommandLine.arguments.dropFirst()))], argv0: CommandLine.arguments.first ?? "brine")
    }

    /// Replaces this process with the first of `candidates` found beside
    /// this one, with its arguments; `argv0` nil: the executable's path.
    static func hand(to candidates: [(name: String, arguments: [String])], argv0: String?) -> Never {
        for (name, arguments) in candidates {
            if let path = SiblingExecutable.path(name) { SiblingExecutable.exec(path, arguments: arguments, argv0: argv0) }
        }
        printError("Error: this command needs \(candidates.last?.name ?? "brine-full") beside \(SiblingExecutable.current) (install every executable of the release together)")
        exit(1)
    }
}
