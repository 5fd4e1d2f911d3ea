import BrineCore
import Foundation
import OrderedCollections

/// Salt's `cmd` states. Commands run through a shell, as Salt's states do;
/// `unless`, `onlyif` and `creates` are checked by the runner for every state.
public enum CmdState: StateModule {
    public static let name = "cmd"

    static let options: [Parameter] = .optional("cwd", "runas", "shell", "env", "stdin", "umask", "timeout",
                                               "success_retcodes", "prepend_path", "group", "output_loglevel",
                                               "hide_output", "stateful")

    public static let functions: [StateFunction] = [
        StateFunction("run", doc: "Run a command (through a shell); changes hold pid, retcode, stdout and stderr.", options) { call in
            try run(call)
        },
        StateFunction("wait", doc: "Run a command only when a watched state changes (via watch).", options) { call in
            StateResult(name: call.name, result: true)
        },
        StateFunction("script", doc: "Download a script (salt:// or local) and run it.",
                      options + .optional("source", "args", "template", "saltenv")) { call in
            if call.test {
                return StateResult(name: call.name, result: nil, comment: "Command '\(call.name)' would have been executed")
            }
            var keyword: [String: Value] = [:]
            for key in ["cwd", "runas", "env", "stdin", "umask", "timeout", "args", "saltenv", "success_retcodes"]
            where !call[key].isNull {
                keyword[key] = call[key]
            }
            let source = call.string("source") ?? call.name
            let result = try call.call("cmd.script", [.string(source)], keyword)
            var ret = StateResult(name: call.name, result: result["retcode"]?.intValue == 0,
                                  comment: "Command '\(call.name)' run")
            ret.changes = result.mapValue ?? [:]
            if result["cache_error"] != nil {
                ret.result = false
                ret.comment = "Unable to cache script \(source) from saltenv '\(call.string("saltenv") ?? "base")'"
                ret.changes = [:]
            }
            return ret
        },
        StateFunction("mod_watch", doc: "Run the command when a watched state changed.", options + .optional("source", "args")) { call in
            switch call.watchingFunction {
            case "run", "wait", "watch": return try run(call)
            default:
                return .failed(call.name, "cmd.\(call.watchingFunction ?? "?") does not work with the watch requisite, use cmd.wait or cmd.run")
            }
        },
    ]

    static func run(_ call: StateCall) throws -> StateResult {
        if call.test {
            // Salt shows the command it would run as the would-be change.
            return StateResult(name: call.name, result: nil, changes: ["cmd": .string(call.name)],
                               comment: "Command \"\(call.name)\" would have been executed")
        }
        var keyword: [String: Value] = ["python_shell": true]
        for key in ["cwd", "runas", "shell", "env", "stdin", "umask", "timeout", "success_retcodes", "prepend_path", "group"]
        where !call[key].isNull {
            keyword[key] = call[key]
        }
        let result = try call.call("cmd.run_all", [.string(call.name)], keyword)
        let retcode = result["retcode"]?.intValue ?? 1
        var ret = StateResult(name: call.name, result: retcode == 0, comment: "Command \"\(call.name)\" run")
        ret.changes = result.mapValue ?? [:]
        return ret
    }
}
