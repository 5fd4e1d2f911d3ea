import BrineCore
import BrineModules
import BrineState
import Foundation
import OrderedCollections
import Synchronization

public struct BuildOptions: Sendable {
    /// Build every layer, ignoring cached ones.
    public var noCache = false
    /// Keep the container of a failed step for inspection.
    public var keepFailed = false

    public init(noCache: Bool = false, keepFailed: Bool = false) {
        self.noCache = noCache
        self.keepFailed = keepFailed
    }
}

public struct BuildResult: Sendable {
    public struct Step: Sendable {
        public var label: String
        public var cached: Bool
        public var image: String
    }

    public var imageID: String
    public var steps: [Step]
}

/// A step whose states failed (or did not compile): the highstate output to
/// show, and the container when it was kept.
public struct BuildFailure: Error, CustomStringConvertible {
    public var output: String
    public var keptContainer: String?
    public var description: String { output }
}

/// Labels Brine puts on images. Cache entries are images carrying
/// `io.brine.layer`: the key of the step that committed them.
enum ImageLabel {
    static let layer = "io.brine.layer"
    static let sls = "io.brine.sls"
    static let tree = "io.brine.tree"
    static let version = "io.brine.version"
    static let base = "io.brine.base"
    /// The digest of the configuration Dockerfile that made a built image.
    static let config = "io.brine.config"
}

/// `brine build`: a base image plus states becomes a new image. Each step
/// (an SLS, or the whole run) runs `brine call --local state.sls` in a
/// container of the previous step's image, with the brine binary and the
/// state tree bind-mounted read-only under a tmpfs, and is committed as
/// one layer labelled with its cache key.
public struct ImageBuilder: Sendable {
    let file: BuildFile
    let docker: DockerClient
    let runtime: RuntimeBundle
    let options: BuildOptions
    let progress: BuildProgress
    /// The containers and scratch directory of the build in progress, for a
    /// clean exit when the user interrupts it.
    public let leftovers = Leftovers()
    /// The base image's `User`: states run as root even when it is another.
    var baseUser: String? = nil

    public init(file: BuildFile, docker: DockerClient, runtime: RuntimeBundle, options: BuildOptions, progress: BuildProgress) {
        self.file = file
        self.docker = docker
        self.runtime = runtime
        self.options = options
        self.progress = progress
    }

    static let etc = RuntimeBundle.root + "/etc"
    /// The build file's pillar, in the build's config directory.

    public func build() async throws -> BuildResult {
        var builder = self
        return try await builder.buildAll()
    }

    mutating func buildAll() async throws -> BuildResult {
        guard let base = try await docker.inspectImage(file.from), let baseID = base["Id"]?.stringValue else {
            throw BrineError(.config, "base image '\(file.from)' is not in the Docker engine",
                             at: SourceLocation(file: file.path, line: Reader(text: (try? String(contentsOfFile: file.path, encoding: .utf8)) ?? "",
                                                                                path: file.path).line(of: "from")),
                             hint: "make one from Debian's mirror: brine image bootstrap --suite bookworm \(file.from)")
        }
        baseUser = base["Config"]?["User"]?.stringValue
        let workDir = try makeWorkDirectory()
        leftovers.directory.withLock { $0 = workDir }
        defer { try? FileManager.default.removeItem(atPath: workDir) }
        try writeMinionConfig(in: workDir)

        progress.line("Planning \(file.image) from \(file.from) (\(Self.short(baseID)))")
        // With --no-cache nothing is looked up, so the first step starts while
        // the plan (needed only for the layers' cache labels) is made.
        let builder = self
        let planning = Task { try await builder.makePlan(baseID: baseID, workDir: workDir) }
        let keys = KeyChain(planning: planning, base: baseID, grains: file.grains)
        if !options.noCache { _ = try await keys.plan() }
        var parent = baseID
        var steps: [BuildResult.Step] = []
        for (index, names) in file.steps.enumerated() {
            let label = names?.joined(separator: ",") ?? "highstate"
            let heading = "Step \(index + 1)/\(file.steps.count) \(label)"
            if !options.noCache, let cached = try await cachedLayer(try await keys.key(index)) {
                progress.line("\(heading): cached (\(Self.short(cached)))")
                steps.append(.init(label: label, cached: true, image: cached))
                parent = cached
                continue
            }
            let states = await keys.stateCount(index)
            progress.line("\(heading): applying" + (states.map { " \($0) state\($0 == 1 ? "" : "s")" } ?? ""))
            let started = Date()
            let image = try await runStep(names, parent: parent, key: { try await keys.key(index) }, states: states ?? 0, workDir: workDir)
            progress.line("\(heading): committed \(Self.short(image)) in \(BuildProgress.milliseconds(Date().timeIntervalSince(started) * 1000))")
            steps.append(.init(label: label, cached: false, image: image))
            parent = image
        }
        _ = try await keys.plan()
        let imageID = try await configure(parent, base: base)
        return BuildResult(imageID: imageID, steps: steps)
    }

