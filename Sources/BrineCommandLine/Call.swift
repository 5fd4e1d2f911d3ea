import ArgumentParser
import BrineCore
import BrineModules
import BrineState
import Foundation
import Logging
import OrderedCollections

/// `brine call` (salt-call): run one execution function on this machine.
public struct Call: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Run an execution function locally (salt-call).",
        discussion: """
            Arguments are typed as Salt types them: 'True', '1' and '[a, b]' become a boolean, an integer and a list; \
            key=value words become keyword arguments.
            Example: brine call --local cmd.run 'uname -a' cwd=/tmp
            """
    )

    /// Everything after `call`, read by `CallCommandLine` (salt-call's
    /// options); `BrineCommand.main` goes there directly, without this.
    @Argument(parsing: .captureForPassthrough, help: "[options] <function> [arguments]; see 'brine call --help'.")
    public var arguments: [String] = []

    public func run() throws {
        try reportingErrors {
            try CallCommandLine.run(arguments)
        }
    }
}

extension CallCommandLine {
    /// Parses and runs; a usage error prints salt-call's usage line and the
    /// error, and exits 64 as salt-call does.
    public static func run(_ arguments: [String]) throws {
        let line: CallCommandLine
        do {
            line = try CallCommandLine(parsing: arguments)
        } catch {
            printError("Usage: brine call [options] <function> [arguments]\n\nbrine call: error: \(error.message)")
            throw ExitCode(64)
        }
        try line.execute()
    }

    func execute() throws {
        if help { return print(Self.usage, terminator: "") }
        if version { return print("brine \(Brine.version)") }
        if versionsReport { return print(VersionsReport.text()) }
        var overrides: [String: BrineCore.Value] = [:]
        if local { overrides["file_client"] = "local" }
        if partial { overrides["partial_compile"] = true }
        if let fileRoot { overrides["file_roots"] = ["base": [.string(Config.absolutePath(fileRoot))]] }
        if let pillarRoot { overrides["pillar_roots"] = ["base": [.string(Config.absolutePath(pillarRoot))]] }
        if let minionID { overrides["id"] = .string(minionID) }
        if let master { overrides["master"] = .string(master) }
        if let cachedir { overrides["cachedir"] = .string(Config.absolutePath(cachedir)) }
        if let logFile { overrides["log_file"] = .string(logFile) }
        if let logFileLevel { overrides["log_level_logfile"] = .string(logFileLevel) }
        if let logLevel { overrides["log_level"] = .string(logLevel) }
        let directory = Config.configDirectory(explicit: configDir, environment: ProcessInfo.processInfo.environment)
        if let logLevel {
            // Until the config is read: the console at -l, so that reading it can be followed.
            SaltLog.shared.configureConsole(SaltLogLevel(name: logLevel) ?? .warning)
        }
        let opts = try ConfigOptions.load(.minion, directory: directory, logLevel: logLevel, overrides: overrides)
        if !ignored.isEmpty {
            Logger.brine("brine.call").warning("Brine accepts and ignores \(ignored.joined(separator: ", ")) (see 'brine call --help')")
        }
        guard opts.string("file_client") == "local" || local else {
            throw BrineError(.usage, "brine call talks to a master only through a running minion for now",
                             hint: "add --local to use file_roots and pillar_roots on this machine")
        }
        let context = try LocalContext.make(opts: opts, configDir: directory)
        let function = showGrains ? "grains.items" : (words.first ?? "")
        let rest = showGrains ? [] : Array(words.dropFirst())
        if documentation {
            // salt-call -d [module|function]: the docs of what is named, or
            // of everything, as text (Salt prints them without an outputter).
            let docs = try context.loader.call("sys.doc", CallArguments(positional: function.isEmpty ? [] : [.string(function)]), context: context)
            for (name, doc) in docs.mapValue ?? [:] {
                print("\(name):\n\n" + doc.pythonString.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n") + "\n")
            }
            return
        }
        guard !function.isEmpty else {
            throw BrineError(.usage, "no function given", hint: "for example: brine call --local test.ping")
        }
        let arguments = CallArguments.parse(rest, keepingText: Set(noParse))
        let result: BrineCore.Value
        do {
            result = try context.loader.call(function, arguments, context: context)
        } catch let error as BrineError where error.kind == .notAvailable {
            throw error
        } catch let error as BrineError {
            throw BrineError(error.kind, "Error running '\(function)': \(error.description)")
        }
        let retcode = context.outcome.retcode
        let outputter = try output.outputter(default: Outputter.defaultFor(function: function))
        var options = Outputter.Options(colors: output.colors(config: opts), indent: output.outIndent.map { $0 < 0 ? nil : $0 } ?? 4)
        options.retcode = 0
        var data: BrineCore.Value = ["local": result]
        if metadata {
            // salt-call --metadata: the return with its job's metadata.
            data = ["local": ["jid": .string(JID.make()), "return": result, "retcode": .int(Int(retcode)),
                              "id": (try context.grains())["id"] ?? .string(opts.string("id") ?? ""), "fun": .string(function),
                              "fun_args": .list(rest.map(BrineCore.Value.string))]]
        }
        if outputter == .highstate && !metadata {
            try output.emit(output.highstate(config: opts).render(data))
        } else {
            try output.emit(outputter.render(data, options: options))
        }
        if retcode != 0 {
            throw ExitCode(Int32(retcodePassthrough ? retcode : 1))
        }
    }
}

extension Outputter {
    /// Salt picks the highstate outputter for state functions.
    public static func defaultFor(function: String) -> Outputter {
        function.hasPrefix("state.") && !function.hasPrefix("state.show") ? .highstate : .nested
    }
}
