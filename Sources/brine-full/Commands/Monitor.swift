import ArgumentParser
import BrineCommandLine
import BrineCore
import BrineModules
import Foundation

/// `brine monitor`: the checks of the master's monitor, through its API.
struct Monitor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "List, show, pause and resume the master's monitoring checks.",
        subcommands: [List.self, Show.self, Pause.self, Resume.self]
    )

    /// The master's monitor API, from the master's config.
    struct Endpoint: ParsableArguments {
        @OptionGroup var config: ConfigOptions
        @Option(name: [.customLong("out"), .customLong("output")], help: "Output: text (default) or json.") var out: String?

        func base() throws -> String {
            let opts = try config.load(.master)
            let monitor = opts["monitor"] ?? .emptyMap
            guard monitor["enabled"]?.asFlag == true else {
                throw BrineError(.config, "the monitor is not enabled in \(config.directory)/master", hint: "set monitor: {enabled: true}")
            }
            let host = monitor["interface"]?.stringValue ?? "127.0.0.1"
            return "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(monitor["port"]?.intValue ?? opts.int("http_port") ?? 8000)"
        }

        func call(_ method: String, _ path: String) throws -> Value {
            let response = try HTTPClient.request(method, try base() + path)
            let value = (try? response.json()) ?? .string(response.body)
            guard response.status < 400 else { throw BrineError(.execution, value["error"]?.pythonString ?? "HTTP \(response.status)") }
            return value
        }

        /// A check by id, URL or name.
        func find(_ key: String) throws -> Value {
            let checks = try call("GET", "/api/checks").listValue ?? []
            guard let check = checks.first(where: { c in ["_id", "url", "name"].contains { c[$0]?.stringValue == key } }) else {
                throw BrineError(.usage, "no check '\(key)'", hint: "see them with: brine monitor list")
            }
            return check
        }

        func emit(_ value: Value, text: () -> String) {
            print(out == "json" ? JSON.encode(value) : text())
        }
    }

    static func line(_ c: Value) -> String {
        let state = c["isPaused"] == .bool(true) ? "paused" : c["isUp"] == .bool(true) ? "up" : c["isUp"] == .bool(false) ? "down" : "pending"
        let interval = (c["interval"]?.doubleValue ?? 0) / 1000
        return "\(c["_id"]?.pythonString ?? "")  \(state)\t\(c["name"]?.pythonString ?? "")\t\(c["url"]?.pythonString ?? "")\tevery \(String(format: "%g", interval)) s"
            + (c["qos"].flatMap { $0.doubleValue }.map { String(format: "\tqos %.2f %%", $0) } ?? "")
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every check, down ones first.")
        @OptionGroup var endpoint: Endpoint
        func run() throws {
            try reportingErrors {
                let checks = try endpoint.call("GET", "/api/checks")
                endpoint.emit(checks) { (checks.listValue ?? []).map(Monitor.line).joined(separator: "\n") }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One check (by id, URL or name) and its latest polls.")
        @OptionGroup var endpoint: Endpoint
        @Argument var check: String
        func run() throws {
            try reportingErrors {
                let found = try endpoint.find(check)
                let pings = try endpoint.call("GET", "/api/checks/\(found["_id"]?.pythonString ?? "")/pings")
                endpoint.emit(["check": found, "pings": pings]) {
                    ([Monitor.line(found)] + (pings.listValue ?? []).prefix(10).map { p in
                        "  \(p["timestamp"]?.pythonString ?? "")  \(p["isUp"] == .bool(true) ? "up" : "down")  \(p["time"]?.pythonString ?? "") ms"
                            + (p["status"].flatMap { $0.isNull ? nil : " HTTP \($0.pythonString)" } ?? "")
                            + (p["error"].flatMap { $0.isNull ? nil : "  \($0.pythonString)" } ?? "")
                    }).joined(separator: "\n")
                }
            }
        }
    }

    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pause", abstract: "Stop polling a check.")
        @OptionGroup var endpoint: Endpoint
        @Argument var check: String
        func run() throws { try reportingErrors { try Monitor.setPaused(endpoint, check, true) } }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", abstract: "Poll a paused check again.")
        @OptionGroup var endpoint: Endpoint
        @Argument var check: String
        func run() throws { try reportingErrors { try Monitor.setPaused(endpoint, check, false) } }
    }

    static func setPaused(_ endpoint: Endpoint, _ key: String, _ paused: Bool) throws {
        let found = try endpoint.find(key)
        let id = found["_id"]?.pythonString ?? ""
        let response = try HTTPClient.request("POST", try endpoint.base() + "/api/checks/\(id)", json: ["isPaused": .bool(paused)])
        guard response.status == 200, let updated = try? response.json() else { throw BrineError(.execution, "updating \(id) failed: \(response.body)") }
        endpoint.emit(updated) { Monitor.line(updated) }
    }
}
