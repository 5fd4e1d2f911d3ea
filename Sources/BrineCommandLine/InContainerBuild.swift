import ArgumentParser
import BrineCore
import BrineState
import Foundation
import Synchronization

/// Runs inside a build's planning container: each step's lowstate and the
/// files it reads, on the build channel (`BuildStep`), for the host to
/// derive cache keys from.
public struct BuildPlanCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(commandName: "build-plan", shouldDisplay: false)

    @OptionGroup var config: ConfigOptions

    @Argument(help: "One argument per step: SLS names (comma-separated), or @highstate.")
    var steps: [String] = []

    public func run() throws {
        try reportingErrors {
            let opts = try config.load(.minion, overrides: ["file_client": "local"])
            try BuildStep.plan(steps: steps, opts: opts, configDir: config.directory, emit: BuildChannelOutput.write)
        }
    }
}

/// Runs inside a build step's container: applies the step's states with
/// the build's pillar, reporting each state on the build channel as it
/// finishes, then the result. Its command line (the image history's
/// "created by") names only the step: the pillar is read from a file.
public struct BuildStepCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(commandName: "build-step", shouldDisplay: false)

    @OptionGroup var config: ConfigOptions

    @Argument(help: "SLS names (comma-separated), or @highstate.")
    var step: String

    public func run() throws {
        try reportingErrors {
            let opts = try config.load(.minion, overrides: ["file_client": "local"])
            let retcode = try BuildStep.apply(step: step, opts: opts, configDir: config.directory, emit: BuildChannelOutput.write)
            if retcode != 0 { throw ExitCode(1) }
        }
    }
}

/// The build channel on standard output: one whole line per write, in
/// order, whichever state thread reports.
enum BuildChannelOutput {
    static let lock = Mutex(())

    @Sendable static func write(_ event: BuildStep.Event) {
        let bytes = Data(event.line.utf8)
        lock.withLock { _ in FileHandle.standardOutput.write(bytes) }
    }
}
