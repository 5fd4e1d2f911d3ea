import ArgumentParser
import BrineContainer
import BrineCommandLine
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
