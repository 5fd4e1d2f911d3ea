import BrineCore
import Foundation
import OrderedCollections

/// Salt's `user` states, through shadow's useradd/usermod/userdel.
public enum UserState: StateModule {
    public static let name = "user"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Ensure a user exists with the given uid, gid, groups, home, shell and password hash.",
                      .optional("uid", "gid", "groups", "optional_groups", "home", "shell", "password", "fullname")
                          + [Parameter("createhome", default: true), Parameter("system", default: false),
                             Parameter("remove_groups", default: true), Parameter("usergroup", default: .null)]) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Ensure a user does not exist.", [Parameter("purge", default: false), Parameter("force", default: false)]) { call in
            let name = call.name
            guard getpwnam(name) != nil else { return StateResult(name: name, comment: "User \(name) is not present") }
            if call.test { return StateResult(name: name, result: nil, comment: "User \(name) set for removal") }
            var argv = ["userdel"]
            if call.bool("purge") { argv.append("--remove") }
            if call.bool("force") { argv.append("--force") }
            let result = try call.context.runner.run(Command(argv + [name]))
            guard result.retcode == 0 else { return .failed(name, "Failed to remove user \(name): \(result.stderr)") }
            return StateResult(name: name, changes: [name: "removed"], comment: "Removed user \(name)")
        },
    ]

    struct Account {
        var uid: Int, gid: Int, home: String, shell: String, fullname: String, groups: [String]
    }

    static func lookup(_ name: String) -> Account? {
        guard let pw = getpwnam(name) else { return nil }
        let p = pw.pointee
        let gecos = String(cString: p.pw_gecos).split(separator: ",", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return Account(uid: Int(p.pw_uid), gid: Int(p.pw_gid), home: String(cString: p.pw_dir),
                       shell: String(cString: p.pw_shell), fullname: gecos, groups: groups(of: name, primary: p.pw_gid))
    }

    static func groups(of user: String, primary: gid_t) -> [String] {
        var result = [FileOps.groupName(primary)]
        let text = (try? String(contentsOfFile: "/etc/group", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4 else { continue }
            if fields[3].split(separator: ",").contains(Substring(user)), !result.contains(String(fields[0])) {
                result.append(String(fields[0]))
            }
        }
        return result.sorted()
    }

    static func info(_ name: String) -> Value {
        guard let a = lookup(name) else { return .emptyMap }
        return ["name": .string(name), "uid": .int(a.uid), "gid": .int(a.gid), "groups": .list(a.groups.map(Value.string)),
                "home": .string(a.home), "shell": .string(a.shell), "fullname": .string(a.fullname)]
    }

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let wantGroups = (call["groups"].listValue ?? (call["groups"].isNull ? [] : [call["groups"]])).map(\.pythonString)
            + (call["optional_groups"].listValue ?? []).map(\.pythonString).filter { getgrnam($0) != nil }
        for group in wantGroups where getgrnam(group) == nil {
            return .failed(name, "The following group(s) are not present: \(group)")
        }
        let gid = call["gid"].isNull ? nil : (call["gid"].intValue.map(String.init) ?? call.string("gid"))
        guard let existing = lookup(name) else {
            if call.test { return StateResult(name: name, result: nil, comment: "User \(name) set to be added") }
            var argv = ["useradd"]
            if let uid = call["uid"].intValue { argv += ["-u", String(uid)] }
            if let gid { argv += ["-g", gid] }
            if !wantGroups.isEmpty { argv += ["-G", wantGroups.joined(separator: ",")] }
            if let home = call.string("home") { argv += ["-d", home] }
            if let shell = call.string("shell") { argv += ["-s", shell] }
            if let fullname = call.string("fullname") { argv += ["-c", fullname] }
            if let password = call.string("password") { argv += ["-p", password] }
            if call.bool("system") { argv.append("-r") }
            argv.append(call.flag("createhome", default: true) ? "-m" : "-M")
            let result = try call.context.runner.run(Command(argv + [name]))
            guard result.retcode == 0 else { return .failed(name, "Failed to create new user \(name): \(result.stderr)") }
            return StateResult(name: name, changes: info(name).mapValue ?? [:], comment: "New user \(name) created")
        }
        var changes = OrderedDictionary<String, Value>()
        var argv = ["usermod"]
        if let uid = call["uid"].intValue, uid != existing.uid { changes["uid"] = .int(uid); argv += ["-u", String(uid)] }
        if let gid, let wanted = Int(gid) ?? FileOps.gid(gid).map(Int.init), wanted != existing.gid {
            changes["gid"] = .int(wanted); argv += ["-g", gid]
        }
        if let home = call.string("home"), home != existing.home { changes["home"] = .string(home); argv += ["-d", home] }
        if let shell = call.string("shell"), shell != existing.shell { changes["shell"] = .string(shell); argv += ["-s", shell] }
        if let fullname = call.string("fullname"), fullname != existing.fullname {
            changes["fullname"] = .string(fullname); argv += ["-c", fullname]
        }
        if !call["groups"].isNull || !call["optional_groups"].isNull {
            let primary = FileOps.groupName(gid_t(existing.gid))
            let current = Set(existing.groups).subtracting([primary])
            let target = Set(wantGroups).subtracting([primary])
            let desired = call.flag("remove_groups", default: true) ? target : target.union(current)
            if desired != current {
                changes["groups"] = .list(desired.sorted().map(Value.string))
                argv += ["-G", desired.sorted().joined(separator: ",")]
            }
        }
        if let password = call.string("password") {
            let shadow = (try? String(contentsOfFile: "/etc/shadow", encoding: .utf8)) ?? ""
            let currentHash = shadow.split(separator: "\n").first { $0.hasPrefix(name + ":") }?
                .split(separator: ":", omittingEmptySubsequences: false).dropFirst().first.map(String.init)
            if currentHash != password { changes["passwd"] = "XXX-REDACTED-XXX"; argv += ["-p", password] }
        }
        if changes.isEmpty { return StateResult(name: name, comment: "User \(name) is present and up to date") }
        if call.test {
            return StateResult(name: name, result: nil, changes: changes,
                               comment: "The following user attributes are set to be changed:\n" + changes.keys.joined(separator: "\n"))
        }
        let result = try call.context.runner.run(Command(argv + [name]))
        guard result.retcode == 0 else { return .failed(name, "Failed to update user \(name): \(result.stderr)") }
        return StateResult(name: name, changes: changes, comment: "Updated user \(name)")
    }
}
