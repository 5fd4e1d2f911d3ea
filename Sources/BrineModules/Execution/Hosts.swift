import BrineCore
import Foundation
import OrderedCollections

/// Salt's `hosts` execution module: the hosts file (`hosts.file`, default
/// /etc/hosts) read and rewritten as Salt does it (`ip<TAB><TAB>aliases`,
/// an end-of-line `# comment` kept, comment lines kept in place).
public enum HostsModule: ExecutionModule {
    public static let name = "hosts"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("list_hosts", doc: "The hosts file: {ip: {aliases, comment}}, comment lines as comment-N.") { _, ctx in
            .map(try HostsFile.read(ctx).entries.mapValues(\.value))
        },
        ExecutionFunction("get_ip", doc: "The address an alias has, or ''.", [Parameter("host")]) { a, ctx in
            let host = a.string("host") ?? ""
            return .string(try HostsFile.read(ctx).entries.first { $0.value.aliases.contains(host) }?.key ?? "")
        },
        ExecutionFunction("get_alias", doc: "The aliases of an address.", [Parameter("ip")]) { a, ctx in
            .list((try HostsFile.read(ctx).entries[a.string("ip") ?? ""]?.aliases ?? []).map(Value.string))
        },
        ExecutionFunction("has_pair", doc: "Whether the address has the alias (or every alias of a list).", [Parameter("ip"), Parameter("alias")]) { a, ctx in
            guard let aliases = try HostsFile.read(ctx).entries[a.string("ip") ?? ""]?.aliases else { return false }
            if case .list(let wanted) = a["alias"] { return .bool(wanted.map(\.pythonString).allSatisfy(aliases.contains)) }
            return .bool(aliases.contains(a["alias"].pythonString))
        },
        ExecutionFunction("add_host", doc: "Add an alias to an address.", [Parameter("ip"), Parameter("alias")]) { a, ctx in
            var file = try HostsFile.read(ctx)
            let ip = a.string("ip") ?? "", alias = a.string("alias") ?? ""
            if file.entries[ip]?.aliases.contains(alias) == true { return true }
            file.entries[ip, default: HostsFile.Entry()].aliases.append(alias)
            try file.write()
            return true
        },
        ExecutionFunction("rm_host", doc: "Remove an alias from an address (the line when nothing is left).", [Parameter("ip"), Parameter("alias")]) { a, ctx in
            try HostsFile.removeAlias(ip: a.string("ip") ?? "", alias: a.string("alias") ?? "", ctx)
            return true
        },
        ExecutionFunction("set_host", doc: "Make alias (a space-separated list) the only names of an address.",
                          [Parameter("ip"), Parameter("alias"), Parameter("comment", default: .null)]) { a, ctx in
            try HostsFile.setHost(ip: a.string("ip") ?? "", alias: a.string("alias") ?? "", comment: a.string("comment"), ctx)
            return true
        },
        ExecutionFunction("set_comment", doc: "Set the end-of-line comment of an address.", [Parameter("ip"), Parameter("comment")]) { a, ctx in
            var file = try HostsFile.read(ctx)
            let ip = a.string("ip") ?? ""
            guard file.entries[ip] != nil else { return false }
            let comment = a.string("comment").flatMap { $0.isEmpty ? nil : $0 }  // Salt's `if comment:`
            if file.entries[ip]?.comment != comment {
                file.entries[ip]?.comment = comment
                try file.write()
            }
            return true
        },
    ]
}

/// The hosts file as Salt's `_list_hosts` reads it.
struct HostsFile {
    struct Entry {
        var aliases: [String] = []
        var comment: String?
        /// A whole comment line (Salt's `comment-N` entries).
        var line: String?

        var value: Value {
            if let line { return [.string(line)] }
            var map: OrderedDictionary<String, Value> = ["aliases": .list(aliases.map(Value.string))]
            if let comment { map["comment"] = .string(comment) }
            return .map(map)
        }
    }

    let path: String
    var entries = OrderedDictionary<String, Entry>()

    static func path(_ ctx: ExecutionContext) throws -> String {
        let configured = try ctx.call("config.option", [.string("hosts.file")])
        return configured.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/hosts"
    }

