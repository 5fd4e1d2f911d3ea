import BrineCore
import Foundation

/// Salt's `cron` states: jobs and environment lines in a user's crontab,
/// kept in Salt's layout (see `CronModule`).
public enum CronState: StateModule {
    public static let name = "cron"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Make sure a job is in the user's crontab (minute…dayweek, or special: @daily…).",
                      [Parameter("user", default: "root")] + ["minute", "hour", "daymonth", "month", "dayweek"].map { Parameter($0, default: "*") }
                          + [Parameter("comment", default: .null), Parameter("commented", default: false),
                             Parameter("identifier", default: false), Parameter("special", default: .null)]) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Make sure a job is not in the user's crontab.",
                      [Parameter("user", default: "root"), Parameter("identifier", default: false), Parameter("special", default: .null)]) { call in
            try absent(call)
        },
        StateFunction("env_present", doc: "Make sure an environment line (NAME=value) is in the user's crontab.",
                      [Parameter("value", default: .null), Parameter("user", default: "root")]) { call in
            try envPresent(call)
        },
        StateFunction("file", doc: "The user's whole crontab is the file NAME (salt://, a path; template, context, defaults, source_hash), installed with crontab.",
                      [Parameter("user", default: "root"), Parameter("replace", default: true), Parameter("backup", default: "")]
                          + .optional("source_hash", "source_hash_name", "template", "context", "defaults")) { call in
            try CronFileState.file(call)
        },
        StateFunction("env_absent", doc: "Make sure an environment line is not in the user's crontab.", [Parameter("user", default: "root")]) { call in
            try envAbsent(call)
        },
    ]

    /// `identifier: False` (the default) means the command itself.
    static func identifier(_ call: StateCall, name: String) -> String? {
        if case .bool(false) = call["identifier"] { return name }
        return call.string("identifier")
    }

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name.trimmingCharacters(in: .whitespacesAndNewlines)
        let user = call.string("user") ?? "root"
        var wanted = CronEntry(spec: call.string("special"), cmd: name, identifier: identifier(call, name: name),
                               comment: call.string("comment"), commented: call.bool("commented"))
        if wanted.spec == nil { for key in CronEntry.timeKeys { wanted[key] = (call.string(key) ?? "*").lowercased() } }
        if call.test {
            switch try status(user, wanted, call.context) {
            case "absent": return StateResult(name: name, result: nil, comment: "Cron \(name) is set to be added")
            case "update": return StateResult(name: name, result: nil, comment: "Cron \(name) is set to be updated")
            default: return StateResult(name: name, comment: "Cron \(name) already present")
            }
        }
        switch try CronModule.setJob(user, wanted, call.context) {
        case "present": return StateResult(name: name, comment: "Cron \(name) already present")
        case "new": return StateResult(name: name, changes: [user: .string(name)], comment: "Cron \(name) added to \(user)'s crontab")
        case "updated": return StateResult(name: name, changes: [user: .string(name)], comment: "Cron \(name) updated")
        case let error: return .failed(name, "Cron \(name) for user \(user) failed to commit with error \n\(error)")
        }
    }

    /// Salt's `_check_cron`: absent, update or present, for test mode.
    static func status(_ user: String, _ wanted: CronEntry, _ ctx: ExecutionContext) throws -> String {
        let tab = try CronTab(try CronModule.raw(user, ctx))
        for entry in wanted.spec == nil ? tab.crons : tab.special
        where CronModule.matches(entry, cmd: wanted.cmd, identifier: wanted.identifier) {
            var changed = CronModule.needsChange(entry.identifier, wanted.identifier) || CronModule.needsChange(entry.cmd, wanted.cmd)
                || CronModule.needsChange(entry.comment, wanted.comment) || CronModule.needsChange(entry.commented, wanted.commented)
                || CronModule.needsChange(entry.spec, wanted.spec)
            for key in CronEntry.timeKeys { changed = changed || CronModule.needsChange(entry[key], wanted[key]) }
            return changed ? "update" : "present"
        }
        return "absent"
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name.trimmingCharacters(in: .whitespacesAndNewlines)
        let user = call.string("user") ?? "root"
        let id = identifier(call, name: name)
        if call.test {
            let tab = try CronTab(try CronModule.raw(user, call.context))
            let found = tab.crons.contains { CronModule.matches($0, cmd: name, identifier: id) }
            return found ? StateResult(name: name, result: nil, comment: "Cron \(name) is set to be removed")
                : StateResult(name: name, comment: "Cron \(name) is absent")
        }
        let special = call.string("special")
        switch try CronModule.removeJob(user, cmd: name, identifier: id, special: special.map { $0 }, call.context) {
        case "absent": return StateResult(name: name, comment: "Cron \(name) already absent")
        case "removed": return StateResult(name: name, changes: [user: .string(name)], comment: "Cron \(name) removed from \(user)'s crontab")
        case let error: return .failed(name, "Cron \(name) for user \(user) failed to commit with error \(error)")
        }
    }

    static func envPresent(_ call: StateCall) throws -> StateResult {
        let name = call.name, user = call.string("user") ?? "root", value = call.string("value")
        if call.test {
            let tab = try CronTab(try CronModule.raw(user, call.context))
            guard let found = tab.env.first(where: { $0.name == name }) else {
                return StateResult(name: name, result: nil, comment: "Cron env \(name) is set to be added")
            }
            return found.value == (value ?? "") ? StateResult(name: name, comment: "Cron env \(name) already present")
                : StateResult(name: name, result: nil, comment: "Cron env \(name) is set to be updated")
        }
        switch try CronModule.setEnvironment(user, name: name, value: value, call.context) {
        case "present": return StateResult(name: name, comment: "Cron env \(name) already present")
        case "new": return StateResult(name: name, changes: [user: .string(name)], comment: "Cron env \(name) added to \(user)'s crontab")
        case "updated": return StateResult(name: name, changes: [user: .string(name)], comment: "Cron env \(name) updated")
        case let error: return .failed(name, "Cron env \(name) for user \(user) failed to commit with error \n\(error)")
        }
    }

    static func envAbsent(_ call: StateCall) throws -> StateResult {
        let name = call.name.trimmingCharacters(in: .whitespacesAndNewlines), user = call.string("user") ?? "root"
        if call.test {
            let tab = try CronTab(try CronModule.raw(user, call.context))
            return tab.env.contains(where: { $0.name == name }) ? StateResult(name: name, result: nil, comment: "Cron env \(name) is set to be removed")
                : StateResult(name: name, comment: "Cron env \(name) is absent")
        }
        switch try CronModule.removeEnvironment(user, name: name, call.context) {
        case "absent": return StateResult(name: name, comment: "Cron env \(name) already absent")
        case "removed": return StateResult(name: name, changes: [user: .string(name)], comment: "Cron env \(name) removed from \(user)'s crontab")
        case let error: return .failed(name, "Cron env \(name) for user \(user) failed to commit with error \(error)")
        }
    }
}
