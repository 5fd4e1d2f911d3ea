import BrineCore
import BrineWire
import Foundation
import Synchronization
import OrderedCollections

/// The seed's interactive workflow: a container runs as a minion of the
/// running master (`--add-host salt:…`, host network here) for step-by-step
/// `brine ID state.sls X`, then is committed into an image.
///
/// Nothing is installed in the container: the brine binary, the minion's
/// configuration and its key are bind-mounted under `/run/brine`, a tmpfs,
/// and the minion's writable state lives on the host in
/// `cachedir/containers/ID`, so a commit holds only what states changed.
public struct ContainerMinion: Sendable {
    /// Label on containers run as minions; its value is the minion id.
    public static let label = "io.brine.minion"

    let docker: DockerClient
    let runtime: RuntimeBundle
    let master: Config
    /// Where the master keeps minion keys: its `pki_dir`, or in a cluster
    /// the database (a key written to files there would leave the container
    /// waiting for an acceptance no master reads).
    let keys: any MinionKeys

    public init(docker: DockerClient, runtime: RuntimeBundle, master: Config, keys: (any MinionKeys)? = nil) {
        self.docker = docker
        self.runtime = runtime
        self.master = master
        self.keys = keys ?? KeyStore(pkiDir: master.string("pki_dir") ?? "/etc/brine/pki/master")
    }

    /// The host directory holding a container minion's config, key and cache.
    func stateDirectory(_ id: String) -> String {
        (master.string("cachedir") ?? "/var/cache/brine/master") + "/containers/" + id
    }

    /// The address minions reach the master at: `interface`, or loopback
    /// when the master listens on every address.
    var masterAddress: String {
        let interface = master.string("interface") ?? "0.0.0.0"
        return interface == "0.0.0.0" || interface == "::" ? "127.0.0.1" : interface
    }

    public struct Started: Sendable {
        public var id: String
        public var container: String
        public var connected: Bool
    }

    /// Starts IMAGE as minion `id`, its key accepted unless `pending` (then
    /// it waits in `minions_pre`, as in the seed, for `brine key -a`).
    public func run(image: String, id: String, hostname: String?, pending: Bool, waitSeconds: Double = 20) async throws -> Started {
        try KeyStore.validate(id: id)
        guard try await docker.inspectImage(image) != nil else {
            throw BrineError(.config, "image '\(image)' is not in the Docker engine",
                             hint: "make a base image with: brine image bootstrap --suite bookworm \(image)")
        }
        if let existing = try await docker.inspectContainer(id) {
            throw BrineError(.usage, "a container named \(id) already exists (\(existing["State"]?["Status"]?.stringValue ?? "?"))",
                             hint: "remove it with: brine container rm \(id)")
        }
        let directory = stateDirectory(id)
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory + "/etc", withIntermediateDirectories: true)
        try PrivateDirectory.make(directory + "/state")
        let pair = StaticKeyPair.generate()
        try KeyFiles(directory: directory + "/state/pki", name: "minion").write(pair, overwrite: true)
        let masterKey = KeyFiles.master(master).publicKeyPath
        if FileManager.default.fileExists(atPath: masterKey) {
            // Pinned before first contact: the container trusts only this master.
            try FileManager.default.copyItem(atPath: masterKey, toPath: directory + "/state/pki/minion_master.pub")
        }
        if pending {
            _ = try await keys.admit(id: id, key: pair.publicKey, autoAccept: false, autosign: [], maximumPending: .max)
        } else {
            try await keys.preseed(id: id, key: pair.publicKey)
        }
        let config: OrderedDictionary<String, Value> = [
            "id": .string(id), "master": "salt", "master_port": .int(master.int("ret_port") ?? 4506),
            "root_dir": .string(RuntimeBundle.root + "/state"), "pki_dir": .string(RuntimeBundle.root + "/state/pki"),
            "log_level": "info", "acceptance_wait_time": 1,
        ]
        try AtomicFile.write(YAML.encode(.map(config)), to: directory + "/etc/minion", mode: 0o644)

