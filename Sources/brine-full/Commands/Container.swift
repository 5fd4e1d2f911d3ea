import ArgumentParser
import BrineContainer
import BrineCommandLine
import BrineCore
import Foundation
import Logging

/// `brine container`: containers as minions of the running master.
struct ContainerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container",
        abstract: "Run containers as minions of the master, commit them as images (the seed's workflow).",
        subcommands: [RunContainer.self, CommitContainer.self, RemoveContainer.self, ListContainers.self]
    )
}

/// What every `brine container` subcommand needs: the master's config, the
/// engine and the master's keys (in a cluster, the database's, as `brine key`).
struct ContainerContext: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    /// `keys`: whether the subcommand changes keys (`run`, `rm`); the others
    /// do not need the cluster's database to be up.
    func withMinions<T: Sendable>(keys: Bool = false, _ body: (ContainerMinion) async throws -> T) async throws -> T {
        let master = try config.load(.master)
        let docker = try await DockerClient.connect()
        let runtime = try RuntimeBundle.current()
        guard keys else { return try await body(ContainerMinion(docker: docker, runtime: runtime, master: master)) }
        return try await withMasterKeys(master, logger: Logger.brine("brine.container")) { keys in
            try await body(ContainerMinion(docker: docker, runtime: runtime, master: master, keys: keys))
        }
    }
}

struct RunContainer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start IMAGE as a minion of the master, its key accepted (docker run --add-host salt:… with brine inside).")

    @OptionGroup var context: ContainerContext
    @Option(name: .customLong("name"), help: "Container name and minion id (default: generated).")
    var name: String?
    @Option(name: .customLong("hostname"), help: "Host name inside the container (default: the name).")
    var hostname: String?
    @Flag(name: .customLong("pending"), help: "Leave the key unaccepted, for `brine key -a` (the seed's way).")
    var pending = false
    @Argument(help: "The image to run.")
    var image: String

    func run() async throws {
        try await reportingErrors {
            let id = name ?? "brine-" + UUID().uuidString.prefix(8).lowercased()
            let started = try await context.withMinions(keys: true) { try await $0.run(image: image, id: id, hostname: hostname, pending: pending) }
            let state = pending ? "key pending: brine key -a \(id)" : (started.connected ? "connected" : "started, not yet connected")
            print("\(id) \(started.container.prefix(12)) \(state)")
        }
    }
}

struct CommitContainer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "commit", abstract: "Stop a minion container and commit it as IMAGE.")

    @OptionGroup var context: ContainerContext
    @Option(name: .customLong("change"), help: "A Dockerfile instruction to apply (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME).")
    var changes: [String] = []
    @Argument(help: "The container (minion id).")
    var name: String
    @Argument(help: "The image to create (name:tag).")
    var image: String

    func run() async throws {
        try await reportingErrors {
            let id = try await context.withMinions { try await $0.commit(name, as: image, changes: changes) }
            print("\(image) \(id)")
        }
    }
}

struct RemoveContainer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove minion containers and their keys.")

    @OptionGroup var context: ContainerContext
    @Argument(help: "Containers (minion ids).")
    var names: [String]

    func run() async throws {
        try await reportingErrors {
            try await context.withMinions(keys: true) { minions in
                for name in names {
                    try await minions.remove(name)
                    print(name)
                }
            }
        }
    }
}

struct ListContainers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the containers running as minions.")

    @OptionGroup var context: ContainerContext

    func run() async throws {
        try await reportingErrors {
            for c in try await context.withMinions({ try await $0.list() }) {
                print([c["id"], c["container"], c["image"], c["status"]].map { $0?.pythonString ?? "" }.joined(separator: "\t"))
            }
        }
    }
}

/// `brine image`: base images.
struct Image: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "image", abstract: "Base images.", subcommands: [Bootstrap.self])

    struct Bootstrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "bootstrap", abstract: "Make a Debian base image with debootstrap and import it.")

        @Option(name: .customLong("suite"), help: "Debian suite.") var suite = "bookworm"
        @Option(name: .customLong("mirror"), help: "Debian mirror.") var mirror = "http://deb.debian.org/debian"
        @Option(name: .customLong("variant"), help: "debootstrap variant.") var variant = "minbase"
        @Option(name: .customLong("include"), help: "Extra packages (comma-separated).") var include: String?
        @Flag(name: .customLong("if-missing"), help: "Do nothing when the image exists.") var ifMissing = false
        @Argument(help: "Image name (name:tag).") var name: String

        func run() async throws {
            try await reportingErrors {
                let docker = try await DockerClient.connect()
                if ifMissing, let existing = try await docker.inspectImage(name) {
                    print("\(name) \(existing["Id"]?.stringValue ?? "") (exists)")
                    return
                }
                let bootstrap = ImageBootstrap(suite: suite, mirror: mirror, variant: variant,
                                               include: include?.split(separator: ",").map(String.init) ?? [])
                let id = try await bootstrap.run(as: name, docker: docker) { printError($0) }
                print("\(name) \(id)")
            }
        }
    }
}
