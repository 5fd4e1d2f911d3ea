import ArgumentParser
import BrineContainer
import BrineCore
import BrineModules
import BrineState
import Foundation

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
/// files it reads, as JSON, for the host to derive cache keys from.
struct BuildPlan: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build-plan", shouldDisplay: false)

    @OptionGroup var config: ConfigOptions

    @Argument(help: "One argument per step: SLS names (comma-separated), or @highstate.")
    var steps: [String] = []

    func run() throws {
        try reportingErrors {
            let opts = try config.load(.minion, overrides: ["file_client": "local"])
            let planned = try BuildPlanner.plan(steps: steps.map(BuildStep.names), opts: opts, configDir: config.directory,
                                                pillar: try BuildStep.pillar(configDir: config.directory))
            print(JSON.encode(planned, indent: nil))
        }
    }
}

/// Runs inside a build step's container: applies the step's states with
/// the build's pillar, reports each state on stderr as it finishes and
/// prints the result as JSON. Its command line (the image history's
/// "created by") names only the step: the pillar is read from a file.
struct BuildStep: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build-step", shouldDisplay: false)

    @OptionGroup var config: ConfigOptions

    @Argument(help: "SLS names (comma-separated), or @highstate.")
    var step: String

    static func names(_ step: String) -> [String]? {
        step == "@highstate" ? nil : step.split(separator: ",").map(String.init)
    }

    static func pillar(configDir: String) throws -> BrineCore.Value {
        let path = configDir + "/" + ImageBuilder.pillarFile
        return FileManager.default.fileExists(atPath: path) ? try JSON.decode(try String(contentsOfFile: path, encoding: .utf8), file: path) : .emptyMap
    }

    func run() throws {
        try reportingErrors {
            let opts = try config.load(.minion, overrides: ["file_client": "local"])
            var context = try LocalContext.make(opts: opts, configDir: config.directory,
                                                pillarOverride: try Self.pillar(configDir: config.directory))
            context.stateProgress = StateProgress { tag, result in
                let line = StateProgress.linePrefix + JSON.encode(["tag": .string(tag), "result": result], indent: nil) + "\n"
                FileHandle.standardError.write(Data(line.utf8))
            }
            let result: BrineCore.Value
            if let names = Self.names(step) {
                result = try context.loader.call("state.sls", CallArguments(positional: [.string(names.joined(separator: ","))]), context: context)
            } else {
                result = try context.loader.call("state.highstate", CallArguments(), context: context)
            }
            print(JSON.encode(["local": result], indent: nil))
            if context.outcome.retcode != 0 { throw ExitCode(1) }
        }
    }
}
