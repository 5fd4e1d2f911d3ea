import BrineCore
import Foundation

/// Salt's `service` module: systemd when it is PID 1, otherwise the
/// `service` command and init scripts (the usual case inside containers).
public enum ServiceModule: ExecutionModule {
    public static let name = "service"

    static func action(_ verb: String, _ doc: String) -> ExecutionFunction {
        ExecutionFunction(verb, doc: doc, [Parameter("name")], kwargs: true) { a, ctx in
            let result = try run(verb, a.string("name") ?? "", ctx)
            return .bool(result.retcode == 0)
        }
    }

    public static let functions: [ExecutionFunction] = [
        action("start", "Start the specified service; True on success."),
        action("stop", "Stop the specified service; True on success."),
        action("restart", "Restart the named service; True on success."),
        action("reload", "Reload the named service; True on success."),
        ExecutionFunction("status", doc: "Return True if the service is running (or, with sig, if a process matches sig).",
                          [Parameter("name"), Parameter("sig", default: .null)], kwargs: true) { a, ctx in
            .bool(try isRunning(a.string("name") ?? "", sig: a.string("sig"), ctx))
        },
        ExecutionFunction("enabled", doc: "Return True if the named service starts at boot.", [Parameter("name")], kwargs: true) { a, ctx in
            .bool(try isEnabled(a.string("name") ?? "", ctx))
        },
        ExecutionFunction("disabled", doc: "Return True if the named service does not start at boot.", [Parameter("name")], kwargs: true) { a, ctx in
            .bool(!(try isEnabled(a.string("name") ?? "", ctx)))
        },
        ExecutionFunction("enable", doc: "Enable the named service to start at boot.", [Parameter("name")], kwargs: true) { a, ctx in
            .bool(try setEnabled(a.string("name") ?? "", true, ctx))
        },
        ExecutionFunction("disable", doc: "Disable the named service from starting at boot.", [Parameter("name")], kwargs: true) { a, ctx in
            .bool(try setEnabled(a.string("name") ?? "", false, ctx))
        },
        ExecutionFunction("available", doc: "Return True if the named service is available.", [Parameter("name")]) { a, ctx in
            .bool(try available(a.string("name") ?? "", ctx))
        },
        ExecutionFunction("missing", doc: "Return True if the named service is not available.", [Parameter("name")]) { a, ctx in
            .bool(!(try available(a.string("name") ?? "", ctx)))
        },
        ExecutionFunction("get_all", doc: "Return a list of all available services.") { _, ctx in
            .list(try allServices(ctx).map(Value.string))
        },
        ExecutionFunction("masked", doc: "Return True if the unit is masked (runtime: masked until reboot).",
                          [Parameter("name"), Parameter("runtime", default: false)]) { a, ctx in
            .bool(try isMasked(a.string("name") ?? "", runtime: a.bool("runtime")))
        },
        ExecutionFunction("mask", doc: "Mask the unit so that nothing can start it.", [Parameter("name"), Parameter("runtime", default: false)]) { a, ctx in
            try setMasked(a.string("name") ?? "", true, runtime: a.bool("runtime"), ctx)
            return true
        },
        ExecutionFunction("unmask", doc: "Unmask the unit.", [Parameter("name"), Parameter("runtime", default: false)]) { a, ctx in
            try setMasked(a.string("name") ?? "", false, runtime: a.bool("runtime"), ctx)
            return true
        },
    ]

    /// Whether systemd manages services here (it is PID 1).
    public static var usesSystemd: Bool { FileManager.default.fileExists(atPath: "/run/systemd/system") }

    static func validate(_ name: String) throws(BrineError) {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("-") else {
            throw BrineError(.arguments, "invalid service name '\(name)'")
        }
    }

    static func run(_ verb: String, _ name: String, _ ctx: ExecutionContext) throws -> ProcessResult {
        try validate(name)
        if usesSystemd {
            return try ctx.runner.run(Command(["systemctl", verb, name], timeout: 300))
        }
        let script = "/etc/init.d/\(name)"
        if CmdModule.which("service") != nil {
            return try ctx.runner.run(Command(["service", name, verb], timeout: 300))
        }
        guard FileManager.default.isExecutableFile(atPath: script) else {
            throw BrineError(.execution, "The named service \(name) is not available")
        }
        return try ctx.runner.run(Command([script, verb], timeout: 300))
    }

    static func isRunning(_ name: String, sig: String?, _ ctx: ExecutionContext) throws -> Bool {
        if let sig {
            return try ctx.runner.run(Command(["pgrep", "-f", sig])).retcode == 0
        }
        try validate(name)
        if usesSystemd {
            return try ctx.runner.run(Command(["systemctl", "is-active", "--quiet", name])).retcode == 0
        }
        guard try available(name, ctx) else { return false }
        return try run("status", name, ctx).retcode == 0
    }

