import BrineCore
import Testing

@testable import BrineMaster

@Suite struct AccessControlTests {
    let acl = AccessControl(
        rules: [
            "fred": ["test.ping", "pkg.*"],
            "bob": [["web*": ["test.*", ["cmd.run": ["args": ["ls .*"], "kwargs": ["cwd": "/tmp"]]]]]],
            "ops%": [["G@os:Debian": ["state.*"]]],
        ],
        blacklist: ["users": ["mallory", "^guest.*$"], "modules": ["cmd.*", "test.echo"]],
        superUsers: ["root", "salt"])

    /// Targets are compound expressions over these grains.
    func matches(_ target: String, _ id: String) -> Bool {
        let grains: Value = ["id": .string(id), "os": id.hasPrefix("db") ? "CentOS" : "Debian"]
        return (try? Matcher(minionID: id, grains: grains, pillar: .emptyMap).compound(target)) ?? false
    }

    func check(_ user: String, groups: [String] = [], _ fun: String, _ args: [String] = [], on minions: [String]) -> AccessControl.Decision {
        acl.check(user: user, groups: groups, fun: fun, arguments: CallArguments.parse(args), minions: minions, matches: matches)
    }

    /// `token_expire`: a token works until its lifetime has passed, then
    /// never again (the clock is given, not waited for).
    @Test func tokensExpire() {
        let tokens = TokenStore(lifetime: 4)
        let session = tokens.issue(user: "fred", eauth: "file", acl: acl, now: 1000)
        #expect(session.expire == 1004)
        #expect(tokens.session(session.token, now: 1003.9)?.user == "fred")
        #expect(tokens.session(session.token, now: 1004) == nil)
        #expect(tokens.session(session.token, now: 1000) == nil, "an expired token is forgotten")
        #expect(tokens.session("not-issued", now: 1000) == nil)
    }

    @Test func usersGetWhatTheirListSays() {
        #expect(check("fred", "test.ping", on: ["web1", "db1"]) == .allowed)
        #expect(check("fred", "pkg.install", ["vim"], on: ["web1"]) == .allowed)
        #expect(check("fred", "state.apply", on: ["web1"]) == .denied("user fred may not run state.apply"))
        #expect(check("nobody", "test.ping", on: ["web1"]) == .denied("user nobody has no publisher_acl entry"))
    }

    @Test func targetsLimitWhichMinions() {
        #expect(check("bob", "test.version", on: ["web1", "web2"]) == .allowed)
        #expect(check("bob", "test.version", on: ["web1", "db1"]) == .denied("user bob may not run test.version on every targeted minion"))
        #expect(check("sue", groups: ["ops"], "state.apply", on: ["web1"]) == .allowed)
        #expect(check("sue", groups: ["ops"], "state.apply", on: ["db1"]) == .denied("user sue may not run state.apply on every targeted minion"))
        #expect(check("sue", groups: ["dev"], "state.apply", on: ["web1"]) == .denied("user sue has no publisher_acl entry"))
    }

    @Test func argumentsAreConstrained() {
        let bobCmd = AccessControl(rules: ["bob": [["web*": [["cmd.run": ["args": ["ls .*"], "kwargs": ["cwd": "/tmp"]]]]]]],
                                   blacklist: .emptyMap, superUsers: [])
        func run(_ args: [String]) -> AccessControl.Decision {
            bobCmd.check(user: "bob", groups: [], fun: "cmd.run", arguments: CallArguments.parse(args), minions: ["web1"], matches: matches)
        }
        #expect(run(["ls -la"]) == .allowed)
        #expect(run(["ls -la", "cwd=/tmp"]) == .allowed)
        #expect(run(["rm -rf /"]) != .allowed)
        #expect(run(["ls", "cwd=/etc"]) != .allowed)
        #expect(run(["ls", "runas=root"]) != .allowed)
        #expect(run(["ls", "extra"]) != .allowed)
    }

    /// Issue 15 (7): a rule on `args` guards the parameter however it is
    /// passed; before, `cmd=` by keyword slipped past a positional rule.
    @Test func rulesHoldForTheBoundParameter() {
        let positionalOnly = AccessControl(rules: ["bob": [["cmd.run": ["args": ["ls .*"]]]]], blacklist: .emptyMap, superUsers: [])
        func run(_ call: CallArguments) -> AccessControl.Decision {
            positionalOnly.check(user: "bob", groups: [], fun: "cmd.run", arguments: call, minions: ["web1"], matches: matches)
        }
        #expect(run(CallArguments(positional: ["ls -la"])) == .allowed)
        #expect(run(CallArguments(keyword: ["cmd": "ls -la"])) == .allowed)
        #expect(run(CallArguments(keyword: ["cmd": "id; ls"])) != .allowed)
        #expect(run(CallArguments(positional: ["ls -l"], keyword: ["cwd": "/tmp"])) == .allowed)
        // Regexes are whole-string matches: 'ls .*' does not allow 'rm -rf / ; ls x'.
        #expect(run(CallArguments(positional: ["rm -rf / ; ls x"])) != .allowed)
        let keywordRule = AccessControl(rules: ["bob": [["cmd.run": ["kwargs": ["cmd": "uptime"]]]]], blacklist: .emptyMap, superUsers: [])
        #expect(keywordRule.check(user: "bob", groups: [], fun: "cmd.run", arguments: CallArguments(positional: ["id"]), minions: ["w"],
                                  matches: matches) != .allowed)
        #expect(keywordRule.check(user: "bob", groups: [], fun: "cmd.run", arguments: CallArguments(positional: ["uptime"]), minions: ["w"],
                                  matches: matches) == .allowed)
    }

    @Test func blacklistsWinEvenForRoot() {
        #expect(check("root", "state.apply", on: ["db1"]) == .allowed)
        #expect(check("salt", "pkg.purge", on: ["db1"]) == .allowed)
        #expect(check("root", "cmd.run", ["id"], on: ["web1"]) == .denied("cmd.run is blacklisted (cmd.*)"))
        #expect(check("guest7", "test.ping", on: ["web1"]) == .denied("user guest7 is blacklisted (^guest.*$)"))
        #expect(check("mallory", "test.ping", on: ["web1"]) == .denied("user mallory is blacklisted (mallory)"))
    }
}
