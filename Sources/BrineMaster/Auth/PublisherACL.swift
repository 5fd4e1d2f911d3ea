import BrineCore
import BrineModules
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
    /// A function's parameter names in order, to bind arguments as the minion will.
    let signatures: @Sendable (String) -> [String]?

    public init(rules: Value, blacklist: Value, superUsers: Set<String>,
                signatures: @escaping @Sendable (String) -> [String]? = AccessControl.standardSignatures)
    {
        self.rules = (rules.mapValue ?? [:]).map { ($0.key, $0.value.listValue ?? [$0.value]) }
        blacklistUsers = (blacklist["users"]?.listValue ?? []).map(\.pythonString)
        blacklistModules = (blacklist["modules"]?.listValue ?? []).map(\.pythonString)
        self.superUsers = superUsers
        self.signatures = signatures
    }

    /// The parameters of Brine's execution functions (what a minion binds against).
    public static let standardSignatures: @Sendable (String) -> [String]? = { fun in
        (try? Loader.standard.function(fun))?.parameters.map(\.name)
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

    /// Step one, before any minion is looked at: blacklists, super users,
    /// and whether any of the user's entries allows `fun` with these
    /// arguments on some target. `.allowed` here means "go on and check
    /// each targeted minion with `allows`" (or nothing more for super users).
    public func precheck(user: String, groups: [String], fun: String, arguments: CallArguments) -> Decision {
        if let pattern = blacklistUsers.first(where: { Self.regexMatches($0, user) }) {
            return .denied("user \(user) is blacklisted (\(pattern))")
        }
        if let pattern = blacklistModules.first(where: { Self.regexMatches($0, fun) }) {
            return .denied("\(fun) is blacklisted (\(pattern))")
        }
        if superUsers.contains(user) { return .allowed }
        let entries = self.entries(user: user, groups: groups)
        guard !entries.isEmpty else { return .denied("user \(user) has no publisher_acl entry") }
        let bound = bind(fun, arguments)
        guard entries.contains(where: { allows($0, fun: fun, arguments: bound, minion: nil, matches: { _, _ in true }) }) else {
            return .denied("user \(user) may not run \(fun)\(arguments == CallArguments() ? "" : " with these arguments")")
        }
        return .allowed
    }

    /// A right that is not a function: `@jobs` (everyone's jobs, returns and
    /// events), `@runner`, `@wheel`, as an entry of its own or a map key.
    public func grants(_ right: String, user: String, groups: [String]) -> Bool {
        if superUsers.contains(user) { return true }
        return entries(user: user, groups: groups).contains { entry in
            entry.stringValue == right || entry.mapValue?[right] != nil
        }
    }

    /// Users whose every publish passing `precheck` is allowed, whatever the target.
    public func isUnrestricted(_ user: String) -> Bool { superUsers.contains(user) }

    /// Step two: whether the user may run `fun` on this minion.
    /// - Parameter matches: whether minion `id` matches a rule's target expression.
    public func allows(user: String, groups: [String], fun: String, arguments: CallArguments, minion: String,
                       matches: (String, String) -> Bool) -> Bool
    {
        if superUsers.contains(user) { return true }
        let bound = bind(fun, arguments)
        return entries(user: user, groups: groups).contains { allows($0, fun: fun, arguments: bound, minion: minion, matches: matches) }
    }

    /// Both steps. A refusal never names minions: which minions exist, and
    /// which matched a pillar target, is not the caller's to learn.
    public func check(user: String, groups: [String], fun: String, arguments: CallArguments, minions: [String],
                      matches: (String, String) -> Bool) -> Decision
    {
        let first = precheck(user: user, groups: groups, fun: fun, arguments: arguments)
        guard first == .allowed, !superUsers.contains(user) else { return first }
        for minion in minions where !allows(user: user, groups: groups, fun: fun, arguments: arguments, minion: minion, matches: matches) {
            return .denied("user \(user) may not run \(fun) on every targeted minion")
        }
        return .allowed
    }

    func entries(user: String, groups: [String]) -> [Value] {
        rules.filter { key, _ in
            key.hasSuffix("%") ? groups.contains { Self.nameMatches(String(key.dropLast()), $0) } : Self.nameMatches(key, user)
        }.flatMap(\.1)
    }

    /// The call's arguments bound to the function's parameters, as the
    /// minion will bind them: a rule on a parameter holds however the
    /// caller passes it (`cmd.run 'ls'` and `cmd.run cmd='id; ls'` both
    /// give `cmd`).
    func bind(_ fun: String, _ arguments: CallArguments) -> BoundCall {
        BoundCall(arguments: arguments, parameters: signatures(fun))
    }

    /// One entry: a function pattern (any target), `{fun: {args, kwargs}}`,
    /// or `{target: [function entries]}`. A nil `minion` asks whether the
    /// entry allows `fun` on some minion.
    func allows(_ entry: Value, fun: String, arguments: BoundCall, minion: String?, matches: (String, String) -> Bool) -> Bool {
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
                if let minion, !matches(key, minion) { continue }
                for inner in value.listValue ?? [value] where allows(inner, fun: fun, arguments: arguments, minion: nil, matches: { _, _ in true }) {
                    return true
                }
            }
            return false
        default:
            return false
        }
    }

    /// `args`: regexes (whole-string) by position, `kwargs`: a regex per
    /// parameter name. Checked against the bound call: the value of the
    /// parameter at position i must match `args[i]` whether it was given by
    /// position or by name; a positional argument beyond `args` is refused;
    /// a keyword must match its `kwargs` pattern, and when `kwargs` is given
    /// a keyword it does not list is refused unless `args` already guards
    /// that parameter. A side that is not given constrains nothing it does
    /// not guard.
    static func argumentsAllowed(_ spec: Value, _ call: BoundCall) -> Bool {
        let positionalRules = spec["args"]?.listValue
        let keywordRules = spec["kwargs"]?.mapValue
        let names = call.parameters ?? []
        for (i, arg) in call.arguments.positional.enumerated() {
            if let positionalRules {
                guard i < positionalRules.count, regexMatches(positionalRules[i].pythonString, arg.pythonString) else { return false }
            }
            if let keywordRules, i < names.count, let pattern = keywordRules[names[i]],
                !regexMatches(pattern.pythonString, arg.pythonString)
            {
                return false
            }
        }
        for (key, value) in call.arguments.keyword {
            var guarded = false
            if let positionalRules, let position = names.firstIndex(of: key), position < positionalRules.count {
                guard regexMatches(positionalRules[position].pythonString, value.pythonString) else { return false }
                guarded = true
            }
            if let keywordRules {
                if let pattern = keywordRules[key] {
                    guard regexMatches(pattern.pythonString, value.pythonString) else { return false }
                } else if !guarded {
                    return false
                }
            }
        }
        return true
    }

    /// A glob, or failing that a whole-string regex (Salt's match_check).
    static func nameMatches(_ pattern: String, _ name: String) -> Bool {
        Glob.match(name, pattern) || regexMatches(pattern, name)
    }

    /// Whole-string match within a deadline: rules are the admin's, the text is the caller's.
    static func regexMatches(_ pattern: String, _ text: String) -> Bool {
        guard let regex = try? BoundedRegex(pattern, wholeString: true) else { return false }
        return (try? regex.matches(text, deadline: .now + .milliseconds(200))) ?? false
    }
}

/// A call's arguments with the names of the function's parameters, in order
/// (nil when the master does not know the function: then only what was
/// given by name has a name).
struct BoundCall {
    let arguments: CallArguments
    let parameters: [String]?
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
