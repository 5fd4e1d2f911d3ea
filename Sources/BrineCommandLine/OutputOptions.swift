import ArgumentParser
import BrineCore
import BrineState
import Foundation

/// Salt's output flags, shared by every command that prints returns.
public struct OutputOptions: ParsableArguments {
    public init() {}

    @Option(name: [.customLong("out"), .customLong("output")], help: "Outputter: nested, json, yaml, txt, quiet, raw, highstate.")
    public var out: String?

    @Option(name: .customLong("out-file"), help: "Write the output to this file instead of stdout.")
    public var outFile: String?

    @Flag(name: .customLong("out-file-append"), help: "Append to --out-file instead of replacing it.")
    public var outFileAppend = false

    @Option(name: .customLong("out-indent"), parsing: .unconditional, help: "Indentation for json output; a negative value prints compact json.")
    public var outIndent: Int?

    @Flag(name: .customLong("no-color"), help: "Disable all colored output.")
    public var noColor = false

    @Flag(name: .customLong("force-color"), help: "Force colored output.")
    public var forceColor = false

    @Option(name: .customLong("state-output"), help: "Highstate output: full, terse, mixed, changes.")
    public var stateOutput: String?

    @Option(name: .customLong("state-verbose"), help: "False hides states that succeeded without changes.")
    public var stateVerbose: String?

    /// The same settings as a plain value (what `brine call`'s own parser fills).
    public var settings: OutputSettings {
        OutputSettings(out: out, outFile: outFile, outFileAppend: outFileAppend, outIndent: outIndent, noColor: noColor,
                       forceColor: forceColor, stateOutput: stateOutput, stateVerbose: stateVerbose)
    }

    public func outputter(default fallback: Outputter = .nested) throws -> Outputter { try settings.outputter(default: fallback) }
    public func colors(config: Config?) -> Colors { settings.colors(config: config) }
    public func highstate(config: Config) -> HighstateOutput { settings.highstate(config: config) }
    public func emit(_ text: String) throws { try settings.emit(text) }
}

/// Salt's output flags as values: which outputter, where to write, colours
/// and the highstate outputter's options.
public struct OutputSettings: Sendable {
    public var out: String?
    public var outFile: String?
    public var outFileAppend = false
    public var outIndent: Int?
    public var noColor = false
    public var forceColor = false
    public var stateOutput: String?
    public var stateVerbose: String?

    public func outputter(default fallback: Outputter = .nested) throws -> Outputter {
        guard let out else { return fallback }
        guard let chosen = Outputter(rawValue: out) else {
            throw BrineError(.usage, "unknown outputter '\(out)'",
                             hint: "choose one of \(Outputter.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return chosen
    }

    public func colors(config: Config?) -> Colors {
        if forceColor { return .on }
        if noColor || outFile != nil || (config.map { !$0.bool("color") } ?? false) { return .none }
        return .choose(isatty(STDOUT_FILENO) == 1)
    }

    /// The highstate outputter with `--state-output`/`--state-verbose` or
    /// the config's `state_output`/`state_verbose`.
    public func highstate(config: Config) -> HighstateOutput {
        let verbose = stateVerbose.map { CallArguments.yamlify($0).asFlag } ?? config.bool("state_verbose")
        return HighstateOutput(colors: colors(config: config), stateOutput: stateOutput ?? config.string("state_output") ?? "full",
                               verbose: verbose)
    }

    /// Writes text (plus a newline) to stdout or the --out-file, the latter
    /// through a temporary file unless appending.
    public func emit(_ text: String) throws {
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
