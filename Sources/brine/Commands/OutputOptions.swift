import ArgumentParser
import BrineCore
import BrineState
import Foundation

/// Salt's output flags, shared by every command that prints returns.
struct OutputOptions: ParsableArguments {
    @Option(name: [.customLong("out"), .customLong("output")], help: "Outputter: nested, json, yaml, txt, quiet, raw, highstate.")
    var out: String?

    @Option(name: .customLong("out-file"), help: "Write the output to this file instead of stdout.")
    var outFile: String?

    @Flag(name: .customLong("out-file-append"), help: "Append to --out-file instead of replacing it.")
    var outFileAppend = false

    @Option(name: .customLong("out-indent"), parsing: .unconditional, help: "Indentation for json output; a negative value prints compact json.")
    var outIndent: Int?

    @Flag(name: .customLong("no-color"), help: "Disable all colored output.")
    var noColor = false

    @Flag(name: .customLong("force-color"), help: "Force colored output.")
    var forceColor = false

    @Option(name: .customLong("state-output"), help: "Highstate output: full, terse, mixed, changes.")
    var stateOutput: String?

    @Option(name: .customLong("state-verbose"), help: "False hides states that succeeded without changes.")
    var stateVerbose: String?

    /// The same settings as a plain value (what `brine call`'s own parser fills).
    var settings: OutputSettings {
        OutputSettings(out: out, outFile: outFile, outFileAppend: outFileAppend, outIndent: outIndent, noColor: noColor,
                       forceColor: forceColor, stateOutput: stateOutput, stateVerbose: stateVerbose)
    }

    func outputter(default fallback: Outputter = .nested) throws -> Outputter { try settings.outputter(default: fallback) }
    func colors(config: Config?) -> Colors { settings.colors(config: config) }
    func highstate(config: Config) -> HighstateOutput { settings.highstate(config: config) }
    func emit(_ text: String) throws { try settings.emit(text) }
}

/// Salt's output flags as values: which outputter, where to write, colours
/// and the highstate outputter's options.
struct OutputSettings: Sendable {
    var out: String?
    var outFile: String?
    var outFileAppend = false
    var outIndent: Int?
    var noColor = false
    var forceColor = false
    var stateOutput: String?
    var stateVerbose: String?

    func outputter(default fallback: Outputter = .nested) throws -> Outputter {
        guard let out else { return fallback }
        guard let chosen = Outputter(rawValue: out) else {
            throw BrineError(.usage, "unknown outputter '\(out)'",
                             hint: "choose one of \(Outputter.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return chosen
    }

    func colors(config: Config?) -> Colors {
        if forceColor { return .on }
        if noColor || outFile != nil || (config.map { !$0.bool("color") } ?? false) { return .none }
        return .choose(isatty(STDOUT_FILENO) == 1)
    }

    /// The highstate outputter with `--state-output`/`--state-verbose` or
    /// the config's `state_output`/`state_verbose`.
    func highstate(config: Config) -> HighstateOutput {
        let verbose = stateVerbose.map { CallArguments.yamlify($0).asFlag } ?? config.bool("state_verbose")
        return HighstateOutput(colors: colors(config: config), stateOutput: stateOutput ?? config.string("state_output") ?? "full",
                               verbose: verbose)
    }

    /// Writes text (plus a newline) to stdout or the --out-file, the latter
    /// through a temporary file unless appending.
    func emit(_ text: String) throws {
        guard !text.isEmpty else { return }
        let line = text.hasSuffix("\n") ? text : text + "\n"
        guard let outFile else {
            FileHandle.standardOutput.write(Data(line.utf8))
            return
        }
        if outFileAppend, let handle = FileHandle(forWritingAtPath: outFile) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try? handle.close()
        } else {
            try AtomicFile.write(line, to: outFile)
        }
    }
}