        var spec = ContainerSpec(image: image)
        spec.name = id
        spec.hostname = hostname ?? id
        let command = runtime.command(["minion", "-c", RuntimeBundle.root + "/etc"])
        spec.entrypoint = [command[0]]
        spec.command = Array(command.dropFirst())
        spec.binds = runtime.binds + ["\(directory)/etc:\(RuntimeBundle.root)/etc:ro", "\(directory)/state:\(RuntimeBundle.root)/state"]
        spec.tmpfs = ["/run": "mode=755"]
        spec.networkMode = "host"
        spec.extraHosts = ["salt:\(masterAddress)"]
        spec.labels = [Self.label: id]
        let container = try await docker.createContainer(spec)
        do {
            try await docker.startContainer(container)
            let connected = pending ? false : try await waitUntilConnected(container, seconds: waitSeconds)
            return Started(id: id, container: container, connected: connected)
        } catch {
            // Nothing half-made stays behind: no container, no key, no state.
            try? await remove(id)
            throw error
        }
    }

    /// Follows the minion's log until it says it authenticated.
    func waitUntilConnected(_ container: String, seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let seen = Mutex("")
            try await docker.logs(container, follow: false) { _, bytes in seen.withLock { $0 += String(decoding: bytes, as: UTF8.self) } }
            if seen.withLock({ $0 }).contains("authenticated with the master") { return true }
            if let state = try await docker.inspectContainer(container)?["State"], state["Running"] == .bool(false) {
                throw BrineError(.execution, "the minion container stopped: \(seen.withLock { $0 }.suffix(500))")
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return false
    }

    /// Stops the container and commits it as IMAGE. The image keeps the
    /// base image's command unless `changes` (Dockerfile instructions, as
    /// `docker commit --change`) say otherwise; nothing of the minion remains.
    public func commit(_ id: String, as reference: String, changes: [String]) async throws -> String {
        guard let container = try await docker.inspectContainer(id), let baseImage = container["Image"]?.stringValue else {
            throw BrineError(.usage, "no container named \(id)", hint: "see the running ones with: brine container ls")
        }
        if container["State"]?["Running"] == .bool(true) { try await docker.stopContainer(id, timeout: 10) }
        let committed = try await docker.commit(container: id, comment: "brine container commit \(id)")
        let baseConfig = try await docker.inspectImage(baseImage)?["Config"] ?? .null
        let words = ImageBuilder.execForm
        var lines = ["FROM \(committed.replacingOccurrences(of: "sha256:", with: ""))",
                     "ENTRYPOINT \(words(baseConfig["Entrypoint"]))", "CMD \(words(baseConfig["Cmd"]))",
                     "LABEL \(JSON.quote(Self.label))=\"\"",
                     "USER \(baseConfig["User"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "root")",
                     "WORKDIR \(baseConfig["WorkingDir"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "/")"]
        lines += changes
        return try await docker.buildConfiguration(dockerfile: lines.joined(separator: "\n") + "\n", tag: reference)
    }

    /// Removes the container, its key on the master and its state directory.
    public func remove(_ id: String) async throws {
        try KeyStore.validate(id: id)
        try await docker.removeContainer(id, force: true)
        for status in KeyStore.Status.allCases where (try? await keys.contains(id, in: status)) == true {
            try await keys.delete(id, from: status)
        }
        try? FileManager.default.removeItem(atPath: stateDirectory(id))
    }

    /// Containers started as minions: id, container, status, image.
    public func list() async throws -> [Value] {
        try await docker.listContainers(label: Self.label).map { c in
            ["id": c["Labels"]?[Self.label] ?? .null, "container": .string(String((c["Id"]?.stringValue ?? "").prefix(12))),
             "status": c["Status"] ?? .null, "image": c["Image"] ?? .null]
        }
    }
}