    static func read(_ ctx: ExecutionContext) throws -> HostsFile {
        var file = HostsFile(path: try path(ctx))
        guard FileOps.isFile(file.path) else { return file }
        var comments = 0
        for raw in try FileOps.readUniversalText(file.path).split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                file.entries["comment-\(comments)"] = Entry(line: line)
                comments += 1
                continue
            }
            let (words, comment) = hostLine(line)
            guard let ip = words.first else { continue }
            file.entries[ip, default: Entry()].aliases += words.dropFirst()
            if let comment, !comment.isEmpty { file.entries[ip]?.comment = comment }
        }
        return file
    }

    /// An address line's words (address, then aliases) and its end-of-line
    /// comment, as Salt splits it at the first `#`.
    static func hostLine(_ stripped: String) -> (words: [String], comment: String?) {
        var hostPart = Substring(stripped), comment: String?
        if let hash = stripped.firstIndex(of: "#") {
            hostPart = stripped[..<hash]
            comment = String(stripped[stripped.index(after: hash)...].drop(while: \.isWhitespace))
        }
        return (hostPart.split(whereSeparator: \.isWhitespace).map(String.init), comment)
    }

    /// Salt's `_write_hosts`: every entry on its line, blank lines gone.
    func write() throws {
        var out = ""
        for (ip, entry) in entries {
            let line = entry.line ?? (entry.comment.map { "\(ip)\t\t\(entry.aliases.joined(separator: " "))\t\t# \($0)" }
                ?? "\(ip)\t\t\(entry.aliases.joined(separator: " "))")
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty { out += trimmed + "\n" }
        }
        try HostsFile.store(out, path)
    }

    /// Through AtomicFile, which writes a bind-mounted /etc/hosts (a
    /// container's) in place.
    static func store(_ text: String, _ path: String) throws {
        try AtomicFile.write(text, to: path, mode: FileOps.exists(path) ? nil : 0o644)
    }

    /// Salt's `set_host`: the first line of the address replaced, later
    /// ones dropped, other lines untouched; appended when missing.
    static func setHost(ip: String, alias: String, comment: String?, _ ctx: ExecutionContext) throws {
        let path = try path(ctx)
        var lines = FileOps.isFile(path)
            ? try FileOps.readUniversalText(path).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) : []
        if lines.last == "" { lines.removeLast() }
        let replacement: String? = alias.trimmingCharacters(in: .whitespaces).isEmpty ? nil
            : comment.flatMap { $0.isEmpty ? nil : "\(ip)\t\t\(alias)\t\t# \($0)" } ?? "\(ip)\t\t\(alias)"
        var replaced = false
        lines = lines.compactMap { line in
            let words = line.trimmingCharacters(in: .whitespaces).split(whereSeparator: \.isWhitespace)
            guard let first = words.first, !first.hasPrefix("#"), first == ip else { return line }
            defer { replaced = true }
            return replaced ? nil : replacement  // nil: an empty alias removes the address
        }
        if !replaced, let replacement { lines.append(replacement) }
        try store(lines.map { $0 + "\n" }.joined(), path)
    }

    /// Salt's `rm_host`: the alias dropped from the address's lines (the
    /// line when no alias is left), an end-of-line comment kept.
    static func removeAlias(ip: String, alias: String, _ ctx: ExecutionContext) throws {
        guard try read(ctx).entries[ip]?.aliases.contains(alias) == true else { return }
        let path = try path(ctx)
        var lines = try FileOps.readUniversalText(path).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        lines = lines.compactMap { line in
            let stripped = line.trimmingCharacters(in: .whitespaces)
            guard !stripped.isEmpty, !stripped.hasPrefix("#") else { return line }
            let (words, comment) = hostLine(stripped)
            guard words.first == ip else { return line }
            let kept = words.dropFirst().filter { $0 != alias }
            if kept.isEmpty { return nil }
            return "\(ip)\t\t" + kept.map { $0 + " " }.joined() + (comment.map { "# " + $0 } ?? "")
        }
        try store(lines.map { $0 + "\n" }.joined(), path)
    }
}
