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
            run { try CallCommandLine.run(Array(arguments.dropFirst())) }
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

    static func run(_ body: () throws -> Void) -> Never {
        do {
            try body()
            exit(0)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            exit(fail(error).rawValue)
        }
    }

    /// Replaces this process with the first of `candidates` found beside
    /// this one, with its arguments; `argv0` nil: the executable's path.
    static func hand(to candidates: [(name: String, arguments: [String])], argv0: String?) -> Never {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? searchPath(CommandLine.arguments[0])
        let directory = (me as NSString).deletingLastPathComponent
        for (name, arguments) in candidates {
            let path = directory + "/" + name
            guard access(path, X_OK) == 0 else { continue }
            let argv: [UnsafeMutablePointer<CChar>?] = ([argv0 ?? path] + arguments).map { strdup($0) } + [nil]
            execv(path, argv)
            printError("Error: cannot run \(path): \(String(cString: strerror(errno)))")
            exit(1)
        }
        printError("Error: this command needs \(candidates.last?.name ?? "brine-full") beside \(me) (install every executable of the release together)")
        exit(1)
    }

    /// Where a bare command name came from, as the shell found it (only without /proc).
    static func searchPath(_ name: String) -> String {
        guard !name.contains("/") else { return name }
        let directories = (getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 } ?? name
    }
}
