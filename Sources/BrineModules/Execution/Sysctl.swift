import BrineCore
import Foundation
import OrderedCollections

/// Salt's `sysctl` execution module for Linux: kernel parameters read and
/// written with `sysctl`, kept in a configuration file (Salt's default:
/// `/etc/sysctl.d/99-salt.conf` when systemd runs, else `/etc/sysctl.conf`).
public enum SysctlModule: ExecutionModule {
    public static let name = "sysctl"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("default_config", doc: "The file sysctl.persist writes by default.") { _, _ in
            .string(defaultConfig)
        },
        ExecutionFunction("show", doc: "Every kernel parameter (sysctl -a), or those set in config_file.",
                          [Parameter("config_file", default: false)]) { a, ctx in
            if let file = a.string("config_file"), a["config_file"] != .bool(false) {
                guard let settings = configured(in: file) else { return FileOps.exists(file) ? .null : .list([]) }
                return .map(settings.mapValues(Value.string))
            }
            return .map(try all(ctx).mapValues(Value.string))
        },
        ExecutionFunction("get", doc: "One parameter's value (sysctl -n).", [Parameter("name")]) { a, ctx in
            .string(try value(of: a.string("name") ?? "", ctx))
        },
        ExecutionFunction("assign", doc: "Set a parameter on the running system (sysctl -w).", [Parameter("name"), Parameter("value")]) { a, ctx in
            let (name, value) = try assign(a.string("name") ?? "", a["value"].pythonString, ctx)
            return [name: .string(value)]
        },
        ExecutionFunction("persist", doc: "Set a parameter in the config file and on the running system: 'Updated' or 'Already set'.",
                          [Parameter("name"), Parameter("value"), Parameter("config", default: .null)]) { a, ctx in
            .string(try persist(a.string("name") ?? "", a["value"].pythonString, config: a.string("config") ?? defaultConfig, ctx))
        },
    ]

    static var defaultConfig: String {
        ServiceModule.usesSystemd ? "/etc/sysctl.d/99-salt.conf" : "/etc/sysctl.conf"
    }

    /// A parameter name as sysctl takes it, refused when its /proc/sys path
    /// could leave /proc/sys or the name could carry an assignment.
    static func checked(_ name: String) throws -> String {
        let path = String(name.map { $0 == "." ? "/" : ($0 == "/" ? "." : $0) })
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, !name.hasPrefix("-"), !name.contains("="), !name.contains(where: \.isWhitespace),
              !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
        else { throw BrineError(.execution, "sysctl \(name) does not exist", hint: "name a kernel parameter, e.g. net.ipv4.ip_forward") }
        return path
    }

    static func all(_ ctx: ExecutionContext) throws -> OrderedDictionary<String, String> {
        var found = OrderedDictionary<String, String>()
        for line in try CmdModule.runSystem(["sysctl", "-a"], ctx).stdout.split(separator: "\n") {
            guard let separator = line.range(of: " = ") else { continue }
            found[String(line[..<separator.lowerBound])] = String(line[separator.upperBound...])
        }
        return found
    }

    /// `key = value` lines of a config file; nil when it cannot be read.
    static func configured(in file: String) -> OrderedDictionary<String, String>? {
        guard let text = try? FileOps.readText(file) else { return nil }
        var found = OrderedDictionary<String, String>()
        for raw in ASCIIText.linesKeepingEnds(text) {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            found[line[..<equals].trimmingCharacters(in: .whitespaces)] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return found
    }

    /// Salt reads `sysctl -n` with its messages: an unknown name answers its error text.
    static func value(of name: String, _ ctx: ExecutionContext) throws -> String {
        _ = try checked(name)
        let result = try CmdModule.runSystem(["sysctl", "-n", name], ctx)
        return (result.stdout + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func assign(_ name: String, _ value: String, _ ctx: ExecutionContext) throws -> (String, String) {
        let path = try checked(name)
        guard FileOps.exists("/proc/sys/" + path) else { throw BrineError(.execution, "sysctl \(name) does not exist") }
        let result = try CmdModule.runSystem(["sysctl", "-w", "\(name)=\(value)"], ctx)
        let out = result.stdout.trimmingCharacters(in: .newlines)
        let expected = try NSRegularExpression(pattern: "^\(NSRegularExpression.escapedPattern(for: name))\\s+=\\s+\(NSRegularExpression.escapedPattern(for: value))$")
        let matched = expected.firstMatch(in: out, range: NSRange(out.startIndex..., in: out)) != nil
        guard matched, !result.stderr.contains("Invalid argument"), let separator = out.range(of: " = ") else {
            let error = result.retcode != 0 && !result.stderr.isEmpty ? result.stderr : out
            throw BrineError(.execution, "sysctl -w failed: \(error.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return (String(out[..<separator.lowerBound]), String(out[separator.upperBound...]))
    }

    /// Salt's `_sanitize_sysctl_value`: runs of whitespace as one tab.
    static func sanitized(_ value: String) -> String {
        value.split(whereSeparator: \.isWhitespace).joined(separator: "\t")
    }

    /// Salt's persist: the line edited in place (or appended), the file
    /// rewritten whole, then the running value set.
    static func persist(_ name: String, _ value: String, config: String, _ ctx: ExecutionContext) throws -> String {
        _ = try checked(name)
        guard !value.contains("\n") else { throw BrineError(.execution, "sysctl value for \(name) must be one line") }
        if !FileOps.isFile(config) {
            try FileManager.default.createDirectory(atPath: (config as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write("#\n# Kernel sysctl configuration\n#\n", to: config, mode: 0o644)
        }
        guard let text = try? FileOps.readText(config) else { throw BrineError(.execution, "Could not read from file: \(config)") }
        var lines: [String] = []
        var edited = false
        for line in ASCIIText.linesKeepingEnds(text) {
            guard let equals = line.firstIndex(of: "=") else { lines.append(line); continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            if key.hasPrefix("#") || key != name { lines.append(line); continue }
            let current = line[line.index(after: equals)...].trimmingCharacters(in: .whitespacesAndNewlines)
            if sanitized(current) == sanitized(value) {
                guard sanitized(try self.value(of: name, ctx)) != sanitized(value) else { return "Already set" }
                _ = try assign(name, value, ctx)
                return "Updated"
            }
            lines.append("\(name) = \(value)\n")
            edited = true
        }
        if !edited { lines.append("\(name) = \(value)\n") }
        try AtomicFile.write(lines.joined(), to: config)
        _ = try assign(name, value, ctx)
        return "Updated"
    }
}
