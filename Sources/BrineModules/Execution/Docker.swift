import BrineCore
import Foundation
import OrderedCollections

/// Salt's `docker` execution module (saltext-dockermod, which Salt 3008
/// moved out of its core) on the local engine's API (`DockerEngine`):
/// containers, images, networks, volumes. Return shapes are Salt's; an
/// engine error is Salt's `Error <status>: <message>`.
public enum DockerModule: ExecutionModule {
    public static let name = "docker"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("ps", doc: "Containers keyed by id (running only unless all=True); verbose adds Info (inspect).",
                          [Parameter("filters", default: .null), Parameter("all", default: false), Parameter("verbose", default: false)]) { a, ctx in
            .map(try ps(ctx, all: a.bool("all"), verbose: a.bool("verbose")))
        },
        ExecutionFunction("list_containers", doc: "Container names, sorted (running only unless all=True).", [Parameter("all", default: false)]) { a, ctx in
            .list(try containerNames(ctx, all: a.bool("all")).map(Value.string))
        },
        ExecutionFunction("state", doc: "running, paused or stopped.", [Parameter("name")]) { a, ctx in
            .string(try state(a.string("name") ?? "", ctx))
        },
        ExecutionFunction("exists", doc: "Whether container NAME exists.", [Parameter("name")]) { a, ctx in
            .bool(try DockerEngine(ctx).inspect("containers", a.string("name") ?? "") != nil)
        },
        ExecutionFunction("inspect_container", doc: "The engine's inspect of container NAME.", [Parameter("name")]) { a, ctx in
            try required(DockerEngine(ctx), "containers", a.string("name") ?? "", what: "container")
        },
        ExecutionFunction("inspect_image", doc: "The engine's inspect of image NAME, with Size_Human.", [Parameter("name")]) { a, ctx in
            try inspectImage(a.string("name") ?? "", ctx)
        },
        ExecutionFunction("inspect_network", doc: "The engine's inspect of network NAME.", [Parameter("network_id")]) { a, ctx in
            try required(DockerEngine(ctx), "networks", a.string("network_id") ?? "", what: "network")
        },
        ExecutionFunction("inspect_volume", doc: "The engine's inspect of volume NAME.", [Parameter("name")]) { a, ctx in
            try required(DockerEngine(ctx), "volumes", a.string("name") ?? "", what: "volume")
        },
        ExecutionFunction("resolve_image_id", doc: "Image NAME's id, False when absent.", [Parameter("name")]) { a, ctx in
            try DockerEngine(ctx).inspect("images", reference(a.string("name") ?? ""))?["Id"] ?? false
        },
        ExecutionFunction("resolve_tag", doc: "Image NAME's first tag (its id when untagged), False when absent.", [Parameter("name")]) { a, ctx in
            try resolveTag(a.string("name") ?? "", ctx).map(Value.string) ?? false
        },
        ExecutionFunction("images", doc: "Tagged images keyed by id (all=True: untagged too); verbose adds Info.",
                          [Parameter("verbose", default: false), Parameter("all", default: false)]) { a, ctx in
            .map(try images(ctx, all: a.bool("all"), verbose: a.bool("verbose")))
        },
        ExecutionFunction("list_tags", doc: "Every image tag, sorted.") { _, ctx in
            .list(try tags(ctx).map(Value.string))
        },
        ExecutionFunction("start", doc: "Start container NAME: {result, state: {old, new}}.", [Parameter("name")]) { a, ctx in
            try start(a.string("name") ?? "", ctx)
        },
        ExecutionFunction("stop", doc: "Stop container NAME (timeout seconds): {result, state: {old, new}}.",
                          [Parameter("name"), Parameter("timeout", default: .null), Parameter("unpause", default: false)]) { a, ctx in
            try stop(a.string("name") ?? "", timeout: a.int("timeout"), ctx)
        },
        ExecutionFunction("rm", doc: "Remove container NAME (force, volumes, stop first); the removed ids.",
                          [Parameter("name"), Parameter("force", default: false), Parameter("volumes", default: false),
                           Parameter("stop", default: false), Parameter("timeout", default: .null)]) { a, ctx in
            .list(try remove(a.string("name") ?? "", force: a.bool("force"), volumes: a.bool("volumes"), stopFirst: a.bool("stop"),
                             timeout: a.int("timeout"), ctx).map(Value.string))
        },
        ExecutionFunction("rename", doc: "Rename container NAME to NEW_NAME.", [Parameter("name"), Parameter("new_name")]) { a, ctx in
            let engine = try DockerEngine(ctx)
            _ = try engine.checked("POST", "/containers/\(DockerEngine.escape(a.string("name") ?? ""))/rename", query: [("name", a.string("new_name") ?? "")])
            return true
        },
        ExecutionFunction("logs", doc: "Container NAME's output (stdout and stderr).",
                          [Parameter("name"), Parameter("stdout", default: true), Parameter("stderr", default: true),
                           Parameter("timestamps", default: false), Parameter("tail", default: "all")]) { a, ctx in
            .string(try logs(a.string("name") ?? "", stdout: a.bool("stdout"), stderr: a.bool("stderr"), timestamps: a.bool("timestamps"),
                             tail: a["tail"].pythonString, ctx))
        },
        ExecutionFunction("signal", doc: "Send SIGNAL to container NAME.", [Parameter("name"), Parameter("signal")]) { a, ctx in
            _ = try DockerEngine(ctx).checked("POST", "/containers/\(DockerEngine.escape(a.string("name") ?? ""))/kill",
                                              query: [("signal", a.string("signal") ?? "SIGKILL")])
            return true
        },
        execFunction("run", doc: "Run CMD in running container NAME through /bin/sh: its output (stdout and stderr, as written).") { _, all in .string(all) },
        execFunction("run_all", doc: "Run CMD in running container NAME: {pid, retcode, stdout, stderr}.") { result, _ in result },
        execFunction("run_stdout", doc: "Run CMD in running container NAME: its stdout.") { result, _ in result["stdout"] ?? "" },
        execFunction("run_stderr", doc: "Run CMD in running container NAME: its stderr.") { result, _ in result["stderr"] ?? "" },
        execFunction("retcode", doc: "Run CMD in running container NAME: its exit code.") { result, _ in result["retcode"] ?? 0 },
        ExecutionFunction("pull", doc: "Pull IMAGE from its registry: Layers, Status; an unreachable registry is an error.",
                          [Parameter("image"), Parameter("insecure_registry", default: false), Parameter("api_response", default: false),
                           Parameter("client_timeout", default: 60)]) { a, ctx in
            try pull(a.string("image") ?? "", ctx)
        },
        ExecutionFunction("history", doc: "Image NAME's layers, oldest first (quiet: the commands only).",
                          [Parameter("name"), Parameter("quiet", default: false)]) { a, ctx in
            try history(a.string("name") ?? "", quiet: a.bool("quiet"), ctx)
        },
        ExecutionFunction("commit", doc: "Commit container NAME as REPOSITORY:TAG: {Time_Elapsed, Id}.",
                          [Parameter("name"), Parameter("repository"), Parameter("tag", default: "latest"),
                           Parameter("message", default: .null), Parameter("author", default: .null)]) { a, ctx in
            try commit(a, ctx)
        },
        ExecutionFunction("tag", doc: "Tag image NAME as REPOSITORY:TAG.", [Parameter("name"), Parameter("repository"), Parameter("tag", default: "latest"),
                                                                            Parameter("force", default: false)]) { a, ctx in
            try tag(a.string("name") ?? "", repository: a.string("repository") ?? "", tag: a["tag"].pythonString, ctx)
            return true
        },
        ExecutionFunction("load", doc: "Load images from a tar file (salt:// or a path), tagging it REPOSITORY:TAG.",
                          [Parameter("path"), Parameter("repository", default: .null), Parameter("tag", default: .null)]) { a, ctx in
            try load(a, ctx)
        },
        ExecutionFunction("create", doc: "Create a container from IMAGE (name, command, environment, binds, …): {Id, Warnings, Time_Elapsed, Name}.",
                          [Parameter("image"), Parameter("name", default: .null), Parameter("start", default: false)], kwargs: true) { a, ctx in
            try create(a, ctx)
        },
        ExecutionFunction("run_container", doc: "Create, start and (unless bg) wait for a container from IMAGE: Id, Logs, ExitCode.",
                          [Parameter("image"), Parameter("name", default: .null), Parameter("bg", default: false),
                           Parameter("replace", default: false), Parameter("force", default: false)], kwargs: true) { a, ctx in
            try runContainer(a, ctx)
        },
        ExecutionFunction("sls_build", doc: "Build image REPOSITORY:TAG from BASE by applying MODS with Brine's image builder (`brine build`).",
                          [Parameter("repository"), Parameter("tag", default: "latest"), Parameter("base", default: "opensuse/python"),
                           Parameter("mods", default: .null), Parameter("saltenv", default: "base"), Parameter("pillar", default: .null),
                           Parameter("pillarenv", default: .null)]) { a, ctx in
            try DockerImageBuild.slsBuild(a, ctx)
        },
        ExecutionFunction("networks", doc: "The engine's networks (names or ids to filter).", [Parameter("names", default: .null), Parameter("ids", default: .null)]) { a, ctx in
            try networks(a, ctx)
        },
        ExecutionFunction("create_network", doc: "Create network NAME (driver, subnet, gateway, internal, labels, options).",
                          [Parameter("name")] + [Parameter].optional("driver", "subnet", "gateway", "iprange", "internal", "labels", "options")
                              + [Parameter("enable_ipv6", default: false), Parameter("attachable", default: false)]) { a, ctx in
            try createNetwork(a, ctx)
        },
        ExecutionFunction("remove_network", doc: "Remove network NETWORK_ID.", [Parameter("network_id")]) { a, ctx in
            _ = try DockerEngine(ctx).checked("DELETE", "/networks/\(DockerEngine.escape(a.string("network_id") ?? ""))")
            return true
        },
        ExecutionFunction("volumes", doc: "The engine's volumes: {Volumes, Warnings}.", [Parameter("filters", default: .null)]) { _, ctx in
            try DockerEngine(ctx).checked("GET", "/volumes").json
        },
        ExecutionFunction("create_volume", doc: "Create volume NAME (driver, driver_opts): the engine's volume.",
                          [Parameter("name"), Parameter("driver", default: .null), Parameter("driver_opts", default: .null)]) { a, ctx in
            try createVolume(a.string("name") ?? "", driver: a.string("driver"), options: a["driver_opts"], ctx)
        },
        ExecutionFunction("remove_volume", doc: "Remove volume NAME.", [Parameter("name")]) { a, ctx in
            _ = try DockerEngine(ctx).checked("DELETE", "/volumes/\(DockerEngine.escape(a.string("name") ?? ""))")
            return true
        },
        ExecutionFunction("version", doc: "The engine's version, with VersionInfo and ApiVersionInfo.") { _, ctx in
            var version = try DockerEngine(ctx).checked("GET", "/version").json.mapValue ?? [:]
            for (key, source) in [("VersionInfo", "Version"), ("ApiVersionInfo", "ApiVersion")] {
                let parts = (version[source]?.stringValue ?? "").split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
                version[key] = .list(parts.map(Value.int))
            }
            return .map(version)
        },
        ExecutionFunction("info", doc: "The engine's info.") { _, ctx in
            try DockerEngine(ctx).checked("GET", "/info").json
        },
    ]

    /// `docker.run` and friends: a command in a running container (the
    /// engine's exec, as Salt's `docker-exec` driver), `python_shell` as in
    /// Salt (True: through /bin/sh).
    static func execFunction(_ name: String, doc: String, _ shape: @escaping @Sendable (Value, String) -> Value) -> ExecutionFunction {
        ExecutionFunction(name, doc: doc, [Parameter("name"), Parameter("cmd"), Parameter("stdin", default: .null),
                                           Parameter("python_shell", default: true), Parameter("ignore_retcode", default: false)]) { a, ctx in
            guard a["stdin"].isNull else { throw BrineError(.arguments, "docker.\(name): stdin is not supported by Brine") }
            let command = a.string("cmd") ?? ""
            let argv = a["python_shell"].asFlag ? ["/bin/sh", "-c", command] : try Shlex.split(command)
            let (result, all) = try exec(a.string("name") ?? "", argv, ctx)
            return shape(result, all)
        }
    }

    static func exec(_ name: String, _ argv: [String], _ ctx: ExecutionContext) throws -> (Value, String) {
        let engine = try DockerEngine(ctx)
        guard try state(name, ctx) == "running" else { throw BrineError(.execution, "Container '\(name)' is not running") }
        let created = try DockerModule.engine {
            try engine.checked("POST", "/containers/\(DockerEngine.escape(name))/exec",
                               json: ["Cmd": .list(argv.map(Value.string)), "AttachStdout": true, "AttachStderr": true])
        }
        let id = DockerEngine.escape(created.json["Id"]?.stringValue ?? "")
        let output = try DockerModule.engine {
            try engine.checked("POST", "/exec/\(id)/start", json: ["Detach": false, "Tty": false], timeout: .infinity)
        }
        let (stdout, stderr) = DockerEngine.demultiplexed(output.bytes)
        // the exit code can lag the end of the output a moment
        var inspect = Value.null
        for attempt in 0..<50 {
            inspect = try DockerModule.engine { try engine.checked("GET", "/exec/\(id)/json") }.json
            if inspect["Running"] != true { break }
            if attempt < 49 { usleep(20_000) }
        }
        func trimmed(_ s: String) -> String { s.hasSuffix("\n") ? String(s.dropLast()) : s }
        let result: Value = ["pid": inspect["Pid"] ?? 0, "retcode": inspect["ExitCode"] ?? 0, "stdout": .string(trimmed(stdout)), "stderr": .string(trimmed(stderr))]
        return (result, trimmed(DockerEngine.demultiplex(output.bytes)))
    }

    // MARK: errors and names

    /// Salt's wording of an engine error.
    static func error(_ failure: DockerEngine.Failure) -> BrineError {
        BrineError(.execution, "Error \(failure.status): \(failure.message)")
    }

    /// Runs an engine call, turning its error answer into Salt's.
    static func engine<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let failure as DockerEngine.Failure { throw error(failure) }
    }

    static func required(_ engine: DockerEngine, _ kind: String, _ name: String, what: String) throws -> Value {
        guard let value = try engine.inspect(kind, kind == "images" ? reference(name) : name) else {
            throw BrineError(.execution, "Error 404: No such \(what): \(name)")
        }
        return value
    }

    /// An image reference as docker-py completes it: `:latest` when neither
    /// a tag nor a digest is given.
    static func reference(_ name: String) -> String {
        if name.hasPrefix("sha256:") || name.contains("@") { return name }
        let last = name.split(separator: "/").last.map(String.init) ?? name
        return last.contains(":") ? name : name + ":latest"
    }

    /// The tag an image name stands for: the name itself when it is one of
    /// the image's tags (Salt answers the first tag, so removing `b:1` of an
    /// image also tagged `a:1` removed `a:1`), else the first tag, else the id.
    static func resolveTag(_ name: String, _ ctx: ExecutionContext) throws -> String? {
        guard let image = try DockerEngine(ctx).inspect("images", reference(name)) else { return nil }
        let tags = (image["RepoTags"]?.listValue ?? []).compactMap(\.stringValue)
        if tags.contains(reference(name)) { return reference(name) }
        return tags.first ?? image["Id"]?.stringValue
    }

    static func humanSize(_ bytes: Int) -> String {
        guard bytes >= 1024 else { return "\(bytes) bytes" }
        var value = Double(bytes)
        for unit in ["KiB", "MiB", "GiB", "TiB", "PiB"] {
            value /= 1024
            if value < 1024 || unit == "PiB" { return String(format: "%3.1f %@", value, unit) }
        }
        return "\(bytes) bytes"
    }

    static func localTime(_ epoch: Int) -> String {
        LocalTime.format("%Y-%m-%d %H:%M:%S %Z", time_t(epoch))
    }

    // MARK: containers

    static func ps(_ ctx: ExecutionContext, all: Bool, verbose: Bool) throws -> OrderedDictionary<String, Value> {
        let engine = try DockerEngine(ctx)
        let listed = try DockerModule.engine { try engine.checked("GET", "/containers/json", query: [("all", "1")]).json.listValue ?? [] }
        var result = OrderedDictionary<String, Value>()
        for container in listed {
            guard let id = container["Id"]?.stringValue else { continue }
            let running = (container["Status"]?.stringValue ?? "").lowercased().hasPrefix("up ")
            guard all || running else { continue }
            var entry = OrderedDictionary<String, Value>()
            for (key, value) in container.mapValue ?? [:] where key != "Id" {
                entry[key == "Created" ? "Time_Created_Epoch" : key] = value
            }
            entry["Time_Created_Local"] = .string(localTime(container["Created"]?.intValue ?? 0))
            if verbose { entry["Info"] = try engine.inspect("containers", id) ?? .null }
            result[id] = .map(entry)
        }
        return result
    }

    static func containerNames(_ ctx: ExecutionContext, all: Bool) throws -> [String] {
        try ps(ctx, all: all, verbose: false).values.compactMap { $0["Names"]?.listValue?.first?.stringValue.map { String($0.drop { $0 == "/" }) } }.sorted()
    }

    static func state(_ name: String, _ ctx: ExecutionContext) throws -> String {
        let inspect = try required(DockerEngine(ctx), "containers", name, what: "container")
        if inspect["State"]?["Paused"] == true { return "paused" }
        return inspect["State"]?["Running"] == true ? "running" : "stopped"
    }

    static func start(_ name: String, _ ctx: ExecutionContext) throws -> Value {
        let before = try state(name, ctx)
        switch before {
        case "running": return ["result": false, "state": ["old": "running", "new": "running"], "comment": .string("Container '\(name)' already running")]
        case "paused": return ["result": false, "state": ["old": "paused", "new": "paused"], "comment": .string("Container '\(name)' is paused, cannot start")]
        default: break
        }
        let engine = try DockerEngine(ctx)
        _ = try DockerModule.engine { try engine.checked("POST", "/containers/\(DockerEngine.escape(name))/start") }
        let after = try state(name, ctx)
        return ["result": .bool(after == "running"), "state": ["old": .string(before), "new": .string(after)]]
    }

    static func stop(_ name: String, timeout: Int?, _ ctx: ExecutionContext) throws -> Value {
        let engine = try DockerEngine(ctx)
        let inspect = try required(engine, "containers", name, what: "container")
        let before = try state(name, ctx)
        if before == "stopped" {
            return ["result": false, "state": ["old": "stopped", "new": "stopped"], "comment": .string("Container '\(name)' already stopped")]
        }
        if before == "paused" {
            return ["result": false, "state": ["old": "paused", "new": "paused"],
                    "comment": .string("Container '\(name)' is paused, run with unpause=True to unpause before stopping")]
        }
        let seconds = timeout ?? inspect["Config"]?["StopTimeout"]?.intValue ?? 10
        // the engine answers once the container stopped: up to `seconds`, then a kill
        _ = try DockerModule.engine {
            try engine.checked("POST", "/containers/\(DockerEngine.escape(name))/stop", query: [("t", String(seconds))], timeout: Double(max(seconds, 0)) + 60)
        }
        let after = try state(name, ctx)
        return ["result": .bool(after == "stopped"), "state": ["old": .string(before), "new": .string(after)]]
    }

    static func remove(_ name: String, force: Bool, volumes: Bool, stopFirst: Bool, timeout: Int?, _ ctx: ExecutionContext) throws -> [String] {
        let engine = try DockerEngine(ctx)
        let before = Set(try ps(ctx, all: true, verbose: false).keys)
        if try state(name, ctx) != "stopped" {
            if stopFirst && !force {
                _ = try stop(name, timeout: timeout, ctx)
            } else if !force {
                throw BrineError(.execution, "Container '\(name)' is running, use force=True to forcibly remove this container")
            }
        }
        _ = try DockerModule.engine {
            try engine.checked("DELETE", "/containers/\(DockerEngine.escape(name))", query: [("force", force ? "1" : "0"), ("v", volumes ? "1" : "0")])
        }
        let after = Set(try ps(ctx, all: true, verbose: false).keys)
        return before.subtracting(after).sorted()
    }

    static func logs(_ name: String, stdout: Bool, stderr: Bool, timestamps: Bool, tail: String, _ ctx: ExecutionContext) throws -> String {
        let engine = try DockerEngine(ctx)
        let answer = try DockerModule.engine {
            try engine.checked("GET", "/containers/\(DockerEngine.escape(name))/logs",
                               query: [("stdout", stdout ? "1" : "0"), ("stderr", stderr ? "1" : "0"),
                                       ("timestamps", timestamps ? "1" : "0"), ("tail", tail)])
        }
        return DockerEngine.demultiplex(answer.bytes)
    }

    // MARK: images

    static func inspectImage(_ name: String, _ ctx: ExecutionContext) throws -> Value {
        var image = try required(DockerEngine(ctx), "images", name, what: "image").mapValue ?? [:]
        if let size = image["Size"]?.intValue { image["Size_Human"] = .string(humanSize(size)) }
        if let size = image["VirtualSize"]?.intValue { image["VirtualSize_Human"] = .string(humanSize(size)) }
        return .map(image)
    }

    static func images(_ ctx: ExecutionContext, all: Bool, verbose: Bool) throws -> OrderedDictionary<String, Value> {
        let engine = try DockerEngine(ctx)
        let listed = try DockerModule.engine { try engine.checked("GET", "/images/json", query: [("all", all ? "1" : "0")]).json.listValue ?? [] }
        var result = OrderedDictionary<String, Value>()
        for image in listed {
            guard let id = image["Id"]?.stringValue else { continue }
            let tags = image["RepoTags"]
            if !all, tags == .null || tags == ["<none>:<none>"] { continue }
            var entry = OrderedDictionary<String, Value>()
            for (key, value) in image.mapValue ?? [:] where key != "Id" {
                entry[key == "Created" ? "Time_Created_Epoch" : key] = value
            }
            entry["Time_Created_Local"] = .string(localTime(image["Created"]?.intValue ?? 0))
            if let size = image["Size"]?.intValue { entry["Size_Human"] = .string(humanSize(size)) }
            if let size = image["VirtualSize"]?.intValue { entry["VirtualSize_Human"] = .string(humanSize(size)) }
            if verbose { entry["Info"] = try engine.inspect("images", id) ?? .null }
            result[id] = .map(entry)
        }
        return result
    }

    static func tags(_ ctx: ExecutionContext) throws -> [String] {
        try images(ctx, all: true, verbose: false).values.flatMap { ($0["RepoTags"]?.listValue ?? []).compactMap(\.stringValue) }
            .filter { $0 != "<none>:<none>" }.sorted()
    }

    static func pull(_ image: String, _ ctx: ExecutionContext) throws -> Value {
        let engine = try DockerEngine(ctx)
        let ref = reference(image)
        let colon = ref.lastIndex(of: ":").map { ref.distance(from: ref.startIndex, to: $0) } ?? ref.count
        let repository = String(ref.prefix(colon)), tag = String(ref.dropFirst(colon + 1))
        let started = Date()
        let answer = try engine.call("POST", "/images/create", query: [("fromImage", repository), ("tag", tag)], timeout: 600)
        guard answer.status == 200 else { throw error(DockerEngine.Failure(status: answer.status, message: answer.message)) }
        var pulled: [Value] = [], already: [Value] = [], errors: [Value] = []
        var status: String?
        for line in answer.text.split(separator: "\n") {
            let event = (try? JSON.decode(String(line), file: "pull")) ?? .null
            if let message = event["errorDetail"]?["message"]?.stringValue { errors.append(.string(message)) }
            switch event["status"]?.stringValue {
            case "Pull complete": pulled.append(event["id"] ?? .null)
            case "Already exists": already.append(event["id"] ?? .null)
            case let text? where text.hasPrefix("Status: "): status = String(text.dropFirst("Status: ".count))
            default: break
            }
        }
        var result: OrderedDictionary<String, Value> = ["Time_Elapsed": .float(Date().timeIntervalSince(started)),
                                                        "retcode": .int(errors.isEmpty ? 0 : 1),
                                                        "Layers": ["Pulled": .list(pulled), "Already_Pulled": .list(already)]]
        if let status { result["Status"] = .string(status) }
        if !errors.isEmpty { result["Errors"] = .list(errors) }
        return .map(result)
    }

    static func history(_ name: String, quiet: Bool, _ ctx: ExecutionContext) throws -> Value {
        let engine = try DockerEngine(ctx)
        let steps = try DockerModule.engine { try engine.checked("GET", "/images/\(DockerEngine.escape(reference(name)))/history").json.listValue ?? [] }
        var out: [Value] = []
        for step in steps.reversed() {
            var entry = OrderedDictionary<String, Value>()
            for (key, value) in step.mapValue ?? [:] {
                switch key {
                case "Created": entry["Time_Created_Epoch"] = value
                case "CreatedBy":
                    var command = value.stringValue ?? ""
                    if let match = command.firstMatch(of: #/^/bin/sh -c (?:#\(nop\) )?/#) { command.removeSubrange(match.range) }
                    entry["Command"] = .string(command.isEmpty ? "FROM scratch" : command)
                default: entry[key] = value
                }
            }
            entry["Time_Created_Local"] = .string(localTime(step["Created"]?.intValue ?? 0))
            entry["Size_Human"] = .string(humanSize(step["Size"]?.intValue ?? 0))
            out.append(quiet ? entry["Command"] ?? "" : .map(entry))
        }
        return .list(out)
    }

    static func commit(_ a: Arguments, _ ctx: ExecutionContext) throws -> Value {
        let engine = try DockerEngine(ctx)
        var query = [("container", a.string("name") ?? ""), ("repo", a.string("repository") ?? ""), ("tag", a["tag"].pythonString)]
        if let message = a.string("message") { query.append(("comment", message)) }
        if let author = a.string("author") { query.append(("author", author)) }
        let started = Date()
        let answer = try DockerModule.engine { try engine.checked("POST", "/commit", query: query, json: .emptyMap) }
        guard let id = answer.json["Id"] else { throw BrineError(.execution, "No image ID was returned in API response") }
        return ["Time_Elapsed": .float(Date().timeIntervalSince(started)), "Id": id]
    }

    static func tag(_ name: String, repository: String, tag: String, _ ctx: ExecutionContext) throws {
        let engine = try DockerEngine(ctx)
        let id = try required(engine, "images", name, what: "image")["Id"]?.stringValue ?? name
        _ = try DockerModule.engine { try engine.checked("POST", "/images/\(DockerEngine.escape(id))/tag", query: [("repo", repository), ("tag", tag)]) }
    }

    /// `docker load` through the API (POST /images/load with the tar).
    static func load(_ a: Arguments, _ ctx: ExecutionContext) throws -> Value {
        let source = a.string("path") ?? ""
        if (a.string("repository") == nil) != (a.string("tag") == nil) {
            throw BrineError(.arguments, "If tagging, both a repository and tag are required")
        }
        let path = source.hasPrefix("salt://") ? try ctx.call("cp.cache_file", [.string(source)]).pythonString : source
        guard !path.isEmpty, path != "False", FileManager.default.isReadableFile(atPath: path) else {
            throw BrineError(.execution, "Source file \(source) does not exist")
        }
        let engine = try DockerEngine(ctx)
        let before = Set(try images(ctx, all: true, verbose: false).keys)
        let started = Date()
        let tarball = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let answer = try engine.call("POST", "/images/load", query: [("quiet", "1")], body: tarball, contentType: "application/x-tar", timeout: 600)
        guard answer.status == 200, !answer.text.contains("\"errorDetail\"") else {
            throw BrineError(.execution, "Failed to load image(s) from \(source): \(answer.message)")
        }
        let loaded = Set(try images(ctx, all: true, verbose: false).keys).subtracting(before).sorted()
        var result: OrderedDictionary<String, Value> = ["Time_Elapsed": .float(Date().timeIntervalSince(started)), "Path": .string(source),
                                                        "Layers": .list(loaded.map { .string(String($0.prefix(12))) })]
        if let repository = a.string("repository"), let tagName = a.string("tag") {
            let top = answer.text.components(separatedBy: "Loaded image ID: ").dropFirst().first?.prefix { !$0.isWhitespace && $0 != "\"" && $0 != "\\" }
            let loadedName = answer.text.components(separatedBy: "Loaded image: ").dropFirst().first?.prefix { $0 != "\\" && $0 != "\"" && !$0.isNewline }
            if let image = top.map(String.init) ?? loadedName.map(String.init) {
                do {
                    try tag(image, repository: repository, tag: tagName, ctx)
                    result["Image"] = .string("\(repository):\(tagName)")
                } catch {
                    result["Warning"] = .string("Failed to tag \(image) as \(repository):\(tagName): \(error)")
                }
            } else {
                result["Warning"] = "No top-level image layers were loaded, no image was tagged"
            }
        }
        return .map(result)
    }

    // MARK: networks and volumes

    static func networks(_ a: Arguments, _ ctx: ExecutionContext) throws -> Value {
        let engine = try DockerEngine(ctx)
        let names = a["names"].isNull ? nil : Set(a.stringList("names") ?? [])
        let ids = a["ids"].isNull ? nil : Set(a.stringList("ids") ?? [])
        let listed = try DockerModule.engine { try engine.checked("GET", "/networks").json.listValue ?? [] }
        return .list(try listed.filter { net in
            (names == nil || names?.contains(net["Name"]?.stringValue ?? "") == true) && (ids == nil || ids?.contains(net["Id"]?.stringValue ?? "") == true)
        }.map { net in
            var entry = net.mapValue ?? [:]
            entry["Containers"] = try engine.inspect("networks", net["Id"]?.stringValue ?? "")?["Containers"] ?? .emptyMap
            return .map(entry)
        })
    }

    static func createNetwork(_ a: Arguments, _ ctx: ExecutionContext) throws -> Value {
        var body: OrderedDictionary<String, Value> = ["Name": .string(a.string("name") ?? ""), "CheckDuplicate": true]
        if let driver = a.string("driver") { body["Driver"] = .string(driver) }
        if a.bool("internal") { body["Internal"] = true }
        if a.bool("enable_ipv6") { body["EnableIPv6"] = true }
        if a.bool("attachable") { body["Attachable"] = true }
        if case .map(let labels) = a["labels"] { body["Labels"] = .map(labels.mapValues { .string($0.pythonString) }) }
        if case .map(let options) = a["options"] { body["Options"] = .map(options.mapValues { .string($0.pythonString) }) }
        var pool = OrderedDictionary<String, Value>()
        if let subnet = a.string("subnet") { pool["Subnet"] = .string(subnet) }
        if let range = a.string("iprange") { pool["IPRange"] = .string(range) }
        if let gateway = a.string("gateway") { pool["Gateway"] = .string(gateway) }
        if !pool.isEmpty { body["IPAM"] = ["Driver": "default", "Config": [.map(pool)]] }
        let engine = try DockerEngine(ctx)
        let answer = try DockerModule.engine { try engine.checked("POST", "/networks/create", json: .map(body)) }
        return ["Id": answer.json["Id"] ?? .null, "Warning": answer.json["Warning"] ?? ""]
    }

    static func createVolume(_ name: String, driver: String?, options: Value, _ ctx: ExecutionContext) throws -> Value {
        var body: OrderedDictionary<String, Value> = ["Name": .string(name)]
        if let driver { body["Driver"] = .string(driver) }
        var opts = OrderedDictionary<String, Value>()
        switch options {
        case .map(let m): for (k, v) in m { opts[k] = .string(v.pythonString) }
        case .list(let l): for case .map(let m) in l { for (k, v) in m { opts[k] = .string(v.pythonString) } }
        default: break
        }
        if !opts.isEmpty { body["DriverOpts"] = .map(opts) }
        let engine = try DockerEngine(ctx)
        return try DockerModule.engine { try engine.checked("POST", "/volumes/create", json: .map(body)).json }
    }
}
