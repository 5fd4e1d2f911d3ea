import ArgumentParser
import BrineCore
import BrineModules
import BrineState
import Foundation
import OrderedCollections

/// `brine call` (salt-call): run one execution function on this machine.
struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Run an execution function locally (salt-call).",
        discussion: """
            Arguments are typed as Salt types them: 'True', '1' and '[a, b]' become a boolean, an integer and a list; \
            key=value words become keyword arguments.
            Example: brine call --local cmd.run 'uname -a' cwd=/tmp
            """
    )

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .customShort("l"), help: "Console log level (as --log-level).")
    var shortLogLevel: String?

    @Flag(name: .customLong("local"), help: "Run without a master: files and pillar come from file_roots and pillar_roots.")
    var local = false

    @Option(name: .customLong("id"), help: "The minion id to use (default: the id option, else the host name).")
    var minionID: String?

    @Option(name: .customLong("file-root"), help: "Use this directory as the base file_roots.")
    var fileRoot: String?

    @Option(name: .customLong("pillar-root"), help: "Use this directory as the base pillar_roots.")
    var pillarRoot: String?

    @Flag(name: .customLong("retcode-passthrough"), help: "Exit with the return code of the function's command.")
    var retcodePassthrough = false

    @Flag(name: [.customShort("g"), .customLong("grains")], help: "Print the grains and exit.")
    var showGrains = false

    @Argument(help: "The function (mod.fun), then its arguments.")
    var words: [String] = []

    func run() throws {
        try reportingErrors {
            try execute()
        }
    }

    func execute() throws {
        var overrides: [String: BrineCore.Value] = [:]
        if local { overrides["file_client"] = "local" }
        if let fileRoot { overrides["file_roots"] = ["base": [.string(Config.absolutePath(fileRoot))]] }
        if let pillarRoot { overrides["pillar_roots"] = ["base": [.string(Config.absolutePath(pillarRoot))]] }
        if let minionID { overrides["id"] = .string(minionID) }
        var config = self.config
        config.logLevel = config.logLevel ?? shortLogLevel
        let opts = try config.load(.minion, overrides: overrides)
        guard opts.string("file_client") == "local" || local else {
            throw BrineError(.usage, "brine call talks to a master only through a running minion for now",
                             hint: "add --local to use file_roots and pillar_roots on this machine")
        }
        let context = try LocalContext.make(opts: opts, configDir: config.directory)
        let function = showGrains ? "grains.items" : (words.first ?? "")
        guard !function.isEmpty else {
            throw BrineError(.usage, "no function given", hint: "for example: brine call --local test.ping")
        }
        let arguments = CallArguments.parse(showGrains ? [] : Array(words.dropFirst()))
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
        let data: BrineCore.Value = ["local": result]
        if outputter == .highstate {
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
    static func defaultFor(function: String) -> Outputter {
        function.hasPrefix("state.") && !function.hasPrefix("state.show") ? .highstate : .nested
    }
}
