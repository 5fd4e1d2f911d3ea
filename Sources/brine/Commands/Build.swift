import ArgumentParser
import BrineContainer
import BrineCore
import BrineModules
import BrineState
import Foundation
import Synchronization

/// `brine build`: an image from a base image and states, in the Docker engine.
struct Build: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a container image by applying states to a base image.",
        discussion: """
            Reads a build file (default: brine-build.yaml): from, image, sls or highstate, pillar, grains, \
            file_roots, pillar_roots, layers (per-sls or single) and config (cmd, entrypoint, expose, env, workdir, \
            user, labels, volumes). Each step is cached as a layer keyed by its rendered states and the files they read.
            """
    )

    @Argument(help: "The build file.")
    var buildFile = "brine-build.yaml"

    @Flag(name: .customLong("no-cache"), help: "Apply every step again, ignoring cached layers.")
    var noCache = false

    @Flag(name: .customLong("keep-failed"), help: "Keep the container of a failed step for inspection.")
    var keepFailed = false

    @Option(name: .customLong("tag"), help: "Tag the image with this name instead of the build file's 'image'.")
    var tag: String?

    @Flag(name: .customLong("force-color")) var forceColor = false
    @Flag(name: .customLong("no-color")) var noColor = false

    func run() async throws {
        try await reportingErrors {
            var file = try BuildFile.load(buildFile)
            if let tag { file.image = tag }
            let terminal = isatty(STDERR_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
            let colors: Colors = forceColor ? .on : (noColor ? .none : .choose(isatty(STDOUT_FILENO) == 1))
            let progress = BuildProgress(colors: colors, terminal: terminal)
            let docker = try await DockerClient.connect()
            let builder = ImageBuilder(file: file, docker: docker, runtime: try RuntimeBundle.current(),
                                       options: BuildOptions(noCache: noCache, keepFailed: keepFailed), progress: progress)
            // Interrupted: its containers and scratch files go, nothing is tagged.
            let interrupted = Signals.onTermination(exitCode: 130) {
                printError("\nInterrupted; removing the build's containers")
                builder.leftovers.clean(docker)
            }
            defer { withExtendedLifetime(interrupted) {} }
            let started = Date()
            do {
                let result = try await builder.build()
                let built = result.steps.filter { !$0.cached }.count
                progress.line("Built \(file.image) (\(result.imageID.replacingOccurrences(of: "sha256:", with: "").prefix(12))) in "
                    + String(format: "%.1f s", Date().timeIntervalSince(started))
                    + ": \(built) layer\(built == 1 ? "" : "s") built, \(result.steps.count - built) from cache")
            } catch where builder.leftovers.isInterrupted {
                builder.leftovers.waitUntilCleaned()
                throw ExitCode(130)
            } catch let failure as BuildFailure {
                progress.finish()
                print(failure.output)
                if let kept = failure.keptContainer {
                    printError("Build failed; container \(kept) kept for inspection (docker rm -f \(kept) when done)")
                } else {
                    printError("Build failed; no image tagged")
                }
                throw ExitCode(1)
            }
        }
    }
}

/// Runs inside a build's planning container: each step's lowstate and the
/// files it reads, on the build channel (`BuildStep`), for the host to
/// derive cache keys from.
struct BuildPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build-plan", shouldDisplay: false)

    @OptionGroup var config: ConfigOptions

    @Argument(help: "One argument per step: SLS names (comma-separated), or @highstate.")
    var steps: [String] = []

    func run() throws {
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
struct BuildStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build-step", shouldDisplay: false)

    @OptionGroup var config: ConfigOptions

    @Argument(help: "SLS names (comma-separated), or @highstate.")
    var step: String

    func run() throws {
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