    // MARK: Plan and cache keys

    /// The steps' cache keys, from the plan once it is made; each key
    /// chains the one before it, the base image id first.
    actor KeyChain {
        let planning: Task<Value, any Error>
        let base: String
        let grains: Value
        var keys: [String]?

        init(planning: Task<Value, any Error>, base: String, grains: Value) {
            self.planning = planning
            self.base = base
            self.grains = grains
        }

        func plan() async throws -> Value { try await planning.value }

        func key(_ index: Int) async throws -> String {
            if let keys { return keys[index] }
            let plan = try await planning.value
            var previous = base
            var made: [String] = []
            for step in plan["steps"]?.listValue ?? [] {
                previous = ImageBuilder.cacheKey(previous: previous, step: step, pillar: plan["pillar"]?.stringValue ?? "", grains: grains)
                made.append(previous)
            }
            keys = made
            guard index < made.count else { throw BrineError(.execution, "the build plan has no step \(index + 1)") }
            return made[index]
        }

        /// The step's number of states, once the keys (so the plan) are known.
        func stateCount(_ index: Int) async -> Int? {
            guard keys != nil, let plan = try? await planning.value else { return nil }
            return plan["steps"]?[index]?["lowstate"]?.listValue?.count
        }
    }

    /// Runs `brine build-plan` in a container of the base image.
    func makePlan(baseID: String, workDir: String) async throws -> Value {
        let arguments = ["build-plan", "-c", Self.etc] + file.steps.map { $0?.joined(separator: ",") ?? "@highstate" }
        let run = try await runContainer(image: baseID, arguments: arguments, workDir: workDir, name: nil, onProgress: nil)
        await remove(run.container)
        guard run.exitCode == 0, case .plan(let plan)? = run.last else {
            throw BrineError(.execution, "planning the build failed (exit \(run.exitCode)): \(run.stderr.isEmpty ? run.stdout : run.stderr)")
        }
        let errors = (plan["steps"]?.listValue ?? []).flatMap { $0["errors"]?.listValue ?? [] }
        if !errors.isEmpty {
            let output = HighstateOutput(colors: progress.colors).render([.init(stringLiteral: file.id): .list(errors)])
            throw BuildFailure(output: output, keptContainer: nil)
        }
        return plan
    }

    /// The step's key: the previous key (the base image id for the first
    /// step), the rendered lowstate, the digest of every file the step
    /// reads, the pillar and grains, and brine's version.
    static func cacheKey(previous: String, step: Value, pillar: String, grains: Value) -> String {
        let material = ["brine-layer/2", Brine.version, previous, JSON.encode(step["sls"] ?? .null, indent: nil),
                        JSON.encode(step["lowstate"] ?? .null, indent: nil), JSON.encode(step["files"] ?? .null, indent: nil),
                        pillar, JSON.encode(grains, indent: nil)].joined(separator: "\n")
        return (try? Hashing.hexDigest(Array(material.utf8))) ?? previous
    }

    func cachedLayer(_ key: String) async throws -> String? {
        // Several layers share a key after a --no-cache rebuild: the newest wins.
        try await docker.listImages(label: "\(ImageLabel.layer)=\(key)", all: true)
            .max { ($0["Created"]?.intValue ?? 0, $0["Id"]?.stringValue ?? "") < ($1["Created"]?.intValue ?? 0, $1["Id"]?.stringValue ?? "") }?["Id"]?
            .stringValue
    }

    // MARK: Steps

