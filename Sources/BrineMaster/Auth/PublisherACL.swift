import BrineCore
import Foundation

/// Who may publish what, checked on the master (never on the minion), in
/// Salt's ACL syntax, shared by `publisher_acl` (local users, identified by
/// the unix socket's peer credentials) and `external_auth` (eauth users):
///
/// ```yaml
/// publisher_acl:
///   fred: [test.ping, 'pkg.*']            # any target
///   'dev%':                               # a group: the name ends with %
///     - 'web*':                           # only minions matching this target
///       - 'state.*'
///       - cmd.run:
///           args: ['ls .*']               # regexes, by position
///           kwargs: {cwd: /tmp}           # regexes, by name
/// publisher_acl_blacklist:
///   users: ['^(?!sudo_).*$']              # regexes
///   modules: ['cmd.*']
/// ```
///
/// root and the master's own user may publish anything not blacklisted.
/// A rule's function and target patterns are globs, or regexes when they
/// are not valid globs for the name (Salt accepts both).
public struct AccessControl: Sendable {
    public enum Decision: Equatable, Sendable {
        case allowed
        case denied(String)
    }

    /// user or `group%` → the entries of that user's list.
    let rules: [(String, [Value])]
    let blacklistUsers: [String]
    let blacklistModules: [String]
    /// Users who need no rule (root, the master's user); nil for eauth.
    let superUsers: Set<String>

    public init(rules: Value, blacklist: Value, superUsers: Set<String>) {
        self.rules = (rules.mapValue ?? [:]).map { ($0.key, $0.value.listValue ?? [$0.value]) }
        blacklistUsers = (blacklist["users"]?.listValue ?? []).map(\.pythonString)
        blacklistModules = (blacklist["modules"]?.listValue ?? []).map(\.pythonString)
        self.superUsers = superUsers
    }

    /// `publisher_acl`, `publisher_acl_blacklist` (or `client_acl_blacklist`).
    public static func publisher(_ opts: Config) -> AccessControl {
        let blacklist = (opts["publisher_acl_blacklist"]?.mapValue?.isEmpty == false ? opts["publisher_acl_blacklist"] : opts["client_acl_blacklist"]) ?? .emptyMap
        return AccessControl(rules: opts["publisher_acl"] ?? .emptyMap, blacklist: blacklist,
                             superUsers: ["root", opts.string("user") ?? CoreUser.name])
    }

    public var hasRules: Bool { !rules.isEmpty }

    /// Whether any rule names this user (or one of its groups).
    public func hasEntry(for user: String, groups: [String]) -> Bool {
        superUsers.contains(user) || rules.contains { key, _ in
            key.hasSuffix("%") ? groups.contains { Self.nameMatches(String(key.dropLast()), $0) } : Self.nameMatches(key, user)
        }
    }

    /// The rules as given (salt-api's `perms`).
    public var permissions: Value { .list(rules.flatMap(\.1)) }

    /// - Parameter matches: whether minion `id` matches a rule's target expression.
    public func check(user: String, groups: [String], fun: String, arguments: CallArguments, minions: [String],
                      matches: (String, String) -> Bool) -> Decision
    {
        if let pattern = blacklistUsers.first(where: { Self.regexMatches($0, user) }) {
            return .denied("user \(user) is blacklisted (\(pattern))")
        }
        if let pattern = blacklistModules.first(where: { Self.regexMatches($0, fun) }) {
            return .denied("\(fun) is blacklisted (\(pattern))")
        }
        if superUsers.contains(user) { return .allowed }
        let entries = rules.filter { key, _ in
            key.hasSuffix("%") ? groups.contains { Self.nameMatches(String(key.dropLast()), $0) } : Self.nameMatches(key, user)
        }.flatMap(\.1)
        guard !entries.isEmpty else { return .denied("user \(user) has no publisher_acl entry") }
        // Every targeted minion must be allowed this function by some entry.
        var refused: [String] = []
        for minion in minions where !entries.contains(where: { allows($0, fun: fun, arguments: arguments, minion: minion, matches: matches) }) {
            refused.append(minion)
        }
        if minions.isEmpty, !entries.contains(where: { allows($0, fun: fun, arguments: arguments, minion: nil, matches: matches) }) {
            return .denied("user \(user) may not run \(fun)")
        }
        guard refused.isEmpty else {
            return .denied("user \(user) may not run \(fun) on \(refused.sorted().joined(separator: ", "))")
        }
        return .allowed
    }