    static func isEnabled(_ name: String, _ ctx: ExecutionContext) throws -> Bool {
        try validate(name)
        if usesSystemd {
            return try ctx.runner.run(Command(["systemctl", "is-enabled", "--quiet", name])).retcode == 0
        }
        // sysvinit: a start link in one of the default runlevels.
        for level in ["2", "3", "4", "5", "S"] {
            let dir = "/etc/rc\(level).d"
            let links = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            if links.contains(where: { $0.hasPrefix("S") && $0.dropFirst(3) == Substring(name) }) { return true }
        }
        return false
    }

    static func setEnabled(_ name: String, _ enable: Bool, _ ctx: ExecutionContext) throws -> Bool {
        try validate(name)
        if usesSystemd {
            return try ctx.runner.run(Command(["systemctl", enable ? "enable" : "disable", name])).retcode == 0
        }
        let command = enable ? ["update-rc.d", name, "defaults"] : ["update-rc.d", name, "disable"]
        let result = try ctx.runner.run(Command(command))
        if enable && result.retcode == 0 {
            _ = try ctx.runner.run(Command(["update-rc.d", name, "enable"]))
        }
        return result.retcode == 0
    }

    static func available(_ name: String, _ ctx: ExecutionContext) throws -> Bool {
        try validate(name)
        if usesSystemd {
            let result = try ctx.runner.run(Command(["systemctl", "list-unit-files", "\(name).service", "--no-legend"]))
            if result.stdout.contains(name) { return true }
        }
        return FileManager.default.isExecutableFile(atPath: "/etc/init.d/\(name)")
    }

    static func allServices(_ ctx: ExecutionContext) throws -> [String] {
        var names = Set((try? FileManager.default.contentsOfDirectory(atPath: "/etc/init.d")) ?? [])
        names.subtract(["README", "rc", "rcS", "skeleton", ".depend.boot", ".depend.start", ".depend.stop"])
        if usesSystemd {
            let result = try ctx.runner.run(Command(["systemctl", "list-unit-files", "--type=service", "--no-legend"]))
            for line in result.stdout.split(separator: "\n") {
                if let unit = line.split(separator: " ").first, unit.hasSuffix(".service") {
                    names.insert(String(unit.dropLast(8)))
                }
            }
        }
        return names.sorted()
    }

    // MARK: Masking

    static let unitSuffixes = [".service", ".socket", ".device", ".mount", ".automount", ".swap", ".target", ".path", ".timer", ".slice", ".scope"]

    /// Salt's `_canonical_unit_name`: `.service` unless the name has a unit type.
    static func unitName(_ name: String) throws(BrineError) -> String {
        try validate(name)
        return unitSuffixes.contains(where: name.hasSuffix) ? name : name + ".service"
    }

    /// A mask is a link to /dev/null in /etc (or /run) /systemd/system, as
    /// Salt reads it; without a running systemd Brine makes that link itself,
    /// so an image built in a container starts masked when systemd boots it
    /// (Salt: "Service masking not available on this minion").
    static func maskLink(_ name: String, runtime: Bool) throws(BrineError) -> String {
        "\(runtime ? "/run" : "/etc")/systemd/system/\(try unitName(name))"
    }

    static func isMasked(_ name: String, runtime: Bool) throws(BrineError) -> Bool {
        let link = try maskLink(name, runtime: runtime)
        return (try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == "/dev/null"
    }

    static func setMasked(_ name: String, _ mask: Bool, runtime: Bool, _ ctx: ExecutionContext) throws {
        let unit = try unitName(name)
        if usesSystemd {
            let result = try CmdModule.runSystem(["systemctl", mask ? "mask" : "unmask"] + (runtime ? ["--runtime"] : []) + [unit], ctx)
            guard result.retcode == 0 else {
                throw BrineError(.execution, "Failed to \(mask ? "mask" : "unmask") service '\(name)': \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return
        }
        let link = try maskLink(name, runtime: runtime)
        if mask {
            // As systemctl: a unit file of the administrator's is never replaced by a mask.
            if FileOps.exists(link), try !isMasked(name, runtime: runtime) {
                throw BrineError(.execution, "Failed to mask service '\(name)': File \(link) already exists.")
            }
            try FileManager.default.createDirectory(atPath: (link as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileOps.replaceWithSymlink(link, to: "/dev/null")
        } else if try isMasked(name, runtime: runtime) {
            guard unlink(link) == 0 else { throw BrineError(.io, "cannot remove \(link): \(systemError(errno))") }
        }
    }
}