    func runStep(_ names: [String]?, parent: String, key: () async throws -> String, states: Int, workDir: String) async throws -> String {
        let arguments = ["build-step", "-c", Self.etc, names?.joined(separator: ",") ?? "@highstate"]
        progress.expect(states: states)
        let name = "brine-build-\(file.id)-\(UUID().uuidString.prefix(8).lowercased())"
        // The apt cache volume is mounted under /run (a tmpfs): nothing of it is committed.
        let volumes = file.aptCache ? ["\(Self.aptCacheVolume):\(BuildStep.aptCacheMount)"] : []
        let run = try await runContainer(image: parent, arguments: arguments, workDir: workDir, name: name, volumes: volumes) { tag, result in
            progress.state(tag: tag, result: result)
        }
        progress.finish()
        let result: Value? = if case .result(let value)? = run.last { value } else { nil }
        let failed = run.exitCode != 0 || result?.mapValue == nil
            || (result?.mapValue?.values.contains { $0["result"] == .bool(false) } ?? true)
        guard !failed else {
            var output = result.map { HighstateOutput(colors: progress.colors).render([.init(stringLiteral: file.id): $0]) } ?? ""
            if result == nil { output = run.stdout + run.stderr }
            if options.keepFailed {
                leftovers.containers.withLock { _ = $0.remove(run.container) }
                throw BuildFailure(output: output, keptContainer: name)
            }
            await remove(run.container)
            throw BuildFailure(output: output, keptContainer: nil)
        }
        do {
            return try await commit(run.container, names: names, parent: parent, key: key)
        } catch {
            await remove(run.container)
            throw error
        }
    }

    /// Commits a step's container as a layer labelled with its cache key,
    /// keeping the parent's command and user, then removes the container.
    func commit(_ container: String, names: [String]?, parent: String, key: () async throws -> String) async throws -> String {
        let parentConfig = try await docker.inspectImage(parent)?["Config"] ?? .null
        var labels = parentConfig["Labels"]?.mapValue ?? [:]
        labels[ImageLabel.layer] = .string(try await key())
        labels[ImageLabel.sls] = .string(names?.joined(separator: ",") ?? "highstate")
        var config: OrderedDictionary<String, Value> = ["Labels": .map(labels)]
        for field in ["Cmd", "Entrypoint", "User", "WorkingDir"] { if let v = parentConfig[field], !v.isNull { config[field] = v } }
        let image = try await docker.commit(container: container, config: .map(config), comment: "brine: \(names?.joined(separator: ",") ?? "highstate")")
        await remove(container)
        return image
    }

    func remove(_ container: String) async {
        try? await docker.removeContainer(container, force: true)
        leftovers.containers.withLock { _ = $0.remove(container) }
    }

    struct ContainerRun {
        var container: String
        var exitCode: Int
        /// The build channel's last event: the plan or the step's result.
        var last: BuildStep.Event?
        /// What was on standard output and was not an event (shown when the step failed without a result).
        var stdout: String
        var stderr: String
    }

    /// Creates and starts a container running `brine ARGUMENTS`, follows its
    /// output to the end and waits for it. The build channel (`BuildStep`:
    /// JSON lines on standard output) gives each state to `onProgress` and
    /// the last event to the run; standard error is kept as text, and
    /// shown as warnings while a step runs.
    func runContainer(image: String, arguments: [String], workDir: String, name: String?, volumes: [String] = [],
                      onProgress: (@Sendable (_ tag: String, _ result: Value) -> Void)?) async throws -> ContainerRun
    {
        var spec = ContainerSpec(image: image)
        spec.name = name
        // The history's "created by" is the command: only brine's arguments.
        spec.entrypoint = runtime.command([])
        spec.command = arguments
        spec.binds = runtime.binds + binds(workDir: workDir) + volumes
        spec.tmpfs = ["/run": "mode=755"]
        spec.networkMode = "host"
        if let user = baseUser, !user.isEmpty, user != "root", user != "0" { spec.user = "0" }
        let id = try await docker.createContainer(spec)
        leftovers.containers.withLock { _ = $0.insert(id) }
        let channel = Mutex((lines: LineSplitter(), last: BuildStep.Event?.none, other: [String]()))
        let stderr = Mutex((lines: LineSplitter(), kept: [String]()))
        @Sendable func read(_ line: String) {
            switch BuildStep.Event(line: line) {
            case .state(let tag, let result)?: onProgress?(tag, result)
            case let last?: channel.withLock { $0.last = last }
            case nil: channel.withLock { $0.other.append(line) }
            }
        }
        do {
            try await docker.startContainer(id)
            try await docker.logs(id, follow: true) { stream, bytes in
                if stream == .stderr {
                    let lines = stderr.withLock { state in
                        let lines = state.lines.feed(bytes)
                        state.kept += lines
                        return lines
                    }
                    if onProgress != nil { for line in lines { progress.warning(line) } }
                } else {
                    for line in channel.withLock({ $0.lines.feed(bytes) }) { read(line) }
                }
            }
            if let tail = channel.withLock({ $0.lines.finish() }) { read(tail) }
            let code = try await docker.waitContainer(id)
            let (last, other) = channel.withLock { ($0.last, $0.other) }
            return ContainerRun(container: id, exitCode: code, last: last, stdout: other.joined(separator: "\n"),
                                stderr: stderr.withLock { ($0.kept + [$0.lines.finish()].compactMap { $0 }).joined(separator: "\n") })
        } catch {
            await remove(id)
            throw error
        }
    }

