import BrineCore
import OrderedCollections

/// `monitor.http_present` / `monitor.absent`: a check kept in the master's
/// monitor. Unlike Salt's `uptime.monitored`, a changed interval, threshold,
/// name, tags or pause state updates the check and reports the changes.
public enum MonitorState: StateModule {
    public static let name = "monitor"

    static let parameters = [Parameter("check_name", default: .null), Parameter("interval", default: .null),
                             Parameter("polling", default: .null), Parameter("maxTime", default: .null),
                             Parameter("alertTreshold", default: .null), Parameter("tags", default: .null),
                             Parameter("isPaused", default: .null)]

    public static let functions: [StateFunction] = [
        StateFunction("http_present", doc: "A check on URL NAME with these fields (interval in seconds).", parameters) { call in
            try present(call)
        },
        StateFunction("absent", doc: "No check on URL NAME.") { call in
            try absent(call)
        },
    ]

    /// Field → (old, new) for what differs; `interval` compares in seconds.
    static func differences(_ check: Value, _ wanted: OrderedDictionary<String, Value>) -> OrderedDictionary<String, Value> {
        var changes = OrderedDictionary<String, Value>()
        for (key, value) in wanted {
            var current = check[key] ?? .null
            if key == "interval", let ms = current.doubleValue { current = Self.number(ms / 1000) }
            let same: Bool
            switch (current, value) {
            case (.int, _), (.float, _): same = current.doubleValue == (value.doubleValue ?? Double(value.pythonString))
            case (.bool(let b), _): same = b == value.asFlag
            default: same = current == value
            }
            if !same { changes[key] = ["old": current, "new": value] }
        }
        return changes
    }

    static func number(_ d: Double) -> Value { d == d.rounded() ? .int(Int(d)) : .float(d) }

    static func present(_ call: StateCall) throws -> StateResult {
        let url = call.name
        let fields = MonitorModule.fields(call.arguments)
        let api = try MonitorAPI(call.context)
        guard let check = try api.find(url) else {
            if call.test { return StateResult(name: url, result: nil, comment: "URL \(url) is going to be added to the monitor") }
            let created = try api.create(url: url, fields)
            return StateResult(name: url, result: true, changes: ["url_monitored": created["_id"] ?? .null],
                               comment: "Successfully added the URL \(url) to the monitor")
        }
        let changes = differences(check, fields)
        guard !changes.isEmpty else { return StateResult(name: url, result: true, comment: "URL \(url) is already monitored") }
        if call.test {
            return StateResult(name: url, result: nil, changes: changes, comment: "The check on \(url) is going to be updated")
        }
        _ = try api.update(check["_id"]?.pythonString ?? "", fields)
        return StateResult(name: url, result: true, changes: changes, comment: "Updated the check on \(url)")
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let url = call.name
        let api = try MonitorAPI(call.context)
        guard let check = try api.find(url) else { return StateResult(name: url, result: true, comment: "URL \(url) is not monitored") }
        if call.test { return StateResult(name: url, result: nil, comment: "The check on \(url) is going to be removed") }
        _ = try api.delete(check["_id"]?.pythonString ?? "")
        return StateResult(name: url, result: true, changes: ["url_monitored": ["old": check["_id"] ?? .null, "new": .null]], comment: "Removed the check on \(url)")
    }
}

/// Salt's `uptime.monitored`, accepted as written in the seed's SLS; it is
/// `monitor.http_present` (so a changed interval updates the check).
public enum UptimeState: StateModule {
    public static let name = "uptime"

    public static let functions: [StateFunction] = [
        StateFunction("monitored", doc: "A check on URL NAME (Salt's uptime state; polling or interval in seconds).",
                      MonitorState.parameters) { call in
            try MonitorState.present(call)
        },
    ]
}
