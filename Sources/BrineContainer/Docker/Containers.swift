import BrineCore
import Foundation
import Synchronization
import NIOCore
import OrderedCollections

/// What to create a container with: the fields Brine uses of the engine's
/// container config and host config.
public struct ContainerSpec: Sendable {
    public var image: String
    public var name: String?
    public var entrypoint: [String]?
    public var command: [String]?
    public var env: [String] = []
    public var hostname: String?
    public var workingDir: String?
    public var user: String?
    public var labels: [String: String] = [:]
    /// `host:container[:ro]`, as `docker run -v`.
    public var binds: [String] = []
    /// `host`, `none` (never a bridge here).
    public var networkMode: String = "none"
    /// `name:address`, as `--add-host`.
    public var extraHosts: [String] = []
    /// Mount point → options, as `--tmpfs`.
    public var tmpfs: [String: String] = [:]

    public init(image: String) { self.image = image }

    var json: Value {
        var config: OrderedDictionary<String, Value> = ["Image": .string(image)]
        if let entrypoint { config["Entrypoint"] = .list(entrypoint.map(Value.string)) }
        if let command { config["Cmd"] = .list(command.map(Value.string)) }
        if !env.isEmpty { config["Env"] = .list(env.map(Value.string)) }
        if let hostname { config["Hostname"] = .string(hostname) }
        if let workingDir { config["WorkingDir"] = .string(workingDir) }
        if let user { config["User"] = .string(user) }
        config["Labels"] = .map(OrderedDictionary(uniqueKeysWithValues: labels.sorted { $0.key < $1.key }.map { ($0.key, Value.string($0.value)) }))
        config["AttachStdout"] = true
        config["AttachStderr"] = true
        var host: OrderedDictionary<String, Value> = ["NetworkMode": .string(networkMode)]
        host["Binds"] = .list(binds.map(Value.string))
        if !extraHosts.isEmpty { host["ExtraHosts"] = .list(extraHosts.map(Value.string)) }
        if !tmpfs.isEmpty {
            host["Tmpfs"] = .map(OrderedDictionary(uniqueKeysWithValues: tmpfs.sorted { $0.key < $1.key }.map { ($0.key, Value.string($0.value)) }))
        }
        config["HostConfig"] = .map(host)
        return .map(config)
    }
}

/// Container endpoints: create, start, wait, logs, stop, remove, inspect, exec.
extension DockerClient {
    public func createContainer(_ spec: ContainerSpec) async throws -> String {
        let action = "create a container from \(spec.image)"
        let query = spec.name.map { [("name", $0)] } ?? []
        let answer = try await send(DockerRequest(.POST, "/containers/create", query: query, body: .json(spec.json)), action: action)
            .json(action)
        guard let id = answer["Id"]?.stringValue else { throw DockerError(action: action, message: "no container id in \(answer)") }
        return id
    }

    public func startContainer(_ id: String) async throws {
        _ = try await send(DockerRequest(.POST, "/containers/\(Self.pathEscape(id))/start"), action: "start container \(id.prefix(12))",
                           expect: [204, 304])
    }

    /// Waits for the container to stop; returns its exit code.
    public func waitContainer(_ id: String) async throws -> Int {
        let action = "wait for container \(id.prefix(12))"
        let answer = try await send(DockerRequest(.POST, "/containers/\(Self.pathEscape(id))/wait"), action: action).json(action)
        if let message = answer["Error"]?["Message"]?.stringValue, !message.isEmpty {
            throw DockerError(action: action, message: message)
        }
        return answer["StatusCode"]?.intValue ?? -1
    }

    /// The container's output, demultiplexed; with `follow` until it stops.
    public func logs(_ id: String, follow: Bool,
                     onOutput: @escaping @Sendable (StreamDemuxer.Stream, [UInt8]) async throws -> Void) async throws
    {
        let demuxer = Mutex(StreamDemuxer())
        let query = [("stdout", "1"), ("stderr", "1"), ("follow", follow ? "1" : "0")]
        try await stream(DockerRequest(.GET, "/containers/\(Self.pathEscape(id))/logs", query: query),
                         action: "read the output of container \(id.prefix(12))") { buffer in
            let frames = demuxer.withLock { $0.feed(buffer.readableBytesView) }
            for (stream, bytes) in frames { try await onOutput(stream, bytes) }
        }
    }

    public func stopContainer(_ id: String, timeout: Int = 10) async throws {
        _ = try await send(DockerRequest(.POST, "/containers/\(Self.pathEscape(id))/stop", query: [("t", "\(timeout)")]),
                           action: "stop container \(id)", expect: [204, 304])
    }

    public func removeContainer(_ id: String, force: Bool = false) async throws {
        _ = try await send(DockerRequest(.DELETE, "/containers/\(Self.pathEscape(id))", query: [("force", force ? "1" : "0"), ("v", "1")]),
                           action: "remove container \(id)", expect: [204, 404])
    }

    /// The container's inspect document, or nil when there is none.
    public func inspectContainer(_ id: String) async throws -> Value? {
        let action = "inspect container \(id)"
        let response = try await send(DockerRequest(.GET, "/containers/\(Self.pathEscape(id))/json"), action: action, expect: [200, 404])
        if response.status == 404 { return Optional<Value>.none }
        return try response.json(action)
    }

    /// Containers, optionally only those carrying a label.
    public func listContainers(label: String? = nil) async throws -> [Value] {
        var query: [(String, String)] = [("all", "1")]
        if let label { query.append(("filters", JSON.encode(["label": [.string(label)]], indent: nil))) }
        let action = "list containers"
        return try await send(DockerRequest(.GET, "/containers/json", query: query), action: action).json(action).listValue ?? []
    }

    /// Runs a command in a running container, streaming its output; returns its exit code.
    public func exec(_ id: String, _ command: [String], user: String? = nil,
                     onOutput: @escaping @Sendable (StreamDemuxer.Stream, [UInt8]) async throws -> Void) async throws -> Int
    {
        let action = "exec \(command.first ?? "") in \(id.prefix(12))"
        var config: OrderedDictionary<String, Value> = ["AttachStdout": true, "AttachStderr": true, "Tty": false,
                                                        "Cmd": .list(command.map(Value.string))]
        if let user { config["User"] = .string(user) }
        let created = try await send(DockerRequest(.POST, "/containers/\(Self.pathEscape(id))/exec", body: .json(.map(config))), action: action)
            .json(action)
        guard let execID = created["Id"]?.stringValue else { throw DockerError(action: action, message: "no exec id") }
        let demuxer = Mutex(StreamDemuxer())
        try await stream(DockerRequest(.POST, "/exec/\(execID)/start", body: .json(["Detach": false, "Tty": false])), action: action) { buffer in
            let frames = demuxer.withLock { $0.feed(buffer.readableBytesView) }
            for (stream, bytes) in frames { try await onOutput(stream, bytes) }
        }
        let inspected = try await send(DockerRequest(.GET, "/exec/\(execID)/json"), action: action).json(action)
        return inspected["ExitCode"]?.intValue ?? -1
    }
}