    // MARK: The container's view of the build

    static func rootsPath(_ key: String, env: String, index: Int) -> String {
        "\(RuntimeBundle.root)/srv/\(key)/\(env)/\(index)"
    }

    func binds(workDir: String) -> [String] {
        var binds = ["\(workDir)/etc:\(Self.etc):ro"]
        for (key, roots) in [("file_roots", file.fileRoots), ("pillar_roots", file.pillarRoots)] {
            for (env, dirs) in roots {
                for (i, dir) in dirs.enumerated() { binds.append("\(dir):\(Self.rootsPath(key, env: env, index: i)):ro") }
            }
        }
        return binds
    }

    func writeMinionConfig(in workDir: String) throws {
        var config: OrderedDictionary<String, Value> = [
            "id": .string(file.id), "file_client": "local", "root_dir": .string(RuntimeBundle.root + "/root"),
            "log_level": "warning",
        ]
        for (key, roots) in [("file_roots", file.fileRoots), ("pillar_roots", file.pillarRoots)] {
            var table = OrderedDictionary<String, Value>()
            for (env, dirs) in roots { table[env] = .list(dirs.indices.map { .string(Self.rootsPath(key, env: env, index: $0)) }) }
            config[key] = .map(table)
        }
        if !(file.grains.mapValue?.isEmpty ?? true) { config["grains"] = file.grains }
        try FileManager.default.createDirectory(atPath: workDir + "/etc", withIntermediateDirectories: true)
        try AtomicFile.write(YAML.encode(.map(config)), to: workDir + "/etc/minion", mode: 0o644)
        try AtomicFile.write(JSON.encode(file.pillar, indent: nil), to: workDir + "/etc/" + BuildStep.pillarFile, mode: 0o600)
        if file.aptCache { try AtomicFile.write("", to: workDir + "/etc/" + BuildStep.aptCacheFile, mode: 0o644) }
    }

    /// The Docker volume keeping apt's lists and downloaded .debs between builds.
    static let aptCacheVolume = "brine-apt-cache"

