import BrineCore
import Foundation
import OrderedCollections

/// Containers from Salt's arguments: the translation Salt applies
/// (`salt.utils.dockermod.translate`: `env: [A=1]`, `binds: /h:/c:ro`,
/// `port_bindings: 8080:80`, `restart_policy: on-failure:5`…) into the
/// engine's create request, and Salt's comparison of two containers.
extension DockerModule {
    /// Salt's aliases: the short names users write.
    static let aliases = ["cmd": "command", "env": "environment", "label": "labels", "publish": "port_bindings", "restart": "restart_policy",
                          "volume": "volumes", "workdir": "working_dir", "expose": "ports"]

    /// The arguments a container is made of, as Salt translates them.
    struct ContainerConfig {
        var image: String
        var command: [String]?
        var entrypoint: [String]?
        var environment: [String]?
        var labels: OrderedDictionary<String, String>?
        var binds: [String]?
        var volumes: [String] = []
        var portBindings: OrderedDictionary<String, [Value]> = [:]
        var exposed: [String] = []
        var networkMode: String?
        var restartPolicy: Value?
        var user: String?
        var workingDir: String?
        var hostname: String?

        var body: Value {
            var config: OrderedDictionary<String, Value> = ["Image": .string(image)]
            if let command { config["Cmd"] = .list(command.map(Value.string)) }
            if let entrypoint { config["Entrypoint"] = .list(entrypoint.map(Value.string)) }
            if let environment { config["Env"] = .list(environment.map(Value.string)) }
            if let labels { config["Labels"] = .map(labels.mapValues(Value.string)) }
            if let user { config["User"] = .string(user) }
            if let workingDir { config["WorkingDir"] = .string(workingDir) }
            if let hostname { config["Hostname"] = .string(hostname) }
            let ports = Set(exposed).union(portBindings.keys).sorted()
            if !ports.isEmpty { config["ExposedPorts"] = .map(OrderedDictionary(uniqueKeysWithValues: ports.map { ($0, Value.emptyMap) })) }
            if !volumes.isEmpty { config["Volumes"] = .map(OrderedDictionary(uniqueKeysWithValues: volumes.map { ($0, Value.emptyMap) })) }
            var host = OrderedDictionary<String, Value>()
            if let binds { host["Binds"] = .list(binds.map(Value.string)) }
            if !portBindings.isEmpty { host["PortBindings"] = .map(portBindings.mapValues(Value.list)) }
            if let networkMode { host["NetworkMode"] = .string(networkMode) }
            if let restartPolicy { host["RestartPolicy"] = restartPolicy }
            config["HostConfig"] = .map(host)
            return .map(config)
        }
    }

    /// Salt's "Failed to translate input" error.
    struct TranslationError: Error, CustomStringConvertible {
        var invalid: OrderedDictionary<String, String> = [:]
        var collisions: [String] = []
        var description: String {
            var text = "Failed to translate input. Additional info follows:\n"
            if !collisions.isEmpty { text += "\ncollisions:\n" + collisions.map { "    - \($0)" }.joined(separator: "\n") }
            if !invalid.isEmpty {
                text += "\ninvalid:\n    ----------\n" + invalid.map { "    \($0.key):\n        \($0.value)" }.joined(separator: "\n")
            }
            return text
        }
    }