    /// One entry: a function pattern (any target), `{fun: {args, kwargs}}`,
    /// or `{target: [function entries]}`.
    func allows(_ entry: Value, fun: String, arguments: CallArguments, minion: String?, matches: (String, String) -> Bool) -> Bool {
        // `@wheel` (or `{'@wheel': [patterns]}`) grants key management.
        if fun.hasPrefix("key.") {
            if entry == "@wheel" { return true }
            if let patterns = entry.mapValue?["@wheel"] { return (patterns.listValue ?? [patterns]).contains { Self.nameMatches($0.pythonString, fun) } }
            if case .string = entry { return false }
        }
        switch entry {
        case .string(let pattern):
            return Self.nameMatches(pattern, fun)
        case .map(let map):
            for (key, value) in map {
                if Self.nameMatches(key, fun), value.mapValue?["args"] != nil || value.mapValue?["kwargs"] != nil || value.isNull {
                    if Self.argumentsAllowed(value, arguments) { return true }
                    continue
                }
                guard let minion, matches(key, minion) else { continue }
                for inner in value.listValue ?? [value] where allows(inner, fun: fun, arguments: arguments, minion: nil, matches: matches) {
                    return true
                }
            }
            return false
        default:
            return false
        }
    }

    /// `args`: regexes matched in order against positional arguments (more
    /// arguments than regexes is refused); `kwargs`: a regex per allowed
    /// keyword. A side that is not constrained is free.
    static func argumentsAllowed(_ spec: Value, _ arguments: CallArguments) -> Bool {
        if let allowed = spec["args"]?.listValue {
            guard arguments.positional.count <= allowed.count else { return false }
            for (i, arg) in arguments.positional.enumerated() where !regexMatches(allowed[i].pythonString, arg.pythonString) { return false }
        }
        if let allowed = spec["kwargs"]?.mapValue {
            for (key, value) in arguments.keyword {
                guard let pattern = allowed[key], regexMatches(pattern.pythonString, value.pythonString) else { return false }
            }
        }
        return true
    }

    /// A glob, or failing that a whole-string regex (Salt's match_check).
    static func nameMatches(_ pattern: String, _ name: String) -> Bool {
        Glob.match(name, pattern) || regexMatches(pattern, name)
    }

    static func regexMatches(_ pattern: String, _ text: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$") else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// The user on the other end of a unix socket, from its peer credentials.
public struct PeerUser: Sendable {
    public var uid: uid_t
    public var name: String
    public var groups: [String]

    public init(uid: uid_t, gid: gid_t) {
        self.uid = uid
        var name = "uid \(uid)"
        var groups: [String] = []
        if let entry = getpwuid(uid), let pwName = entry.pointee.pw_name {
            name = String(cString: pwName)
            var count: Int32 = 64
            var ids = [gid_t](repeating: 0, count: 64)
            if getgrouplist(pwName, gid, &ids, &count) >= 0 {
                for id in ids.prefix(Int(count)) { if let group = getgrgid(id), let n = group.pointee.gr_name { groups.append(String(cString: n)) } }
            }
        }
        self.name = name
        self.groups = groups
    }

    /// The groups of a named user (for eauth `group%` rules).
    public static func groups(of name: String) -> [String] {
        guard let entry = getpwnam(name) else { return [] }
        return PeerUser(uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid).groups
    }
}
