import BrineCore
import Foundation

/// Salt's `alternatives` execution module (Debian's update-alternatives):
/// what templates read and the `alternatives` states change.
public enum AlternativesModule: ExecutionModule {
    public static let name = "alternatives"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("show_current", doc: "Return the path the named alternative points at, or False.",
                          [Parameter("name")]) { a, _ in
            current(a.string("name") ?? "").map(Value.string) ?? false
        },
        ExecutionFunction("display", doc: "update-alternatives --display of the name (its error text when it has none).",
                          [Parameter("name")]) { a, ctx in
            let out = try run(["--display", a.string("name") ?? ""], ctx)
            return .string(out.retcode > 0 && !out.stderr.isEmpty ? out.stderr : out.stdout)
        },
        ExecutionFunction("show_link", doc: "The master link of the name (update-alternatives --query), or False.",
                          [Parameter("name")]) { a, ctx in
            let out = try run(["--query", a.string("name") ?? ""], ctx)
            guard !(out.retcode > 0 && !out.stderr.isEmpty) else { return false }
            let block = out.stdout.components(separatedBy: "\n\n").first ?? ""
            for line in block.split(separator: "\n") where line.hasPrefix("Link:") {
                return .string(line.dropFirst("Link:".count).trimmingCharacters(in: .whitespaces))
            }
            return false
        },
        ExecutionFunction("check_exists", doc: "Whether path is one of the name's alternatives.", [Parameter("name"), Parameter("path")]) { a, ctx in
            .bool(try exists(a.string("name") ?? "", path: a.string("path") ?? "", ctx))
        },
        ExecutionFunction("check_installed", doc: "Whether the name points at path now.", [Parameter("name"), Parameter("path")]) { a, _ in
            .bool(current(a.string("name") ?? "").map { $0 == a.string("path") } ?? false)
        },
        ExecutionFunction("install", doc: "update-alternatives --install link name path priority.",
                          [Parameter("name"), Parameter("link"), Parameter("path"), Parameter("priority")]) { a, ctx in
            let out = try run(["--install", a.string("link") ?? "", a.string("name") ?? "", a.string("path") ?? "", a.string("priority") ?? ""], ctx)
            return .string(out.retcode > 0 && !out.stderr.isEmpty ? out.stderr : out.stdout)
        },
        ExecutionFunction("remove", doc: "update-alternatives --remove name path.", [Parameter("name"), Parameter("path")]) { a, ctx in
            let out = try run(["--remove", a.string("name") ?? "", a.string("path") ?? ""], ctx)
            return .string(out.retcode > 0 ? out.stderr : out.stdout)
        },
        ExecutionFunction("auto", doc: "update-alternatives --auto name.", [Parameter("name")]) { a, ctx in
            let out = try run(["--auto", a.string("name") ?? ""], ctx)
            return .string(out.retcode > 0 ? out.stderr : out.stdout)
        },
        ExecutionFunction("set", doc: "update-alternatives --set name path.", [Parameter("name"), Parameter("path")]) { a, ctx in
            let out = try run(["--set", a.string("name") ?? "", a.string("path") ?? ""], ctx)
            return .string(out.retcode > 0 ? out.stderr : out.stdout)
        },
    ]

    /// Where /etc/alternatives/NAME points; nil when it does not exist.
    static func current(_ name: String) -> String? {
        guard !name.isEmpty, !name.contains("/") else { return nil }
        return try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/alternatives/" + name)
    }

    static func exists(_ name: String, path: String, _ ctx: ExecutionContext) throws -> Bool {
        let out = try run(["--display", name], ctx)
        guard !(out.retcode > 0 && !out.stderr.isEmpty) else { return false }
        return out.stdout.split(separator: "\n").contains { $0.hasPrefix(path) }
    }

    /// update-alternatives, its output right-stripped as Salt's cmd.run_all leaves it.
    static func run(_ arguments: [String], _ ctx: ExecutionContext) throws -> ProcessResult {
        var result = try ctx.runner.run(Command(["update-alternatives"] + arguments,
                                                environment: ["LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]))
        (result.stdout, result.stderr) = (CmdModule.rstrip(result.stdout), CmdModule.rstrip(result.stderr))
        return result
    }
}
