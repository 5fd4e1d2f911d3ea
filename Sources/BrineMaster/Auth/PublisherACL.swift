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

    /// What the user may do with this call, worked out once: blacklists,
    /// super users, the user's entries and the arguments bound to the
    /// function's parameters. A publish then asks it per minion, without
    /// filtering the rules or matching argument regexes again.
    public func permission(user: String, groups: [String], fun: String, arguments: CallArguments) -> CallPermission {
        if let pattern = blacklistUsers.first(where: { Self.regexMatches($0, user) }) {
            return CallPermission(refusal: "user \(user) is blacklisted (\(pattern))")
        }
        if let pattern = blacklistModules.first(where: { Self.regexMatches($0, fun) }) {
            return CallPermission(refusal: "\(fun) is blacklisted (\(pattern))")
        }
        if superUsers.contains(user) { return CallPermission(scopes: [.anywhere]) }
        let entries = self.entries(user: user, groups: groups)
        guard !entries.isEmpty else { return CallPermission(refusal: "user \(user) has no publisher_acl entry") }
        let bound = bind(fun, arguments)
        let scopes = entries.flatMap { self.scopes(of: $0, fun: fun, arguments: bound) }
        guard !scopes.isEmpty else {
            return CallPermission(refusal: "user \(user) may not run \(fun)\(arguments == CallArguments() ? "" : " with these arguments")")
        }
        return CallPermission(scopes: scopes)
    }

    /// A right that is not a function: `@jobs` (everyone's jobs, returns and
    /// events), `@runner`, `@wheel`, as an entry of its own or a map key.
    public func grants(_ right: String, user: String, groups: [String]) -> Bool {
        if superUsers.contains(user) { return true }
        return entries(user: user, groups: groups).contains { entry in
            entry.stringValue == right || entry.mapValue?[right] != nil
        }
    }

    /// The permission, then every minion. A refusal never names minions:
    /// which minions exist, and which matched a pillar target, is not the
    /// caller's to learn.
    public func check(user: String, groups: [String], fun: String, arguments: CallArguments, minions: [String],
                      matches: (String, String) -> Bool) -> Decision
    {
        let permission = self.permission(user: user, groups: groups, fun: fun, arguments: arguments)
        if let refusal = permission.refusal { return .denied(refusal) }
        for minion in minions where !permission.allows(minion: minion, matches: matches) {
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

    /// Where one entry lets `fun` run with these arguments: a function
    /// pattern or `{fun: {args, kwargs}}` anywhere; `{target: [function
    /// entries]}` on the minions the target matches, when an inner entry
    /// allows the call.
    func scopes(of entry: Value, fun: String, arguments: BoundCall) -> [CallPermission.Scope] {
        // `@wheel` (or `{'@wheel': [patterns]}`) grants key management.
        if fun.hasPrefix("key.") {
            if entry == "@wheel" { return [.anywhere] }
            if let patterns = entry.mapValue?["@wheel"] {
                return (patterns.listValue ?? [patterns]).contains { Self.nameMatches($0.pythonString, fun) } ? [.anywhere] : []
            }
            if case .string = entry { return [] }
        }
        switch entry {
        case .string(let pattern):
            return Self.nameMatches(pattern, fun) ? [.anywhere] : []
        case .map(let map):
            var found: [CallPermission.Scope] = []
            for (key, value) in map {
                if Self.nameMatches(key, fun), value.mapValue?["args"] != nil || value.mapValue?["kwargs"] != nil || value.isNull {
                    if Self.argumentsAllowed(value, arguments) { found.append(.anywhere) }
                    continue
                }
                if (value.listValue ?? [value]).contains(where: { !scopes(of: $0, fun: fun, arguments: arguments).isEmpty }) {
                    found.append(.target(key))
                }
            }
            return found
        default:
            return []
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

/// One user's rights for one call (`AccessControl.permission`).
public struct CallPermission: Sendable {
    enum Scope: Sendable {
        case anywhere
        /// On minions this rule target matches.
        case target(String)
    }

    /// Why the call is refused before any minion is looked at; nil when some minion may run it.
    public let refusal: String?
    let scopes: [Scope]

    init(refusal: String) {
        self.refusal = refusal
        scopes = []
    }

    init(scopes: [Scope]) {
        refusal = nil
        self.scopes = scopes
    }

    /// Whether the call is allowed on every minion, whatever the target.
    public var isUnrestricted: Bool { scopes.contains { if case .anywhere = $0 { true } else { false } } }

    /// - Parameter matches: whether a rule's target expression matches the minion.
    public func allows(minion: String, matches: (String, String) -> Bool) -> Bool {
        scopes.contains { scope in
            switch scope {
            case .anywhere: true
            case .target(let target): matches(target, minion)
            }
        }
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
