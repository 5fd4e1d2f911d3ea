import BrineCore
import Foundation
import OrderedCollections

/// Salt's `aliases` execution module: mail aliases in `/etc/aliases` (the
/// `aliases.file` option), rewritten whole with the file's owner and mode,
/// then `newaliases` when the mail system has one.
public enum AliasesModule: ExecutionModule {
    public static let name = "aliases"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("list_aliases", doc: "Every alias and its target.") { _, ctx in
            .map(try aliases(ctx).mapValues(Value.string))
        },
        ExecutionFunction("get_target", doc: "The alias's target, or an empty string.", [Parameter("alias")]) { a, ctx in
            .string(try aliases(ctx)[a.string("alias") ?? ""] ?? "")
        },
        ExecutionFunction("has_target", doc: "Whether the alias points to target (a list: joined by ', ').",
                          [Parameter("alias"), Parameter("target")]) { a, ctx in
            .bool(try hasTarget(a.string("alias") ?? "", target(a["target"]), ctx))
        },
        ExecutionFunction("set_target", doc: "Point the alias at target, adding it when missing.", [Parameter("alias"), Parameter("target")]) { a, ctx in
            try setTarget(a.string("alias") ?? "", target(a["target"]), ctx)
            return true
        },
        ExecutionFunction("rm_alias", doc: "Remove the alias.", [Parameter("alias")]) { a, ctx in
            try remove(a.string("alias") ?? "", ctx)
            return true
        },
    ]

    /// One line of the file, as Salt's pattern splits it: alias, target,
    /// the comment after them; a line it cannot split is kept as a comment.
    struct Line {
        var alias: String
        var target: String
        var comment: String
    }

    static let pattern = try? NSRegularExpression(pattern: "^([^:#]*)\\s*:?\\s*([^#]*?)(\\s+#.*|$)")

    static func target(_ value: Value) -> String {
        value.listValue.map { $0.map(\.pythonString).joined(separator: ", ") } ?? value.pythonString
    }

    static func path(_ ctx: ExecutionContext) throws -> String {
        let configured = try ctx.call("config.option", ["aliases.file"]).stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/aliases"
        return FileOps.realPath(configured)
    }

    static func lines(_ ctx: ExecutionContext) throws -> [Line] {
        let file = try path(ctx)
        guard FileOps.isFile(file) else { return [] }
        return ASCIIText.linesKeepingEnds(try FileOps.readText(file)).map { line in
            parse(line.hasSuffix("\r\n") ? String(line.dropLast()) : line.hasSuffix("\n") ? String(line.dropLast()) : line)
        }
    }

    static func parse(_ line: String) -> Line {
        let ns = line as NSString
        guard let match = pattern?.firstMatch(in: line, range: NSRange(location: 0, length: ns.length)) else {
            return Line(alias: "", target: "", comment: line.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        func group(_ i: Int) -> String { match.range(at: i).location == NSNotFound ? "" : ns.substring(with: match.range(at: i)) }
        return Line(alias: group(1), target: group(2), comment: group(3))
    }

    static func aliases(_ ctx: ExecutionContext) throws -> OrderedDictionary<String, String> {
        var found = OrderedDictionary<String, String>()
        for line in try lines(ctx) where !line.alias.isEmpty { found[line.alias] = line.target }
        return found
    }

    static func hasTarget(_ alias: String, _ target: String, _ ctx: ExecutionContext) throws -> Bool {
        guard !target.isEmpty else { throw BrineError(.arguments, "target can not be an empty string") }
        return try aliases(ctx)[alias] == target
    }

    static func setTarget(_ alias: String, _ target: String, _ ctx: ExecutionContext) throws {
        guard !alias.isEmpty else { throw BrineError(.arguments, "alias can not be an empty string") }
        guard !target.isEmpty else { throw BrineError(.arguments, "target can not be an empty string") }
        guard !(alias + target).contains("\n"), !alias.contains(":") else {
            throw BrineError(.arguments, "an alias is one line, without ':'")
        }
        if try aliases(ctx)[alias] == target { return }
        var out: [Line] = []
        var replaced = false
        for line in try lines(ctx) {
            if line.alias == alias {
                if !replaced { out.append(Line(alias: alias, target: target, comment: line.comment)) }
                replaced = true
            } else {
                out.append(line)
            }
        }
        if !replaced { out.append(Line(alias: alias, target: target, comment: "")) }
        try write(out, ctx)
    }

    static func remove(_ alias: String, _ ctx: ExecutionContext) throws {
        guard try !(aliases(ctx)[alias] ?? "").isEmpty else { return }
        try write(try lines(ctx).filter { $0.alias != alias }, ctx)
    }

    /// The whole file again (temporary file + rename, the old owner and
    /// mode kept; 0644 root for a new one), then `newaliases`.
    static func write(_ lines: [Line], _ ctx: ExecutionContext) throws {
        let file = try path(ctx)
        let text = lines.map { !$0.alias.isEmpty && !$0.target.isEmpty ? "\($0.alias): \($0.target)\($0.comment)\n" : "\($0.comment)\n" }.joined()
        var info = stat()
        let exists = stat(file, &info) == 0
        try AtomicFile.write(text, to: file, mode: exists ? info.st_mode & 0o7777 : 0o644)
        if exists { _ = chown(file, info.st_uid, info.st_gid) }
        if let newaliases = CmdModule.which("newaliases") {
            _ = try CmdModule.runSystem([newaliases], ctx)
        }
    }
}
