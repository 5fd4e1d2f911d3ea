import BrineCore
import OrderedCollections

/// The `networks` of `docker_container.running`, as Salt handles them: the
/// container made for the state is connected to exactly those networks,
/// and the differences with the existing container (or, for a new one,
/// with what the engine first attached) are reported per network — an IP
/// address and gateway that came or went on a running container, else
/// `IPConfiguration` automatic / not connected — then applied by
/// connecting and disconnecting (Salt's `compare_container_networks` with
/// its default keys; static addresses are not managed).
struct DockerContainerNetworks {
    let engine: DockerEngine
    let wanted: [String]

    /// nil when the state gives no `networks`.
    init?(_ call: StateCall, engine: DockerEngine) {
        guard let value = call.arguments.extraKeywords["networks"], !value.isNull else { return nil }
        self.engine = engine
        switch value {
        case .list(let l): wanted = l.map { $0.mapValue?.keys.first ?? $0.pythonString }
        case .map(let m): wanted = Array(m.keys)
        default: wanted = DockerModule.split(value)
        }
    }

    /// Salt's error for networks that do not exist.
    func missing() throws -> String? {
        let absent = try wanted.filter { try engine.inspect("networks", $0) == nil }.sorted()
        return absent.isEmpty ? nil : "The following networks are not present: \(absent.joined(separator: ", "))"
    }

    static func attached(_ inspect: Value?) -> OrderedDictionary<String, Value> {
        inspect?["NetworkSettings"]?["Networks"]?.mapValue ?? [:]
    }

    /// Connects the container to the wanted networks and from the others.
    func attach(_ container: String) throws {
        let now = Self.attached(try engine.inspect("containers", container))
        for net in wanted where now[net] == nil { try connect(container, net) }
        for net in now.keys where !wanted.contains(net) { try disconnect(container, net) }
    }

    func connect(_ container: String, _ net: String) throws {
        _ = try DockerModule.engine { try engine.checked("POST", "/networks/\(DockerEngine.escape(net))/connect", json: ["Container": .string(container)]) }
    }

    func disconnect(_ container: String, _ net: String) throws {
        _ = try DockerModule.engine {
            try engine.checked("POST", "/networks/\(DockerEngine.escape(net))/disconnect", json: ["Container": .string(container), "Force": true])
        }
    }

    static let automaticKeys = ["IPAddress", "Gateway", "GlobalIPv6Address", "IPv6Gateway"]

    /// Networks that went (`before` only) and came (`after` only).
    static func changes(before: OrderedDictionary<String, Value>, after: OrderedDictionary<String, Value>) -> OrderedDictionary<String, Value> {
        var out = OrderedDictionary<String, Value>()
        for (net, settings) in before where after[net] == nil {
            var entry = OrderedDictionary<String, Value>()
            for key in automaticKeys { if let value = settings[key], value.isTruthy { entry[key] = ["old": value, "new": .null] } }
            out[net] = entry.isEmpty ? ["IPConfiguration": ["old": "automatic", "new": "not connected"]] : .map(entry)
        }
        for net in after.keys where before[net] == nil {
            out[net] = ["IPConfiguration": ["old": "not connected", "new": "automatic"]]
        }
        return out
    }

    /// After the container started: "automatic" replaced by the addresses it got.
    func resolved(_ changes: OrderedDictionary<String, Value>, container: String) throws -> OrderedDictionary<String, Value> {
        let now = Self.attached(try engine.inspect("containers", container))
        var out = changes
        for (net, entry) in changes where entry["IPConfiguration"]?["new"] == "automatic" {
            var addresses = OrderedDictionary<String, Value>()
            for key in Self.automaticKeys { if let value = now[net]?[key], value.isTruthy { addresses[key] = ["old": .null, "new": value] } }
            if !addresses.isEmpty { out[net] = .map(addresses) }
        }
        return out
    }
}
