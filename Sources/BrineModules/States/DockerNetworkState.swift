import BrineCore
import OrderedCollections

/// Salt's `docker_network` and `docker_volume` states (saltext-dockermod).
/// A network is compared on its driver, options, internal flag and subnet
/// (Salt compares a temporary network's whole inspect; these are the parts
/// a state sets) and recreated when they differ.
public enum DockerNetworkState: StateModule {
    public static let name = "docker_network"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Network NAME exists with driver, subnet, gateway, internal, options; recreated when they differ.",
                      [Parameter].optional("driver", "subnet", "gateway", "iprange", "internal", "options", "labels")) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Network NAME does not exist.") { call in
            try absent(call)
        },
    ]

    static func desiredDiff(_ existing: Value, _ call: StateCall) -> OrderedDictionary<String, Value> {
        var diff = OrderedDictionary<String, Value>()
        let driver = call.string("driver") ?? "bridge"
        if existing["Driver"]?.stringValue != driver { diff["Driver"] = ["old": existing["Driver"] ?? .null, "new": .string(driver)] }
        let isInternal = call["internal"].asFlag
        if (existing["Internal"]?.asFlag ?? false) != isInternal { diff["Internal"] = ["old": existing["Internal"] ?? false, "new": .bool(isInternal)] }
        if let subnet = call.string("subnet") {
            let have = existing["IPAM"]?["Config"]?.listValue?.first?["Subnet"]
            if have?.stringValue != subnet {
                diff["IPAM"] = ["Config": ["old": existing["IPAM"]?["Config"] ?? .null, "new": [["Subnet": .string(subnet)]]]]
            }
        }
        if case .map(let options) = call["options"] {
            let have = existing["Options"]?.mapValue ?? [:]
            for (key, value) in options where have[key]?.stringValue != value.pythonString {
                diff["Options", default: .emptyMap] = (diff["Options"] ?? .emptyMap).merged(with: [key: ["old": have[key] ?? .null, "new": .string(value.pythonString)]])
            }
        }
        return diff
    }

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context
        let engine = try DockerEngine(ctx)
        var ret = StateResult(name: name, result: true)
        let existing = try engine.inspect("networks", name)
        if let existing {
            let diff = desiredDiff(existing, call)
            if diff.isEmpty { ret.comment = "Network '\(name)' already exists, and is configured as specified"; return ret }
            ret.changes[name] = .map(diff)
            if call.test { ret.result = nil; ret.comment = "Network would be recreated with new config"; return ret }
            do { _ = try DockerModule.engine { try engine.checked("DELETE", "/networks/\(DockerEngine.escape(name))") } } catch {
                return StateResult.failed(name, "Failed to remove network: \(error)")
            }
        } else if call.test {
            return StateResult(name: name, result: nil, comment: "Network will be created")
        }
        var a = call.arguments
        a.values["name"] = .string(name)
        do { _ = try DockerModule.createNetwork(a, ctx) } catch {
            return StateResult.failed(name, "Failed to create network '\(name)': \(error)")
        }
        ret.changes[existing == nil ? "created" : "recreated"] = true
        ret.comment = existing == nil ? "Network '\(name)' created" : "Network '\(name)' was replaced with updated config"
        return ret
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name, engine = try DockerEngine(call.context)
        guard try engine.inspect("networks", name) != nil else {
            return StateResult(name: name, result: true, comment: "Network '\(name)' already absent")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "Network '\(name)' will be removed") }
        do { _ = try DockerModule.engine { try engine.checked("DELETE", "/networks/\(DockerEngine.escape(name))") } } catch {
            return StateResult.failed(name, "Failed to remove network: \(error)")
        }
        return StateResult(name: name, result: true, changes: ["removed": true], comment: "Removed network '\(name)'")
    }
}

public enum DockerVolumeState: StateModule {
    public static let name = "docker_volume"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Volume NAME exists (with driver; force replaces one with another driver).",
                      [Parameter("driver", default: .null), Parameter("driver_opts", default: .null), Parameter("force", default: false)]) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Volume NAME does not exist.", [Parameter("driver", default: .null)]) { call in
            try absent(call)
        },
    ]

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context, engine = try DockerEngine(ctx)
        var ret = StateResult(name: name, result: true)
        func create() throws -> StateResult? {
            do { ret.changes["created"] = try DockerModule.createVolume(name, driver: call.string("driver"), options: call["driver_opts"], ctx) } catch {
                return StateResult.failed(name, "Failed to create volume '\(name)': \(error)")
            }
            return nil
        }
        guard let existing = try engine.inspect("volumes", name) else {
            if call.test { return StateResult(name: name, result: nil, comment: "The volume '\(name)' will be created") }
            return try create() ?? ret
        }
        if let driver = call.string("driver"), existing["Driver"]?.stringValue != driver {
            guard call["force"].asFlag else {
                return StateResult(name: name, result: call.test ? nil : false,
                                   comment: "Driver for existing volume '\(name)' ('\(existing["Driver"]?.pythonString ?? "")') does not match specified driver ('\(driver)') and force is False")
            }
            if call.test { return StateResult(name: name, result: nil, comment: "The volume '\(name)' will be replaced with a new one using the driver '\(driver)'") }
            do { _ = try DockerModule.engine { try engine.checked("DELETE", "/volumes/\(DockerEngine.escape(name))") } } catch {
                return StateResult.failed(name, "Failed to remove volume '\(name)': \(error)")
            }
            ret.changes["removed"] = true
            return try create() ?? ret
        }
        ret.comment = "Volume '\(name)' already exists."
        return ret
    }

    /// Unlike Salt (which removes the volume even with test=True), test
    /// mode only says what would happen.
    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name, engine = try DockerEngine(call.context)
        guard try engine.inspect("volumes", name) != nil else {
            return StateResult(name: name, result: true, comment: "Volume '\(name)' already absent")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "Volume '\(name)' will be removed") }
        do { _ = try DockerModule.engine { try engine.checked("DELETE", "/volumes/\(DockerEngine.escape(name))") } } catch {
            return StateResult.failed(name, "Failed to remove volume '\(name)': \(error)")
        }
        return StateResult(name: name, result: true, changes: ["removed": true])
    }
}
