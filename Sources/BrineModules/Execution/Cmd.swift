import BrineCore
import Foundation
import Logging
import OrderedCollections

/// Salt's `cmd` module: run commands, with or without a shell, as another
/// user, in a directory, with an environment, stdin and a timeout.
public enum CmdModule: ExecutionModule {
    public static let name = "cmd"

    static let common: [Parameter] = [
        Parameter("cwd", default: nil), Parameter("stdin", default: nil), Parameter("runas", default: nil),
        Parameter("shell", default: nil), Parameter("python_shell", default: nil), Parameter("env", default: nil),
        Parameter("clean_env", default: false), Parameter("template", default: nil), Parameter("rstrip", default: true),
        Parameter("umask", default: nil), Parameter("timeout", default: nil), Parameter("ignore_retcode", default: false),
        Parameter("saltenv", default: "base"), Parameter("reset_system_locale", default: true),
        Parameter("success_retcodes", default: nil), Parameter("prepend_path", default: nil),
        Parameter("group", default: nil), Parameter("output_loglevel", default: "debug"),
        Parameter("hide_output", default: false), Parameter("stdin_raw_newlines", default: false), Parameter("bg", default: false),
    ].map { p in Parameter(p.name, default: p.defaultValue ?? .null) }

    static func params(_ first: String) -> [Parameter] { [Parameter(first)] + common }

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("run", doc: "Execute the passed command and return the output as a string (stderr included).",
                          params("cmd") + [Parameter("redirect_stderr", default: true)], kwargs: true) { args, ctx in
            let result = try execute(args, ctx, mergeStderr: args.bool("redirect_stderr"))
            // Salt's cmd.run logs the failure and the output once more.
            if let level = outputLevel(args) {
                let failed = result.retcode != 0 && !args.bool("ignore_retcode")
                if failed { logger.error("Command '\(loggedCommand(args))' failed with return code: \(result.retcode)") }
                logger.log(level: max(level, failed ? .error : level).loggerLevel, "output: \(result.stdout)")
            }
            return .string(args.bool("hide_output") ? "" : result.stdout)
        },
        ExecutionFunction("run_bg", doc: "Start a command in the background and return its pid.", params("cmd"), kwargs: true) { args, ctx in
            var args = args
            args.values["bg"] = .bool(true)
            return ["pid": .int(try execute(args, ctx, mergeStderr: false, failsCall: false).pid)]
        },
        ExecutionFunction("run_all", doc: "Execute the passed command and return a dict of pid, retcode, stdout and stderr.",
                          params("cmd") + [Parameter("redirect_stderr", default: false)], kwargs: true) { args, ctx in
            var result = try execute(args, ctx, mergeStderr: args.bool("redirect_stderr"))
            if args.bool("hide_output") { (result.stdout, result.stderr) = ("", "") }
            return resultMap(result)
        },
        ExecutionFunction("run_stdout", doc: "Execute a command, and only return the standard out.",
                          params("cmd"), kwargs: true) { args, ctx in
            .string(args.bool("hide_output") ? "" : try execute(args, ctx, mergeStderr: false).stdout)
        },
        ExecutionFunction("run_stderr", doc: "Execute a command and only return the standard error.",
                          params("cmd"), kwargs: true) { args, ctx in
            .string(args.bool("hide_output") ? "" : try execute(args, ctx, mergeStderr: false).stderr)
        },
        ExecutionFunction("retcode", doc: "Execute a shell command and return the command's return code.",
                          params("cmd"), kwargs: true) { args, ctx in
            .int(try execute(args, ctx, mergeStderr: false, failsCall: false).retcode)
        },
        ExecutionFunction("shell", doc: "Execute the passed command through a shell and return the output as a string.",
                          params("cmd"), kwargs: true) { args, ctx in
            var args = args
            args.values["python_shell"] = .bool(true)
            return .string(try execute(args, ctx, mergeStderr: true).stdout)
        },
        ExecutionFunction("script", doc: "Download a script from a remote location (salt:// or a local path) and execute it; returns run_all's dict.",
                          params("source") + [Parameter("args", default: .null)], kwargs: true) { args, ctx in
            try script(args, ctx)
        },
        ExecutionFunction("script_retcode", doc: "Run cmd.script and return only its return code.",
                          params("source") + [Parameter("args", default: .null)], kwargs: true) { args, ctx in
            try script(args, ctx)["retcode"] ?? .int(1)
        },
        ExecutionFunction("which", doc: "Returns the path of an executable available on the minion, None otherwise.",
                          [Parameter("cmd")]) { args, _ in
            which(args.string("cmd") ?? "").map(Value.string) ?? .null
        },
        ExecutionFunction("has_exec", doc: "Returns true if the executable is available on the minion, false otherwise.",
                          [Parameter("cmd")]) { args, _ in
            .bool(which(args.string("cmd") ?? "") != nil)
        },
    ]

    static func resultMap(_ result: ProcessResult) -> Value {
        ["pid": .int(result.pid), "retcode": .int(result.retcode), "stdout": .string(result.stdout),
         "stderr": .string(result.stderr)]
    }

    /// For system programs whose output Brine reads: C messages, the system's PATH.
    static let systemEnvironment: [String: String] = ["LC_ALL": "C", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]

    /// A system program run with `systemEnvironment`.
    static func runSystem(_ argv: [String], _ ctx: ExecutionContext) throws -> ProcessResult {
        try ctx.runner.run(Command(argv, environment: systemEnvironment))
    }

    public static func which(_ program: String) -> String? {
        guard !program.isEmpty else { return nil }
        if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin"]
        return dirs.map { "\($0)/\(program)" }.first { access($0, X_OK) == 0 }
    }

    static let logger = Logger.brine("brine.loaded.cmd")

    /// `output_loglevel` (Salt's default for these functions: debug); nil
    /// for `quiet`, which logs nothing about the command.
    static func outputLevel(_ args: Arguments) -> SaltLogLevel? {
        let name = args.string("output_loglevel") ?? "debug"
        if name.lowercased() == "quiet" { return nil }
        return SaltLogLevel(name: name) ?? .info
    }

    /// Salt logs only the program, not its arguments (they may hold secrets).
    static func loggedCommand(_ args: Arguments) -> String {
        let line = args.string("cmd") ?? args.string("source") ?? ""
        return String(line.split(whereSeparator: \.isWhitespace).first ?? "")
    }

    /// Builds and runs the command that `cmd`-style arguments describe.
    static func execute(_ args: Arguments, _ ctx: ExecutionContext, mergeStderr: Bool, failsCall: Bool = true,
                        argv explicit: [String]? = nil) throws -> ProcessResult
    {
        // Salt's `_render_cmd`: `template=jinja` renders the command and cwd first.
        let args = try ctx.renderingTemplate(args, ["cmd", "cwd"])
        let line = args.string("cmd") ?? ""
        let pythonShell = args.values["python_shell"].flatMap { $0.isNull ? nil : $0.asFlag } ?? ctx.shellByDefault
        let shell = args.string("shell") ?? Self.defaultShell
        var argv: [String]
        if let explicit {
            argv = explicit
        } else if pythonShell {
            argv = [shell, "-c", line]
        } else {
            argv = try Shlex.split(line)
        }
        guard !argv.isEmpty else { throw BrineError(.arguments, "no command given") }
        if let umask = args.string("umask") {
            argv = ["/bin/sh", "-c", "umask \(umask) && exec \"$@\"", "sh"] + argv
        }
        let runas = args.string("runas")
        let home = try homeDirectory(runas)
        if let runas, runas != currentUserName() {
            guard geteuid() == 0 else {
                throw BrineError(.permission, "runas=\(runas) needs Brine to run as root",
                                 hint: "run as root, or drop runas")
            }
            var wrapper = ["runuser", "-u", runas]
            if let group = args.string("group") { wrapper += ["-g", group] }
            argv = wrapper + ["--"] + argv
        }
        // Salt falls back to / when the user's home is missing or unreadable.
        let defaultCwd = access(home, R_OK) == 0 ? home : "/"
        let cwd = args.string("cwd") ?? defaultCwd
        let level = outputLevel(args)
        if level != nil {
            let user = runas.map { "as user '\($0)' " } ?? ""
            let group = args.string("group").map { "in group '\($0)' " } ?? ""
            logger.info("Executing command '\(loggedCommand(args))' \(user)\(group)in directory '\(cwd)'")
        }
        // Salt turns a `\n` typed on the command line into a newline.
        let stdin = args.bool("stdin_raw_newlines") ? args.string("stdin") : args.string("stdin")?.replacingOccurrences(of: "\\n", with: "\n")
        if args.bool("bg") {
            // In the background: started, not waited for; its pid is the answer.
            argv = ["/bin/sh", "-c", "\"$@\" </dev/null >/dev/null 2>&1 & echo $!", "sh"] + argv
        }
        var command = Command(argv, cwd: cwd, stdin: args.bool("bg") ? nil : stdin,
                              timeout: args.bool("bg") ? nil : args.double("timeout"), mergeStderr: mergeStderr)
        command.environment = try environment(args, home: home, user: runas)
        var result = try ctx.runner.run(command)
        if args.bool("bg") {
            result.pid = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? result.pid
            (result.stdout, result.stderr) = ("", "")
        }
        if result.timedOut {
            result.stdout = "\(line.isEmpty ? argv.joined(separator: " ") : line) : Timed out after \(args.string("timeout") ?? "?") seconds"
            result.retcode = 1
        }
        if args.values["rstrip"]?.asFlag ?? true {
            result.stdout = rstrip(result.stdout)
            result.stderr = rstrip(result.stderr)
        }
        if let ok = args.values["success_retcodes"]?.listValue?.compactMap(\.intValue)
            ?? args.int("success_retcodes").map({ [$0] }), ok.contains(result.retcode)
        {
            result.retcode = 0
        }
        if failsCall, result.retcode != 0, !args.bool("ignore_retcode") {
            ctx.outcome.fail(result.retcode)
        }
        if var level {
            if result.retcode != 0 && !args.bool("ignore_retcode") {
                level = max(level, .error)
                logger.error("Command '\(loggedCommand(args))' failed with return code: \(result.retcode)")
            }
            if !result.stdout.isEmpty { logger.log(level: level.loggerLevel, "stdout: \(result.stdout)") }
            if !result.stderr.isEmpty { logger.log(level: level.loggerLevel, "stderr: \(result.stderr)") }
            if result.retcode != 0 { logger.log(level: level.loggerLevel, "retcode: \(result.retcode)") }
        }
        return result
    }

    static func rstrip(_ s: String) -> String {
        var s = Substring(s)
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }

    /// Salt's `DEFAULT_SHELL` (the `shell` grain as `grains.extra`
    /// computes it): `$SHELL`, else /bin/sh. Bash where a user's login
    /// shell is bash, so that bashisms in `cmd.run` behave as under Salt.
    static let defaultShell = ProcessInfo.processInfo.environment["SHELL"].flatMap { $0.isEmpty ? nil : $0 } ?? "/bin/sh"

    /// `clean_env=True` starts from nothing, as Salt's does (no PATH: the
    /// shell's own default search path applies).
    static func environment(_ args: Arguments, home: String, user: String?) throws(BrineError) -> [String: String] {
        var env = args.bool("clean_env") ? [:] : ProcessInfo.processInfo.environment
        if user != nil {
            env["HOME"] = home
            env["USER"] = user
            env["LOGNAME"] = user
        }
        switch args["env"] {
        case .null: break
        case .map(let m): for (k, v) in m { env[k] = v.pythonString }
        case .list(let l):
            // States often give env as a list of one-key mappings.
            for case .map(let m) in l { for (k, v) in m { env[k] = v.pythonString } }
        default:
            throw BrineError(.arguments, "env must be a mapping of variable: value, got \(args["env"].pythonRepr)")
        }
        if let prepend = args.string("prepend_path") {
            env["PATH"] = prepend + ":" + (env["PATH"] ?? "")
        }
        if args.values["reset_system_locale"]?.asFlag ?? true {
            for key in ["LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY", "LC_MESSAGES", "LC_PAPER",
                        "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION", "LANGUAGE"]
            where env[key] == nil {
                env[key] = "C"
            }
        }
        return env
    }

    static func currentUserName() -> String? {
        guard let pw = getpwuid(geteuid()) else { return nil }
        return String(cString: pw.pointee.pw_name)
    }

    static func homeDirectory(_ user: String?) throws(BrineError) -> String {
        if let user {
            guard let pw = getpwnam(user) else {
                throw BrineError(.execution, "User '\(user)' is not available", hint: "create the user first")
            }
            return String(cString: pw.pointee.pw_dir)
        }
        if let pw = getpwuid(geteuid()) { return String(cString: pw.pointee.pw_dir) }
        return ProcessInfo.processInfo.environment["HOME"] ?? "/"
    }

    static func script(_ args: Arguments, _ ctx: ExecutionContext) throws -> Value {
        let source = args.string("source") ?? ""
        let saltenv = args.string("saltenv") ?? ctx.saltenv
        let local: String?
        if source.hasPrefix("salt://") {
            local = try ctx.fileClient.cache(source, saltenv: saltenv)
        } else {
            local = FileManager.default.fileExists(atPath: source) ? source : nil
        }
        guard let local else {
            ctx.outcome.fail(1)
            return ["pid": 0, "retcode": 1, "stdout": "", "stderr": "", "cache_error": true]
        }
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("brine-script-\(UUID().uuidString)").path
        do {
            try FileManager.default.copyItem(atPath: local, toPath: temp)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: temp)
            if let runas = args.string("runas"), let pw = getpwnam(runas) {
                chown(temp, pw.pointee.pw_uid, pw.pointee.pw_gid)
            }
        } catch {
            throw BrineError(.io, "cannot prepare script \(source): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let extra: [String]
        switch args["args"] {
        case .null: extra = []
        case .list(let l): extra = l.map(\.pythonString)
        case let v: extra = try Shlex.split(v.pythonString)
        }
        var bound = args
        bound.values["cmd"] = .string(([temp] + extra).map(Shlex.quote).joined(separator: " "))
        let result = try execute(bound, ctx, mergeStderr: false, argv: [temp] + extra)
        return resultMap(result)
    }
}
