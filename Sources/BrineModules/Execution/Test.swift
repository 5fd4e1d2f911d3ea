import BrineCore
import Foundation

/// Salt's `test` module: functions for checking that a minion answers and
/// that arguments arrive as typed.
public enum TestModule: ExecutionModule {
    public static let name = "test"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("ping", doc: "Used to make sure the minion is up and responding. Returns True.") { _, _ in
            .bool(true)
        },
        ExecutionFunction("echo", doc: "Return a string - used for testing the connection.", [Parameter("text")]) { args, _ in
            args["text"]
        },
        ExecutionFunction("version", doc: "Return the version of Brine on the minion.") { _, _ in
            .string(Brine.version)
        },
        ExecutionFunction("versions_report", doc: "Return the versions of Brine, its libraries and the system, in Salt's layout.") { _, _ in
            .string(VersionsReport.text())
        },
        ExecutionFunction("sleep", doc: "Instruct the minion to initiate a process that will sleep for a given period of time.",
                          [Parameter("length")]) { args, _ in
            guard let seconds = args.double("length"), seconds >= 0 else {
                throw BrineError(.arguments, "test.sleep needs a number of seconds, got \(args["length"].pythonRepr)")
            }
            Thread.sleep(forTimeInterval: seconds)
            return .bool(true)
        },
        ExecutionFunction("arg", doc: "Print out the data passed into the function ``*args`` and ``**kwargs``.",
                          varargs: true, kwargs: true) { args, _ in
            ["args": .list(args.extra), "kwargs": .map(args.extraKeywords)]
        },
        ExecutionFunction("arg_type", doc: "Print out the types of the args and kwargs.", varargs: true, kwargs: true) { args, _ in
            var kinds = Value.emptyMap.mapValue ?? [:]
            for value in args.extra {
                let key = "<class '\(value.typeName)'>"
                kinds[key] = .list((kinds[key]?.listValue ?? []) + [value])
            }
            return .map(kinds)
        },
        ExecutionFunction("arg_repr", doc: "Print out the repr of the args and kwargs.", varargs: true, kwargs: true) { args, _ in
            ["args": .list(args.extra.map { .string($0.pythonRepr) }),
             "kwargs": .map(args.extraKeywords.mapValues { .string($0.pythonRepr) })]
        },
        ExecutionFunction("kwarg", doc: "Print out the data passed into the function ``**kwargs``.", kwargs: true) { args, _ in
            .map(args.extraKeywords)
        },
        ExecutionFunction("true", doc: "Always return True.") { _, _ in .bool(true) },
        ExecutionFunction("false", doc: "Always return False.") { _, _ in .bool(false) },
        ExecutionFunction("retcode", doc: "Test that the returncode system is functioning correctly.",
                          [Parameter("code", default: 42)]) { args, _ in
            .int(args.int("code") ?? 42)
        },
        ExecutionFunction("fib", doc: "Return the Fibonacci sequence up to (not including) num.", [Parameter("num")]) { args, _ in
            guard let limit = args.int("num") else {
                throw BrineError(.arguments, "test.fib needs an integer")
            }
            var seq: [Value] = []
            var (a, b) = (0, 1)
            while a < limit {
                seq.append(.int(a))
                (a, b) = (b, a &+ b)
            }
            return .list(seq)
        },
        ExecutionFunction("exception", doc: "Raise an exception with the given message.",
                          [Parameter("message", default: "Test Exception")]) { args, _ in
            throw BrineError(.execution, args.string("message") ?? "Test Exception")
        },
        ExecutionFunction("outputter", doc: "Test the outputter, pass in data to return.", [Parameter("data")]) { args, _ in
            args["data"]
        },
        ExecutionFunction("provider", doc: "Return the name of the Salt module that provides a virtual module here (service → debian_service or systemd_service).",
                          [Parameter("module")]) { args, ctx in
            let module = args.string("module") ?? ""
            guard ctx.loader.moduleNames.contains(module) else { return "" }
            return .string(provider(of: module))
        },
    ]

    /// The file name of the Salt module Salt would load for `module` on
    /// this Debian machine: systemd's only when systemd is running.
    static func provider(of module: String) -> String {
        switch module {
        case "service": return FileOps.isDirectory("/run/systemd/system") ? "systemd_service" : "debian_service"
        case "pkg": return "aptpkg"
        case "cmd": return "cmdmod"
        case "user": return "useradd"
        case "group": return "groupadd"
        case "sys": return "sysmod"
        case "grains": return "grains"
        default: return module
        }
    }
}
