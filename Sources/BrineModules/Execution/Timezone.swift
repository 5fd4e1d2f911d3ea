import BrineCore
import Foundation

/// Salt's `timezone` execution module for Debian: the zone in
/// `/etc/timezone` and the `/etc/localtime` link, the hardware clock in
/// `/etc/default/rcS` or `/etc/adjtime`; `timedatectl` when systemd runs.
///
/// Salt asks `timedatectl` whenever the program is installed, and fails
/// where systemd is not running (containers, image builds); Brine asks it
/// only when systemd is the running init.
public enum TimezoneModule: ExecutionModule {
    public static let name = "timezone"
    static let zoneinfo = "/usr/share/zoneinfo/"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("get_zone", doc: "The system's time zone name (e.g. America/Denver).") { _, ctx in
            .string(try zone(ctx))
        },
        ExecutionFunction("get_zonecode", doc: "The zone's abbreviation now (date +%Z).") { _, ctx in
            .string(try date("+%Z", ctx))
        },
        ExecutionFunction("get_offset", doc: "The zone's offset from UTC now (date +%z).") { _, ctx in
            .string(try date("+%z", ctx))
        },
        ExecutionFunction("zone_compare", doc: "Whether the system's zone is TIMEZONE.", [Parameter("timezone")]) { a, ctx in
            .bool(try compare(a.string("timezone") ?? "", ctx))
        },
        ExecutionFunction("set_zone", doc: "Link /etc/localtime to the zone and write /etc/timezone.", [Parameter("timezone")]) { a, ctx in
            try setZone(a.string("timezone") ?? "", ctx)
            return true
        },
        ExecutionFunction("get_hwclock", doc: "UTC or localtime: what the hardware clock keeps (None without one).") { _, ctx in
            try hardwareClock(ctx).map(Value.string) ?? .null
        },
        ExecutionFunction("set_hwclock", doc: "Keep the hardware clock in UTC or localtime.", [Parameter("clock")]) { a, ctx in
            .bool(try setHardwareClock(a.string("clock") ?? "", ctx))
        },
    ]

    static func timedatectl(_ arguments: [String], _ ctx: ExecutionContext) throws -> ProcessResult {
        let result = try CmdModule.runSystem(["timedatectl"] + arguments, ctx)
        guard result.retcode == 0 else {
            throw BrineError(.execution, "timedatectl failed: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return result
    }

    static var useTimedatectl: Bool { ServiceModule.usesSystemd && CmdModule.which("timedatectl") != nil }

    static func zone(_ ctx: ExecutionContext) throws -> String {
        if useTimedatectl {
            for line in try timedatectl([], ctx).stdout.split(separator: "\n") {
                let words = line.split(separator: " ", omittingEmptySubsequences: true)
                if let index = words.firstIndex(where: { $0.hasSuffix("zone:") }), index + 1 < words.count {
                    return String(words[index + 1])
                }
            }
            throw BrineError(.execution, "Failed to parse timedatectl output")
        }
        let file = "/etc/timezone"
        guard let text = try? FileOps.readText(file) else {
            throw BrineError(.execution, "Problem reading timezone file \(file): \(FileOps.exists(file) ? "Permission denied" : "No such file or directory")")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The zone's file, refused when the name would leave the zone directory.
    static func zoneFile(_ name: String) throws -> String {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, !name.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw BrineError(.execution, "Invalid time zone name '\(name)'", hint: "name a zone under /usr/share/zoneinfo, e.g. Europe/Paris")
        }
        return zoneinfo + name
    }

    static func compare(_ name: String, _ ctx: ExecutionContext) throws -> Bool {
        if let current = try? zone(ctx) { return current == name }
        // No /etc/timezone: compare /etc/localtime with the zone's file, byte for byte.
        let path = try zoneFile(name)
        guard let wanted = FileManager.default.contents(atPath: path) else {
            throw BrineError(.execution, "Can't find a local timezone \"\(name)\"")
        }
        guard let have = FileManager.default.contents(atPath: "/etc/localtime") else {
            throw BrineError(.execution, "Failed to read /etc/localtime to determine current timezone: No such file or directory")
        }
        return have == wanted
    }

    static func setZone(_ name: String, _ ctx: ExecutionContext) throws {
        let path = try zoneFile(name)
        if useTimedatectl, (try? timedatectl(["set-timezone", name], ctx)) != nil { return }
        guard FileOps.isFile(path) else {
            throw BrineError(.execution, "Zone does not exist: \(path)", hint: "install tzdata, or check the zone's name")
        }
        try FileOps.replaceWithSymlink("/etc/localtime", to: path)
        try AtomicFile.write(name.trimmingCharacters(in: .whitespacesAndNewlines) + "\n", to: "/etc/timezone", mode: 0o644)
    }

    static func hardwareClock(_ ctx: ExecutionContext) throws -> String? {
        if useTimedatectl {
            for line in try timedatectl([], ctx).stdout.split(separator: "\n") where line.lowercased().contains("rtc in local tz") {
                let answer = line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces).lowercased()
                return answer == "yes" ? "localtime" : "UTC"
            }
            throw BrineError(.execution, "Failed to parse timedatectl output")
        }
        // Debian's old way, then /etc/adjtime's last line, as Salt reads them.
        if let rcS = try? FileOps.readText("/etc/default/rcS") {
            for line in rcS.split(separator: "\n") where !line.drop(while: \.isWhitespace).hasPrefix("#") && line.contains("UTC=") {
                return line.split(separator: "=", omittingEmptySubsequences: false).last?.lowercased() == "yes" ? "UTC" : "localtime"
            }
        }
        if let adjtime = try? FileOps.readText("/etc/adjtime") {
            return adjtime.split(separator: "\n").last.map(String.init) ?? ""
        }
        if FileOps.exists("/dev/rtc") { throw BrineError(.execution, "Unable to get hwclock timezone from /etc/adjtime") }
        return nil
    }

    static func setHardwareClock(_ clock: String, _ ctx: ExecutionContext) throws -> Bool {
        if useTimedatectl {
            return (try? timedatectl(["set-local-rtc", clock == "localtime" ? "true" : "false"], ctx)) != nil
        }
        let path = try zoneFile(try zone(ctx))
        guard FileOps.isFile(path) else { throw BrineError(.execution, "Zone '\(path)' does not exist") }
        try FileOps.replaceWithSymlink("/etc/localtime", to: path)
        guard clock == "UTC" || clock == "localtime", let rcS = try? FileOps.readText("/etc/default/rcS") else { return true }
        let edited = rcS.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("UTC=") ? "UTC=\(clock == "UTC" ? "yes" : "no")" : String($0) }.joined(separator: "\n")
        if edited != rcS { try AtomicFile.write(edited, to: "/etc/default/rcS") }
        return true
    }

    static func date(_ format: String, _ ctx: ExecutionContext) throws -> String {
        try ctx.runner.run(Command(["date", format])).stdout.trimmingCharacters(in: .newlines)
    }
}
