import Foundation
import BrineCore
import OrderedCollections

/// Salt's `service` states, with `mod_watch` restarting (or reloading) a
/// running service when a watched state changed.
public enum ServiceState: StateModule {
    public static let name = "service"

    public static let functions: [StateFunction] = [
        StateFunction("running", doc: "Ensure the service is running (and enabled, with enable: True).",
                      .optional("enable", "sig", "init_delay") + [Parameter("reload", default: false)]) { call in
            try running(call)
        },
        StateFunction("dead", doc: "Ensure the service is not running (and disabled, with enable: False).",
                      .optional("enable", "sig")) { call in
            try dead(call)
        },
        StateFunction("enabled", doc: "Ensure the service starts at boot.") { call in
            try setEnabled(call, true, ret: StateResult(name: call.name))
        },
        StateFunction("disabled", doc: "Ensure the service does not start at boot.") { call in
            try setEnabled(call, false, ret: StateResult(name: call.name))
        },
        StateFunction("masked", doc: "Ensure the unit is masked (runtime: until reboot).", [Parameter("runtime", default: false)]) { call in
            try mask(call, true)
        },
        StateFunction("unmasked", doc: "Ensure the unit is not masked.", [Parameter("runtime", default: false)]) { call in
            try mask(call, false)
        },
        StateFunction("mod_watch", doc: "Restart (or reload) the service when a watched state changed.",
                      .optional("sig", "enable") + [Parameter("reload", default: false), Parameter("full_restart", default: false),
                                                    Parameter("force", default: false)]) { call in
            try modWatch(call)
        },
    ]

    static func status(_ call: StateCall) throws -> Bool {
        try call.call("service.status", [.string(call.name)], call["sig"].isNull ? [:] : ["sig": call["sig"]]).asFlag
    }

    static func running(_ call: StateCall) throws -> StateResult {
        let name = call.name
        guard try call.call("service.available", [.string(name)]).asFlag else {
            return .failed(name, "The named service \(name) is not available")
        }
        var ret = StateResult(name: name)
        if try status(call) {
            ret.comment = "The service \(name) is already running"
        } else if call.test {
            return StateResult(name: name, result: nil, comment: "Service \(name) is set to start")
        } else {
            _ = try call.call("service.start", [.string(name)])
            if let delay = call["init_delay"].doubleValue { Thread_sleep(delay) }
            guard try status(call) else { return .failed(name, "Service \(name) failed to start") }
            ret.changes[name] = true
            ret.comment = "Started service \(name)"
        }
        if !call["enable"].isNull { ret = try setEnabled(call, call["enable"].asFlag, ret: ret) }
        return ret
    }

    static func dead(_ call: StateCall) throws -> StateResult {
        let name = call.name
        var ret = StateResult(name: name)
        let available = try call.call("service.available", [.string(name)]).asFlag
        let isRunning = available ? try status(call) : false
        if !available || !isRunning {
            ret.comment = available ? "The service \(name) is already dead" : "The named service \(name) is not available"
        } else if call.test {
            return StateResult(name: name, result: nil, comment: "Service \(name) is set to be killed")
        } else {
            _ = try call.call("service.stop", [.string(name)])
            if try status(call) { return .failed(name, "Service \(name) failed to die") }
            ret.changes[name] = true
            ret.comment = "Service \(name) was killed"
        }
        if available, !call["enable"].isNull { ret = try setEnabled(call, call["enable"].asFlag, ret: ret) }
        return ret
    }

    static func setEnabled(_ call: StateCall, _ enable: Bool, ret start: StateResult) throws -> StateResult {
        var ret = start
        let name = call.name
        let word = enable ? "enabled" : "disabled"
        let already = try call.call(enable ? "service.enabled" : "service.disabled", [.string(name)]).asFlag
        let prefix = ret.comment.isEmpty ? "" : ret.comment + "\n"
        if already {
            ret.comment = prefix + "Service \(name) is already \(word), and is in the desired state"
            return ret
        }
        if call.test {
            ret.result = nil
            ret.comment = prefix + "Service \(name) set to be \(word)"
            return ret
        }
        guard try call.call(enable ? "service.enable" : "service.disable", [.string(name)]).asFlag else {
            ret.result = false
            ret.comment = prefix + "Failed when setting service \(name) to be \(word)"
            return ret
        }
        ret.changes[name] = true
        ret.comment = prefix + "Service \(name) has been \(word)"
        return ret
    }

    static func modWatch(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let running = try status(call)
        let action: String
        switch call.watchingFunction {
        case "dead":
            guard running else { return StateResult(name: name, comment: "Service is already stopped") }
            action = "stop"
        case "running":
            action = running ? (call.bool("reload") ? "reload" : "restart") : "start"
        default:
            return .failed(name, "Unable to trigger watch for service.\(call.watchingFunction ?? "?")")
        }
        let past = ["stop": "stopped", "reload": "reloaded", "restart": "restarted", "start": "started"][action] ?? action
        if call.test {
            return StateResult(name: name, result: nil, comment: "Service is set to be \(past)")
        }
        let ok = try call.call("service.\(action)", [.string(name)]).asFlag
        return StateResult(name: name, result: ok, changes: ok ? [name: true] : [:],
                           comment: ok ? "Service \(past)" : "Failed to \(action) the service")
    }

    /// `service.masked` / `service.unmasked`, in Salt's words.
    static func mask(_ call: StateCall, _ mask: Bool) throws -> StateResult {
        let name = call.name
        let runtime = call["runtime"].asFlag
        let kind = runtime ? "runtime masked" : "masked"
        let action = mask ? kind : (runtime ? "runtime unmasked" : "unmasked")
        let changes: OrderedDictionary<String, Value> = [kind: ["old": .bool(!mask), "new": .bool(mask)]]
        let arguments: [String: Value] = ["runtime": .bool(runtime)]
        do {
            if try call.call("service.masked", [.string(name)], arguments).asFlag == mask {
                return StateResult(name: name, comment: mask ? "Service \(name) is already \(kind)" : "Service \(name) was already \(action)")
            }
            if call.test { return StateResult(name: name, result: nil, changes: changes, comment: "Service \(name) would be \(action)") }
            _ = try call.call(mask ? "service.mask" : "service.unmask", [.string(name)], arguments)
            guard try call.call("service.masked", [.string(name)], arguments).asFlag == mask else {
                return .failed(name, "Failed to \(mask ? "mask" : "unmask") service \(name)")
            }
            return StateResult(name: name, changes: changes, comment: "Service \(name) was \(action)")
        } catch let error as BrineError {
            return .failed(name, error.message)
        }
    }
}

/// Sleeps the calling thread (states run on job threads, never on the
/// cooperative pool).
func Thread_sleep(_ seconds: Double) {
    var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    nanosleep(&ts, nil)
}
