import BrineCore
import Foundation
import OrderedCollections

/// Brine's `monitor` module: checks in the master's monitor, through its
/// REST API (the uptime app's routes). The API is found at `monitor:url`,
/// else the uptime module's `uptime:application_url`, else port 8000 of
/// the `master` host (config, grains or pillar, as `config.get` looks).
public enum MonitorModule: ExecutionModule {
    public static let name = "monitor"

    static let fieldParameters = [Parameter("check_name", default: .null), Parameter("interval", default: .null),
                                  Parameter("maxTime", default: .null), Parameter("alertTreshold", default: .null),
                                  Parameter("tags", default: .null), Parameter("isPaused", default: .null)]

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("add", doc: "Create a check for URL (http://, tcp://host:port); interval in seconds, maxTime in ms. Returns it.",
                          [Parameter("url")] + fieldParameters) { args, ctx in
            let api = try MonitorAPI(ctx)
            if let existing = try api.find(args.string("url") ?? "") {
                throw BrineError(.execution, "a check for \(existing["url"]?.pythonString ?? "") already exists (\(existing["_id"]?.pythonString ?? ""))")
            }
            return try api.create(url: args.string("url") ?? "", fields(args))
        },
        ExecutionFunction("get", doc: "The check for a URL or id, or None.", [Parameter("url")]) { args, ctx in
            try MonitorAPI(ctx).find(args.string("url") ?? "") ?? .null
        },
        ExecutionFunction("update", doc: "Change a check's fields; returns it.", [Parameter("url")] + fieldParameters) { args, ctx in
            let api = try MonitorAPI(ctx)
            guard let existing = try api.find(args.string("url") ?? "") else { throw BrineError(.execution, "no check for \(args.string("url") ?? "")") }
            return try api.update(existing["_id"]?.pythonString ?? "", fields(args))
        },
        ExecutionFunction("remove", doc: "Delete the check for a URL or id; True when there was one.", [Parameter("url")]) { args, ctx in
            let api = try MonitorAPI(ctx)
            guard let existing = try api.find(args.string("url") ?? "") else { return false }
            return .bool(try api.delete(existing["_id"]?.pythonString ?? ""))
        },
        ExecutionFunction("list", doc: "Every check, down ones first.", [Parameter("tag", default: .null)]) { args, ctx in
            .list(try MonitorAPI(ctx).checks(tag: args.string("tag")))
        },
        ExecutionFunction("status", doc: "URL → up, down, paused or pending (not polled yet); one URL or all.",
                          [Parameter("url", default: .null)]) { args, ctx in
            let api = try MonitorAPI(ctx)
            var all = try api.checks(tag: nil)
            if let url = args.string("url") { all = all.filter { $0["url"]?.stringValue == url || $0["_id"]?.stringValue == url } }
            var out = OrderedDictionary<String, Value>()
            for check in all {
                let state = check["isPaused"] == .bool(true) ? "paused" : check["isUp"] == .bool(true) ? "up" : check["isUp"] == .bool(false) ? "down" : "pending"
                out[check["url"]?.pythonString ?? ""] = .string(state)
            }
            return .map(out)
        },
    ]

    /// The API's fields from a call's arguments (module or state): `check_name`
    /// is `name`, `polling` (Salt's uptime state) is `interval`, tags a list.
    static func fields(_ args: Arguments) -> OrderedDictionary<String, Value> {
        var body = OrderedDictionary<String, Value>()
        if let name = args.string("check_name") { body["name"] = .string(name) }
        let interval = args["interval"].isNull ? args["polling"] : args["interval"]
        if !interval.isNull { body["interval"] = interval }
        for key in ["maxTime", "alertTreshold", "isPaused"] where !args[key].isNull { body[key] = args[key] }
        switch args["tags"] {
        case .string(let s): body["tags"] = .list(s.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
        case .list(let l): body["tags"] = .list(l.map { .string($0.pythonString) })
        default: break
        }
        return body
    }
}

/// The master's monitor API, from a minion (or `brine call --local`).
struct MonitorAPI {
    let base: String

    init(_ ctx: ExecutionContext) throws {
        var url = try ctx.call("config.get", ["monitor:url"]).stringValue ?? ""
        if url.isEmpty { url = try ctx.call("config.get", ["uptime:application_url"]).stringValue ?? "" }
        if url.isEmpty { url = "http://\(ctx.opts.string("master") ?? "salt"):8000" }
        base = url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    func call(_ method: String, _ path: String, _ body: Value? = nil) throws -> Value {
        let response = try HTTPClient.request(method, base + path, json: body)
        let value = (try? response.json()) ?? .string(response.body)
        guard response.status < 400 else {
            throw BrineError(.execution, "the monitor at \(base) answered \(response.status): \(value["error"]?.pythonString ?? response.body)")
        }
        return value
    }

    func checks(tag: String?) throws -> [Value] {
        let query = tag.map { "?tag=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        return try call("GET", "/api/checks" + query).listValue ?? []
    }

    /// The check whose URL or id is `key`.
    func find(_ key: String) throws -> Value? {
        try checks(tag: nil).first { $0["url"]?.stringValue == key || $0["_id"]?.stringValue == key }
    }

    func create(url: String, _ fields: OrderedDictionary<String, Value>) throws -> Value {
        var body = fields
        body["url"] = .string(url)
        return try call("PUT", "/api/checks", .map(body))
    }

    func update(_ id: String, _ fields: OrderedDictionary<String, Value>) throws -> Value {
        try call("POST", "/api/checks/\(id)", .map(fields))
    }

    func delete(_ id: String) throws -> Bool {
        _ = try call("DELETE", "/api/checks/\(id)")
        return true
    }
}