    /// Salt's `split`: comma-separated, each part trimmed.
    static func split(_ value: Value) -> [String] {
        switch value {
        case .list(let l): return l.map(\.pythonString)
        case .null: return []
        default: return value.pythonString.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// A list of one-key dicts as one dict (Salt's `repack_dictlist`).
    static func repacked(_ value: Value) -> Value {
        guard case .list(let l) = value, !l.isEmpty, l.allSatisfy({ ($0.mapValue?.count ?? 0) == 1 }) else { return value }
        var out = OrderedDictionary<String, Value>()
        for case .map(let m) in l { for (k, v) in m { out[k] = v } }
        return .map(out)
    }

    static func translate(image: String, _ arguments: OrderedDictionary<String, Value>) throws(TranslationError) -> ContainerConfig {
        var error = TranslationError()
        var args = OrderedDictionary<String, Value>()
        for (key, value) in arguments {
            let real = aliases[key] ?? key
            if real != key, arguments[real] != nil {
                error.collisions.append("'\(key)' is an alias for '\(real)', they cannot both be used")
                continue
            }
            args[real] = repacked(value)
        }
        var config = ContainerConfig(image: image)
        func absolute(_ key: String, _ path: String) -> Bool {
            guard path.hasPrefix("/") else { error.invalid[key] = "'\(path)' is not an absolute path"; return false }
            return true
        }
        for key in ["command", "entrypoint"] {
            guard let value = args[key], !value.isNull else { continue }
            let words: [String]
            if case .list(let l) = value { words = l.map(\.pythonString) } else { words = (try? Shlex.split(value.pythonString)) ?? [value.pythonString] }
            if key == "command" { config.command = words } else { config.entrypoint = words }
        }
        if let env = args["environment"], !env.isNull {
            if case .map(let m) = env {
                config.environment = m.map { $0.value.isNull ? $0.key : "\($0.key)=\($0.value.pythonString)" }
            } else {
                config.environment = []
                for item in split(env) {
                    guard item.contains("=") else { error.invalid["environment"] = "'\(item)' is not a key=value pair"; break }
                    config.environment?.append(item)
                }
            }
        }
        if let labels = args["labels"], !labels.isNull {
            var out = OrderedDictionary<String, String>()
            if case .map(let m) = labels { for (k, v) in m { out[k] = v.pythonString } } else {
                for item in split(labels) {
                    let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                    out[parts.first ?? ""] = parts.count > 1 ? parts[1] : ""
                }
            }
            config.labels = out
        }
        if let binds = args["binds"], !binds.isNull {
            var list: [String] = []
            switch binds {
            case .map(let m):
                for (host, target) in m {
                    if case .map = target {
                        let mode = target["mode"]?.pythonString ?? (target["ro"]?.asFlag == true ? "ro" : "rw")
                        list.append("\(host):\(target["bind"]?.pythonString ?? ""):\(mode)")
                    } else {
                        list.append("\(host):\(target.pythonString):rw")
                    }
                }
            case .list, .string: list = split(binds)
            default: error.invalid["binds"] = "'\(binds.pythonString)' is not a dictionary or list of bind definitions"
            }
            config.binds = list
            config.volumes = Array(Set(list.compactMap { $0.split(separator: ":").dropFirst().first.map(String.init) })).sorted()
        }
        if let volumes = args["volumes"], !volumes.isNull {
            for path in split(volumes) where absolute("volumes", path) { config.volumes.append(path) }
            config.volumes = Array(Set(config.volumes)).sorted()
        }
        if let ports = args["port_bindings"], !ports.isNull {
            if let bindings = portBindings(ports, &error) { config.portBindings = bindings }
        }
        if let exposed = args["ports"], !exposed.isNull {
            config.exposed = split(exposed).map { $0.contains("/") ? $0 : $0 + "/tcp" }
        }
        if let mode = args["network_mode"], !mode.isNull { config.networkMode = mode.pythonString }
        if let policy = args["restart_policy"], !policy.isNull {
            let parts = policy.pythonString.split(separator: ":").map(String.init)
            if policy.pythonString.contains(",") {
                error.invalid["restart_policy"] = "Only one policy is permitted"
            } else if parts.count > 2 {
                error.invalid["restart_policy"] = "'\(policy.pythonString)' contains \(parts.count) value(s) (expected up to 2)"
            } else if parts.count == 2, Int(parts[1]) == nil {
                error.invalid["restart_policy"] = "Retry count '\(parts[1])' is non-numeric"
            } else {
                config.restartPolicy = ["Name": .string(parts.first ?? ""), "MaximumRetryCount": .int(parts.count == 2 ? Int(parts[1]) ?? 0 : 0)]
            }
        }
        if let user = args["user"], !user.isNull {
            if let uid = user.intValue, uid < 0 { error.invalid["user"] = "'\(uid)' is an invalid uid" } else { config.user = user.pythonString }
        }
        if let dir = args["working_dir"], !dir.isNull, absolute("working_dir", dir.pythonString) { config.workingDir = dir.pythonString }
        if let hostname = args["hostname"], !hostname.isNull {
            if config.networkMode == "host" { error.invalid["hostname"] = "Cannot be used when network_mode=True" } else { config.hostname = hostname.pythonString }
        }
        guard error.invalid.isEmpty && error.collisions.isEmpty else { throw error }
        return config
    }

    /// `8080:80`, `80`, `127.0.0.1:8080:80`, `53/udp`: the engine's
    /// PortBindings (`"80/tcp": [{HostIp, HostPort}]`).
    static func portBindings(_ value: Value, _ error: inout TranslationError) -> OrderedDictionary<String, [Value]>? {
        var out = OrderedDictionary<String, [Value]>()
        func key(_ port: String) -> String { port.contains("/") ? port : port + "/tcp" }
        if case .map(let m) = value {
            for (container, host) in m { out[key(container), default: []].append(["HostIp": "", "HostPort": .string(host.isNull ? "" : host.pythonString)]) }
            return out
        }
        for item in split(value) {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            switch parts.count {
            case 1: out[key(parts[0]), default: []].append(["HostIp": "", "HostPort": ""])
            case 2: out[key(parts[1]), default: []].append(["HostIp": "", "HostPort": .string(parts[0])])
            case 3:
                guard IPAddress(parts[0]) != nil else { error.invalid["port_bindings"] = "'\(parts[0])' is not a valid IP address"; return nil }
                out[key(parts[2]), default: []].append(["HostIp": .string(parts[0]), "HostPort": .string(parts[1])])
            default:
                error.invalid["port_bindings"] = "'\(item)' is an invalid port binding definition (at most 3 components are allowed, found \(parts.count))"
                return nil
            }
        }
        return out
    }

    /// The container arguments of a call (everything but the function's own).
    static func containerArguments(_ a: Arguments, excluding: Set<String>) -> OrderedDictionary<String, Value> {
        var out = OrderedDictionary<String, Value>()
        for (k, v) in a.extraKeywords where !excluding.contains(k) && !k.hasPrefix("__") { out[k] = v }
        return out
    }

    /// Creates a container; the engine's answer plus Name and Time_Elapsed.
    static func createContainer(image: String, name: String?, _ arguments: OrderedDictionary<String, Value>, _ ctx: ExecutionContext) throws -> OrderedDictionary<String, Value> {
        let config: ContainerConfig
        do { config = try translate(image: image, arguments) } catch { throw BrineError(.arguments, error.description) }
        let engine = try DockerEngine(ctx)
        let started = Date()
        let answer = try DockerModule.engine {
            try engine.checked("POST", "/containers/create", query: name.map { [("name", $0)] } ?? [], json: config.body)
        }
        var result = answer.json.mapValue ?? [:]
        result["Time_Elapsed"] = .float(Date().timeIntervalSince(started))
        if let name { result["Name"] = .string(name) }
        if case .list(let nets) = arguments["networks"] ?? .null {
            let id = result["Id"]?.stringValue ?? ""
            do {
                for net in nets {
                    _ = try DockerModule.engine {
                        try engine.checked("POST", "/networks/\(DockerEngine.escape(net.mapValue?.keys.first ?? net.pythonString))/connect", json: ["Container": .string(id)])
                    }
                }
            } catch {
                // no half-made container left behind under the name
                _ = try? engine.call("DELETE", "/containers/\(id)", query: [("force", "1")])
                throw error
            }
        }
        return result
    }

    static func create(_ a: Arguments, _ ctx: ExecutionContext) throws -> Value {
        let image = a.string("image") ?? ""
        if try DockerEngine(ctx).inspect("images", reference(image)) == nil { _ = try pull(image, ctx) }
        var result = try createContainer(image: image, name: a.string("name"), containerArguments(a, excluding: []), ctx)
        if a.bool("start") {
            let engine = try DockerEngine(ctx)
            _ = try DockerModule.engine { try engine.checked("POST", "/containers/\(result["Id"]?.stringValue ?? "")/start") }
            result["Started"] = true
        }
        return .map(result)
    }

    static func runContainer(_ a: Arguments, _ ctx: ExecutionContext) throws -> Value {
        let image = a.string("image") ?? ""
        let engine = try DockerEngine(ctx)
        var replaced: [String] = []
        if let name = a.string("name"), try engine.inspect("containers", name) != nil {
            let running = try state(name, ctx) != "stopped"
            guard a.bool("replace") else {
                throw BrineError(.execution, "Container '\(name)' exists. Run with replace=True to remove the existing container")
            }
            if running && !a.bool("force") {
                throw BrineError(.execution, "Container '\(name)' exists and is running. Run with replace=True and force=True to force removal of the existing container.")
            }
            replaced = try remove(name, force: true, volumes: false, stopFirst: false, timeout: nil, ctx)
        }
        if try engine.inspect("images", reference(image)) == nil { _ = try pull(image, ctx) }
        var result = try createContainer(image: image, name: a.string("name"), containerArguments(a, excluding: []), ctx)
        if !replaced.isEmpty { result["Replaces"] = .list(replaced.map(Value.string)) }
        let id = result["Id"]?.stringValue ?? ""
        _ = try DockerModule.engine { try engine.checked("POST", "/containers/\(id)/start") }
        if !a.bool("bg") {
            // as long as the container runs
            let waited = try DockerModule.engine { try engine.checked("POST", "/containers/\(id)/wait", timeout: .infinity) }
            result["Logs"] = .string(try logs(id, stdout: true, stderr: true, timestamps: false, tail: "all", ctx))
            result["ExitCode"] = waited.json["StatusCode"] ?? .null
        }
        return .map(result)
    }

    /// Salt's `compare_containers`: every Config and HostConfig key of
    /// either container that differs (`Env` in any order; images by id),
    /// as `{Config: {Key: {old, new}}, HostConfig: {…}}`.
    static func compareContainers(_ first: Value, _ second: Value, ignore: Set<String>, _ ctx: ExecutionContext) throws -> OrderedDictionary<String, Value> {
        var result = OrderedDictionary<String, Value>()
        for section in ["Config", "HostConfig"] {
            let a = first[section]?.mapValue ?? [:], b = second[section]?.mapValue ?? [:]
            var diff = OrderedDictionary<String, Value>()
            for key in a.keys + b.keys.filter({ a[$0] == nil }) where !ignore.contains(key) && diff[key] == nil {
                var old = a[key] ?? .null, new = b[key] ?? .null
                if key == "OomKillDisable" || old.isNull || new.isNull {
                    if old.isTruthy != new.isTruthy { diff[key] = ["old": old, "new": new] }
                    continue
                }
                if key == "Image" {
                    let engine = try DockerEngine(ctx)
                    old = try engine.inspect("images", old.pythonString)?["Id"] ?? old
                    new = try engine.inspect("images", new.pythonString)?["Id"] ?? new
                }
                let differs = key == "Env"
                    ? (old.listValue ?? []).map(\.pythonString).sorted() != (new.listValue ?? []).map(\.pythonString).sorted()
                    : old != new
                if differs { diff[key] = ["old": old, "new": new] }
            }
            if !diff.isEmpty { result[section] = .map(diff) }
        }
        return result
    }
}