    func makeWorkDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/brine-build-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw BrineError(.io, "cannot create a temporary directory: \(systemError(errno))") }
        chmod(made, 0o755)
        return String(cString: made)
    }

    // MARK: The image's configuration

    /// Applies the final configuration, reusing the image that already has
    /// it (same layers, same configuration) so a no-change rebuild gives the
    /// same image id and leaves nothing behind.
    func configure(_ parent: String, base: Value) async throws -> String {
        let unlabelled = try finalDockerfile(from: parent, base: base, configKey: nil)
        let key = try Hashing.hexDigest(Array(unlabelled.utf8))
        if let existing = try await docker.listImages(label: "\(ImageLabel.config)=\(key)").compactMap({ $0["Id"]?.stringValue }).first {
            try await docker.tagImage(existing, as: file.image)
            return existing
        }
        return try await docker.buildConfiguration(dockerfile: try finalDockerfile(from: parent, base: base, configKey: key), tag: file.image)
    }

    /// A Dockerfile of configuration only: the image's command, user, … from
    /// the build file, else the base image's (so nothing of the build
    /// containers' configuration survives), and Brine's labels. The labels
    /// come first: the builder's intermediate images then no longer carry
    /// the layer's cache label, so only committed layers answer a cache lookup.
    func finalDockerfile(from parent: String, base: Value, configKey: String?) throws -> String {
        let baseConfig = base["Config"] ?? .null
        let words = Self.execForm
        let config = file.config
        var labels: [(String, String)] = [(ImageLabel.layer, ""), (ImageLabel.sls, file.sls?.joined(separator: ",") ?? "highstate"),
                                          (ImageLabel.tree, try treeDigest()), (ImageLabel.version, Brine.version),
                                          (ImageLabel.base, file.from)]
        labels += config.labels
        if let configKey { labels.append((ImageLabel.config, configKey)) }
        var lines = ["FROM \(parent.replacingOccurrences(of: "sha256:", with: ""))"]
        lines.append("LABEL " + labels.map { "\(JSON.quote($0.0))=\(JSON.quote($0.1))" }.joined(separator: " "))
        lines.append("ENTRYPOINT " + (config.entrypoint.map { words(.list($0.map(Value.string))) } ?? words(baseConfig["Entrypoint"])))
        lines.append("CMD " + (config.cmd.map { words(.list($0.map(Value.string))) } ?? words(baseConfig["Cmd"])))
        lines.append("USER " + (config.user ?? nonEmpty(baseConfig["User"]?.stringValue) ?? "root"))
        lines.append("WORKDIR " + (config.workdir ?? nonEmpty(baseConfig["WorkingDir"]?.stringValue) ?? "/"))
        if !config.env.isEmpty { lines.append("ENV " + config.env.map { "\($0.0)=\(JSON.quote($0.1))" }.joined(separator: " ")) }
        if !config.expose.isEmpty { lines.append("EXPOSE " + config.expose.joined(separator: " ")) }
        if !config.volumes.isEmpty { lines.append("VOLUME " + words(.list(config.volumes.map(Value.string)))) }
        return lines.joined(separator: "\n") + "\n"
    }

    func nonEmpty(_ s: String?) -> String? { s?.isEmpty == false ? s : nil }

    /// A command as a Dockerfile's exec form (`["nginx", "-g", "daemon off;"]`; `[]` for none).
    static func execForm(_ value: Value?) -> String {
        JSON.encode(.list((value?.listValue ?? []).map { .string($0.pythonString) }), indent: nil)
    }

    /// The digest of every file of the build's file and pillar roots.
    func treeDigest() throws -> String {
        var entries: [String] = []
        for (key, roots) in [("file_roots", file.fileRoots), ("pillar_roots", file.pillarRoots)] {
            for (env, dirs) in roots {
                for dir in dirs {
                    let files = (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).sorted()
                    for relative in files where FileOps.isFile(dir + "/" + relative) {
                        entries.append("\(key)\t\(env)\t\(relative)\t\(try Hashing.fileDigest(dir + "/" + relative))")
                    }
                }
            }
        }
        return try Hashing.hexDigest(Array(entries.joined(separator: "\n").utf8))
    }

    static func short(_ id: String) -> String {
        String(id.replacingOccurrences(of: "sha256:", with: "").prefix(12))
    }
}

/// What an interrupted build must not leave behind.
public final class Leftovers: Sendable {
    public let containers = Mutex<Set<String>>([])
    public let directory = Mutex<String?>(nil)
    let interrupted = Mutex(false)
    let cleaned = DispatchSemaphore(value: 0)

    public init() {}

    public var isInterrupted: Bool { interrupted.withLock { $0 } }

    /// For the build's own task, which fails once its container is gone:
    /// waits until the interrupted build is cleaned up.
    public func waitUntilCleaned(seconds: Double = 15) {
        _ = cleaned.wait(timeout: .now() + seconds)
        cleaned.signal()
    }

    /// Removes them, waiting at most `seconds` (called from a signal handler,
    /// while the build's own task is suspended).
    public func clean(_ docker: DockerClient, seconds: Double = 10) {
        interrupted.withLock { $0 = true }
        defer { cleaned.signal() }
        let ids = containers.withLock { $0 }
        if let dir = directory.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: dir) }
        let done = DispatchSemaphore(value: 0)
        Task {
            for id in ids { try? await docker.removeContainer(id, force: true) }
            done.signal()
        }
        _ = done.wait(timeout: .now() + seconds)
    }
}
