import BrineCore
import Foundation
import OrderedCollections

/// Salt's `cron` execution module: a user's crontab read and written with
/// `crontab`, in Salt's layout (its "managed by Salt" marker line, then
/// environment lines, jobs with their `# comment SALT_CRON_IDENTIFIER:id`
/// lines, then `@special` jobs), so trees moving from Salt find their jobs.
public enum CronModule: ExecutionModule {
    public static let name = "cron"

    static let marker = "# Lines below here are managed by Salt, do not edit"
    static let identifierTag = "SALT_CRON_IDENTIFIER"
    static let noIdentifier = "NO ID SET"

    static let timeFields: [Parameter] = ["minute", "hour", "daymonth", "month", "dayweek"].map { Parameter($0, default: .null) }

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("raw_cron", doc: "The user's crontab as text.", [Parameter("user")]) { a, ctx in
            .string(try raw(a.string("user") ?? "root", ctx))
        },
        ExecutionFunction("list_tab", doc: "The user's crontab: pre, crons, special and env entries.", [Parameter("user")]) { a, ctx in
            try CronTab(try raw(a.string("user") ?? "root", ctx)).value
        },
        ExecutionFunction("ls", doc: "Same as cron.list_tab.", [Parameter("user")]) { a, ctx in
            try CronTab(try raw(a.string("user") ?? "root", ctx)).value
        },
        ExecutionFunction("set_job", doc: "Add or update a job: new, updated or present.",
                          [Parameter("user")] + timeFields + [Parameter("cmd"), Parameter("commented", default: false),
                                                               Parameter("comment", default: .null), Parameter("identifier", default: .null)]) { a, ctx in
            var entry = CronEntry(cmd: a.string("cmd") ?? "", identifier: a.string("identifier"), comment: a.string("comment"),
                                  commented: a.bool("commented"))
            for field in CronEntry.timeKeys { entry[field] = a.string(field).map { $0.lowercased() } ?? "*" }
            return .string(try setJob(a.string("user") ?? "root", entry, ctx))
        },
        ExecutionFunction("rm_job", doc: "Remove a job: removed or absent.",
                          [Parameter("user"), Parameter("cmd")] + timeFields + [Parameter("identifier", default: .null)]) { a, ctx in
            .string(try removeJob(a.string("user") ?? "root", cmd: a.string("cmd") ?? "", identifier: a.string("identifier"), ctx))
        },
        ExecutionFunction("set_special", doc: "Add or update an @special job: new, updated or present.",
                          [Parameter("user"), Parameter("special"), Parameter("cmd"), Parameter("commented", default: false),
                           Parameter("comment", default: .null), Parameter("identifier", default: .null)]) { a, ctx in
            let entry = CronEntry(spec: a.string("special"), cmd: a.string("cmd") ?? "", identifier: a.string("identifier"),
                                  comment: a.string("comment"), commented: a.bool("commented"))
            return .string(try setJob(a.string("user") ?? "root", entry, ctx))
        },
        ExecutionFunction("rm_special", doc: "Remove an @special job: removed or absent.",
                          [Parameter("user"), Parameter("cmd"), Parameter("special", default: .null), Parameter("identifier", default: .null)]) { a, ctx in
            .string(try removeJob(a.string("user") ?? "root", cmd: a.string("cmd") ?? "", identifier: a.string("identifier"),
                                  special: a.string("special") ?? "", ctx))
        },
        ExecutionFunction("set_env", doc: "Set an environment line: new, updated or present.",
                          [Parameter("user"), Parameter("name"), Parameter("value", default: .null)]) { a, ctx in
            .string(try setEnvironment(a.string("user") ?? "root", name: a.string("name") ?? "", value: a.string("value"), ctx))
        },
        ExecutionFunction("rm_env", doc: "Remove an environment line: removed or absent.", [Parameter("user"), Parameter("name")]) { a, ctx in
            .string(try removeEnvironment(a.string("user") ?? "root", name: a.string("name") ?? "", ctx))
        },
    ]

    // MARK: - The crontab

    static func raw(_ user: String, _ ctx: ExecutionContext) throws -> String {
        guard getpwnam(user) != nil else { throw BrineError(.execution, "User '\(user)' does not exist") }
        let result = try ctx.runner.run(Command(["crontab", "-u", user, "-l"], environment: ["LC_ALL": "C", "PATH": "/usr/bin:/bin"]))
        // Only "no crontab" means empty: any other failure must not be read as
        // an empty crontab, or the next write would erase the user's jobs.
        if result.retcode != 0 && !result.stderr.contains("no crontab for") {
            throw BrineError(.execution, "crontab -l for \(user) failed: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.first?.hasPrefix("# DO NOT EDIT THIS FILE - edit the master and reinstall.") == true { lines.removeFirst(min(3, lines.count)) }
        return lines.joined(separator: "\n")
    }

    /// Installs the crontab; nil when it worked, else crontab's error.
    static func write(_ user: String, _ tab: CronTab, _ ctx: ExecutionContext) throws -> String? {
        let result = try FileOps.withScratchFile(Array(tab.rendered.utf8)) { file in
            try ctx.runner.run(Command(["crontab", "-u", user, file]))
        }
        return result.retcode == 0 ? nil : result.stderr
    }

    /// Salt's `_cron_matched`: the same identifier, or (without one) the
    /// same command.
    static func matches(_ entry: CronEntry, cmd: String, identifier: String?) -> Bool {
        var stored = entry.identifier ?? noIdentifier
        let wanted = (identifier?.isEmpty ?? true) ? noIdentifier : identifier ?? noIdentifier
        if entry.cmd != cmd && stored == noIdentifier && wanted == noIdentifier { return false }
        if entry.cmd == cmd && stored == noIdentifier { stored = wanted }
        return wanted == stored
    }

    /// Salt's `_needs_change`: a new value given and different (`random`
    /// replaces only `*`).
    static func needsChange<T: Equatable>(_ old: T?, _ new: T?) -> Bool {
        guard old != new else { return false }
        if let text = new as? String, text == "random" { return (old as? String) == "*" }
        return new != nil
    }

    /// Salt's `set_job`/`set_special`.
    static func setJob(_ user: String, _ wanted: CronEntry, _ ctx: ExecutionContext, depth: Int = 0) throws -> String {
        var tab = try CronTab(try raw(user, ctx))
        let special = wanted.spec != nil
        for existing in tab.crons + tab.special where matches(existing, cmd: wanted.cmd, identifier: wanted.identifier) {
            let stored = existing.identifier ?? noIdentifier
            var changed = needsChange(existing.comment, wanted.comment) || needsChange(existing.commented, wanted.commented)
                || needsChange(wanted.identifier, stored) || needsChange(existing.spec, wanted.spec)
            for field in CronEntry.timeKeys { changed = changed || needsChange(existing[field], wanted[field]) }
            changed = changed || needsChange(existing.cmd, wanted.cmd)
            guard changed, depth == 0 else { return "present" }
            _ = try removeJob(user, cmd: wanted.cmd, identifier: stored, special: existing.spec == nil ? nil : "", ctx)
            var merged = wanted
            for field in CronEntry.timeKeys where !needsChange(existing[field], wanted[field]) { merged[field] = existing[field] }
            if !special, !needsChange(existing.spec, wanted.spec) { merged.spec = existing.spec }
            if !needsChange(existing.commented, wanted.commented) { merged.commented = existing.commented }
            if !needsChange(existing.comment, wanted.comment) { merged.comment = existing.comment }
            var identifier: String? = stored
            if !needsChange(existing.cmd, wanted.cmd), stored == noIdentifier {
                identifier = wanted.identifier ?? (existing.identifier == nil ? nil : stored)
            }
            if identifier == nil || !needsChange(identifier, wanted.identifier) { merged.identifier = identifier }
            let answer = try setJob(user, merged, ctx, depth: depth + 1)
            return answer == "new" ? "updated" : answer
        }
        if special { tab.special.append(wanted) } else { tab.crons.append(wanted) }
        return try write(user, tab, ctx) ?? "new"
    }

    /// Salt's `rm_job` (special nil) and `rm_special` ("" matches any spec).
    static func removeJob(_ user: String, cmd: String, identifier: String?, special: String? = nil, _ ctx: ExecutionContext) throws -> String {
        var tab = try CronTab(try raw(user, ctx))
        if let special {
            guard let index = tab.special.firstIndex(where: {
                matches($0, cmd: cmd, identifier: identifier) && (special.isEmpty || $0.spec == special)
            }) else { return try write(user, tab, ctx) ?? "absent" }
            tab.special.remove(at: index)
        } else {
            guard let index = tab.crons.firstIndex(where: { matches($0, cmd: cmd, identifier: identifier) }) else { return "absent" }
            tab.crons.remove(at: index)
        }
        return try write(user, tab, ctx) ?? "removed"
    }

    static func setEnvironment(_ user: String, name: String, value: String?, _ ctx: ExecutionContext) throws -> String {
        var tab = try CronTab(try raw(user, ctx))
        if let index = tab.env.firstIndex(where: { $0.name == name }) {
            if tab.env[index].value == (value ?? "") { return "present" }
            tab.env.remove(at: index)
            tab.env.append((name, value))
            return try write(user, tab, ctx) ?? "updated"
        }
        tab.env.append((name, value))
        return try write(user, tab, ctx) ?? "new"
    }

    static func removeEnvironment(_ user: String, name: String, _ ctx: ExecutionContext) throws -> String {
        var tab = try CronTab(try raw(user, ctx))
        guard let index = tab.env.lastIndex(where: { $0.name == name }) else { return try write(user, tab, ctx) ?? "absent" }
        tab.env.remove(at: index)
        return try write(user, tab, ctx) ?? "removed"
    }
}

/// One job: five time fields, or an `@special` spec.
struct CronEntry {
    static let timeKeys = ["minute", "hour", "daymonth", "month", "dayweek"]
    var times: [String: String] = [:]
    var spec: String?
    var cmd: String
    var identifier: String?
    var comment: String?
    var commented = false

    init(spec: String? = nil, cmd: String, identifier: String?, comment: String?, commented: Bool) {
        self.spec = spec
        self.cmd = cmd
        self.identifier = identifier
        self.comment = comment
        self.commented = commented
    }

    subscript(field: String) -> String? {
        get { times[field] }
        set { times[field] = newValue }
    }

    var value: Value {
        var map: OrderedDictionary<String, Value> = [:]
        if let spec { map["spec"] = .string(spec) } else { for key in Self.timeKeys { map[key] = .string(times[key] ?? "*") } }
        map["identifier"] = identifier.map(Value.string) ?? .null
        map["cmd"] = .string(cmd)
        map["comment"] = comment.map(Value.string) ?? .null
        map["commented"] = .bool(commented)
        return .map(map)
    }
}

/// Salt's `list_tab` structure and `_render_tab` layout.
struct CronTab {
    var pre: [String] = []
    var crons: [CronEntry] = []
    var special: [CronEntry] = []
    var env: [(name: String, value: String?)] = []

    init(_ text: String) throws {
        var managed = false
        var comment: String?, identifier: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line == CronModule.marker { managed = true; continue }
            guard managed else {
                pre.append(line)
                continue
            }
            var body = line, commented = false
            if body.hasPrefix("#DISABLED#") { body.removeFirst(10); commented = true }
            if body.hasPrefix("@") {
                let words = body.split(whereSeparator: \.isWhitespace).map(String.init)
                guard words.count >= 2 else { continue }
                special.append(CronEntry(spec: words[0], cmd: words.dropFirst().joined(separator: " "), identifier: identifier,
                                         comment: comment, commented: commented))
                (comment, identifier) = (nil, nil)
            } else if body.hasPrefix("#") {
                var text = String(body.drop { $0 == "#" || $0 == " " })
                if let range = text.range(of: CronModule.identifierTag) {
                    let after = text[range.upperBound...]
                    if after.count > 1 { identifier = String(after.dropFirst()) }
                    text = String(text[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
                }
                comment = comment.map { $0 + "\n" + text } ?? text
            } else if let eq = body.firstIndex(of: "="), eq > body.startIndex,
                      body.firstIndex(of: " ").map({ eq < $0 }) ?? true {
                env.append((String(body[..<eq]), String(body[body.index(after: eq)...])))
            } else {
                let words = body.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                guard words.count > 5 else { continue }
                var entry = CronEntry(cmd: words.dropFirst(5).joined(separator: " "), identifier: identifier, comment: comment,
                                      commented: commented)
                for (i, key) in CronEntry.timeKeys.enumerated() { entry[key] = words[i] }
                crons.append(entry)
                (comment, identifier) = (nil, nil)
            }
        }
        while pre.last == "" { pre.removeLast() }
    }

    var rendered: String {
        var out = pre.map { $0 + "\n" }
        if out.last != CronModule.marker + "\n" { out.append(CronModule.marker + "\n") }
        for (name, value) in env { out.append("\(name)=\((value ?? "").isEmpty ? "\"\"" : value ?? "")\n") }
        for entry in crons + special {
            if entry.comment != nil || entry.identifier != nil {
                var line = "#"
                if let comment = entry.comment, !comment.isEmpty {
                    let text = entry.spec == nil ? comment : comment.trimmingCharacters(in: .whitespacesAndNewlines)
                    line += " " + text.replacingOccurrences(of: "\n", with: "\n# ")
                }
                if let identifier = entry.identifier, !identifier.isEmpty { line += " \(CronModule.identifierTag):\(identifier)" }
                out.append(line + "\n")
            }
            let schedule = entry.spec ?? CronEntry.timeKeys.map { entry[$0] ?? "*" }.joined(separator: " ")
            out.append("\(entry.commented ? "#DISABLED#" : "")\(schedule) \(entry.cmd)\n")
        }
        return out.joined()
    }

    var value: Value {
        .map(["pre": .list(pre.map(Value.string)), "crons": .list(crons.map(\.value)), "special": .list(special.map(\.value)),
              "env": .list(env.map { .map(["name": .string($0.name), "value": .string($0.value ?? "")]) })])
    }
}
