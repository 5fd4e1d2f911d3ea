import BrineCore
import Foundation
import OrderedCollections

/// Salt's `git` execution module: the functions states and formulas call,
/// run with the `git` program (as `user` when given, `identity` as the SSH
/// key). A failing command raises Salt's "Command '…' failed: …" error.
public enum GitModule: ExecutionModule {
    public static let name = "git"

    static let identity: [Parameter] = [Parameter("user", default: .null), Parameter("identity", default: .null),
                                        Parameter("ignore_retcode", default: false)]
    static let asUser: [Parameter] = [Parameter("user", default: .null), Parameter("ignore_retcode", default: false)]

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("version", doc: "The installed git's version (versioninfo=True: as a list of numbers).",
                          [Parameter("versioninfo", default: false)]) { a, ctx in
            let text = try run(["--version"], cwd: nil, a, ctx).split(separator: " ").last.map(String.init) ?? ""
            guard a.bool("versioninfo") else { return .string(text) }
            return .list(text.split(separator: ".").compactMap { Int($0) }.map(Value.int))
        },
        ExecutionFunction("revision", doc: "The commit a rev points at in the repository at cwd.",
                          [Parameter("cwd"), Parameter("rev", default: "HEAD"), Parameter("short", default: false)] + asUser) { a, ctx in
            .string(try run(["rev-parse"] + (a.bool("short") ? ["--short"] : []) + [a.string("rev") ?? "HEAD"], cwd: cwd(a), a, ctx))
        },
        ExecutionFunction("current_branch", doc: "The branch checked out in the repository at cwd.", [Parameter("cwd")] + asUser) { a, ctx in
            .string(try run(["rev-parse", "--abbrev-ref", "HEAD"], cwd: cwd(a), a, ctx))
        },
        ExecutionFunction("rev_parse", doc: "git rev-parse of rev, with opts.",
                          [Parameter("cwd"), Parameter("rev", default: .null), Parameter("opts", default: "")] + asUser) { a, ctx in
            .string(try run(["rev-parse"] + options(a["opts"]) + (a.string("rev").map { [$0] } ?? []), cwd: cwd(a), a, ctx))
        },
        ExecutionFunction("describe", doc: "git describe of rev.", [Parameter("cwd"), Parameter("rev", default: "HEAD")] + asUser) { a, ctx in
            .string(try run(["describe", a.string("rev") ?? "HEAD"], cwd: cwd(a), a, ctx))
        },
        ExecutionFunction("clone", doc: "Clone url into cwd (or cwd/name).",
                          [Parameter("cwd"), Parameter("url", default: .null), Parameter("name", default: .null),
                           Parameter("opts", default: "")] + identity) { a, ctx in
            guard let url = a.string("url") else { throw BrineError(.arguments, "git.clone needs url") }
            let target = a.string("name").map { cwd(a) + "/" + $0 } ?? cwd(a)
            _ = try run(["clone"] + options(a["opts"]) + ["--", url, target], cwd: nil, a, ctx)
            return true
        },
        ExecutionFunction("init", doc: "Create a repository at cwd.",
                          [Parameter("cwd"), Parameter("bare", default: false), Parameter("opts", default: "")] + asUser) { a, ctx in
            .string(try run(["init"] + (a.bool("bare") ? ["--bare"] : []) + options(a["opts"]) + [cwd(a)], cwd: nil, a, ctx))
        },
        ExecutionFunction("fetch", doc: "Fetch from remote (refspecs, force).",
                          [Parameter("cwd"), Parameter("remote", default: .null), Parameter("force", default: false),
                           Parameter("refspecs", default: .null), Parameter("opts", default: "")] + identity) { a, ctx in
            var argv = ["fetch"] + (a.bool("force") ? ["--force"] : []) + options(a["opts"])
            if let remote = a.string("remote") { argv.append(remote) }
            argv += a.stringList("refspecs") ?? []
            return .string(try run(argv, cwd: cwd(a), a, ctx, mergeStderr: true))
        },
        ExecutionFunction("pull", doc: "git pull, with opts.", [Parameter("cwd"), Parameter("opts", default: "")] + identity) { a, ctx in
            .string(try run(["pull"] + options(a["opts"]), cwd: cwd(a), a, ctx, mergeStderr: true))
        },
        ExecutionFunction("checkout", doc: "Check out rev (force, opts).",
                          [Parameter("cwd"), Parameter("rev", default: .null), Parameter("force", default: false),
                           Parameter("opts", default: "")] + asUser) { a, ctx in
            let argv = ["checkout"] + (a.bool("force") ? ["--force"] : []) + options(a["opts"]) + (a.string("rev").map { [$0] } ?? [])
            return .string(try run(argv, cwd: cwd(a), a, ctx, mergeStderr: true))
        },
        ExecutionFunction("reset", doc: "git reset, with opts (for example --hard).", [Parameter("cwd"), Parameter("opts", default: "")] + asUser) {
            a, ctx in .string(try run(["reset"] + options(a["opts"]), cwd: cwd(a), a, ctx, mergeStderr: true))
        },
        ExecutionFunction("status", doc: "Changes in the work tree: modified, new, deleted and untracked files.",
                          [Parameter("cwd")] + asUser) { a, ctx in
            .map(status(try run(["status", "-z", "--porcelain"], cwd: cwd(a), a, ctx)))
        },
        ExecutionFunction("list_tags", doc: "The repository's tags.", [Parameter("cwd")] + asUser) { a, ctx in
            .list(try run(["tag"], cwd: cwd(a), a, ctx).split(separator: "\n").map { .string(String($0)) })
        },
        ExecutionFunction("list_branches", doc: "Local branches (remote=True: remote-tracking ones).",
                          [Parameter("cwd"), Parameter("remote", default: false)] + asUser) { a, ctx in
            let refs = a.bool("remote") ? "refs/remotes/" : "refs/heads/"
            let out = try run(["for-each-ref", "--format=%(refname:short)", refs], cwd: cwd(a), a, ctx)
            return .list(out.split(separator: "\n").map { .string(String($0)) })
        },
        ExecutionFunction("ls_remote", doc: "The refs a remote has, as {ref: commit} (ref: only that one).",
                          [Parameter("cwd", default: .null), Parameter("remote", default: "origin"), Parameter("ref", default: .null),
                           Parameter("opts", default: "")] + identity) { a, ctx in
            let argv = ["ls-remote"] + options(a["opts"]) + ["--", a.string("remote") ?? "origin"] + (a.string("ref").map { [$0] } ?? [])
            return .map(lsRemote(try run(argv, cwd: a.string("cwd"), a, ctx)).mapValues(Value.string))
        },
        ExecutionFunction("config_get", doc: "A config key's value (all=True: every value, as a list); None when unset.",
                          [Parameter("key"), Parameter("cwd", default: .null)] + asUser, kwargs: true) { a, ctx in
            let values = try configValues(a.string("key") ?? "", a, ctx)
            guard let values else { return .null }
            return a.extraKeywords["all"]?.asFlag == true ? .list(values.map(Value.string)) : .string(values.last ?? "")
        },
        ExecutionFunction("config_get_regexp", doc: "Keys matching a regex (and value_regex), as {key: [values]}.",
                          [Parameter("key"), Parameter("value_regex", default: .null), Parameter("cwd", default: .null)] + asUser,
                          kwargs: true) { a, ctx in
            .map(try configRegexp(a.string("key") ?? "", valueRegex: a.string("value_regex"), a, ctx)
                .mapValues { .list($0.map(Value.string)) })
        },
        ExecutionFunction("config_set", doc: "Set a config key to value, or to every value of multivar; returns the values now set.",
                          [Parameter("key"), Parameter("value", default: .null), Parameter("multivar", default: .null),
                           Parameter("cwd", default: .null)] + asUser, kwargs: true) { a, ctx in
            let key = a.string("key") ?? ""
            let values = a.stringList("multivar") ?? a.string("value").map { [$0] } ?? []
            guard !values.isEmpty else { throw BrineError(.arguments, "Either 'value' or 'multivar' is required") }
            try setConfig(key, values, a, ctx)
            return .list((try configValues(key, a, ctx) ?? []).map(Value.string))
        },
        ExecutionFunction("config_unset", doc: "Unset a config key (value_regex: only matching values; all=True: every value).",
                          [Parameter("key"), Parameter("value_regex", default: .null), Parameter("cwd", default: .null)] + asUser,
                          kwargs: true) { a, ctx in
            let all = a.extraKeywords["all"]?.asFlag == true
            let argv = ["config"] + (try scopeOption(a)) + [all ? "--unset-all" : "--unset", a.string("key") ?? ""]
                + (a.string("value_regex").map { [$0] } ?? [])
            _ = try run(argv, cwd: a.string("cwd"), a, ctx)
            return true
        },
    ]

    static func cwd(_ a: Arguments) -> String { a.string("cwd") ?? "" }

    /// Sets a config key to `values` (the first replaces every value, the
    /// others are added), in the repository at `cwd` or globally.
    static func setConfig(_ key: String, _ values: [String], _ a: Arguments, _ ctx: ExecutionContext) throws {
        let scope = try scopeOption(a)
        try run(["config"] + scope + ["--replace-all", key, values.first ?? ""], cwd: a.string("cwd"), a, ctx)
        for extra in values.dropFirst() { try run(["config"] + scope + ["--add", key, extra], cwd: a.string("cwd"), a, ctx) }
    }

    /// `opts` as Salt takes it: a string split as a shell would, or a list.
    static func options(_ value: Value) -> [String] {
        switch value {
        case .list(let l): return l.map(\.pythonString)
        case .string(let s): return (try? Shlex.split(s)) ?? []
        default: return []
        }
    }

    /// Runs git; a non-zero exit raises Salt's error unless `ignore_retcode`.
    @discardableResult
    static func run(_ argv: [String], cwd: String?, _ a: Arguments, _ ctx: ExecutionContext, mergeStderr: Bool = false,
                    allowFailure: Bool = false) throws -> String {
        try runAll(argv, cwd: cwd, a, ctx, mergeStderr: mergeStderr, allowFailure: allowFailure).stdout
    }

    static func runAll(_ argv: [String], cwd: String?, _ a: Arguments, _ ctx: ExecutionContext, mergeStderr: Bool = false,
                       allowFailure: Bool = false) throws -> ProcessResult {
        var options = Arguments()
        options.values["runas"] = a.values["user"] ?? .null
        options.values["cwd"] = cwd.map(Value.string) ?? .null
        options.values["output_loglevel"] = "quiet"
        options.values["ignore_retcode"] = true
        if let key = a.string("identity") {
            // Salt writes an ssh wrapper; git's own variable does the same job.
            options.values["env"] = ["GIT_SSH_COMMAND": .string("ssh -i \(Shlex.quote(key)) -o BatchMode=yes")]
        }
        options.values["env"] = .map((options.values["env"]?.mapValue ?? [:]).merging(["GIT_TERMINAL_PROMPT": "0"]) { a, _ in a })
        let result = try CmdModule.execute(options, ctx, mergeStderr: mergeStderr, failsCall: false, argv: ["git"] + argv)
        if result.retcode != 0 && !allowFailure && !a.bool("ignore_retcode") {
            let output = [result.stderr, result.stdout].filter { !$0.isEmpty }.joined(separator: "\n")
            throw BrineError(.execution, HTTPClient.redactBasicAuth("Command 'git \(argv.joined(separator: " "))' failed: \(output)"))
        }
        return result
    }

    /// `--global` when `global=True`, else the repository's (which needs cwd).
    static func scopeOption(_ a: Arguments) throws -> [String] {
        if a.extraKeywords["global"]?.asFlag == true { return ["--global"] }
        guard a.string("cwd") != nil else { throw BrineError(.arguments, "'cwd' argument required unless global=True") }
        return ["--local"]
    }

    static func configValues(_ key: String, _ a: Arguments, _ ctx: ExecutionContext) throws -> [String]? {
        let result = try runAll(["config"] + (try scopeOption(a)) + ["-z", "--get-all", key], cwd: a.string("cwd"), a, ctx,
                                allowFailure: true)
        guard result.retcode == 0 else { return nil }
        return result.stdout.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    static func configRegexp(_ key: String, valueRegex: String?, _ a: Arguments, _ ctx: ExecutionContext) throws
        -> OrderedDictionary<String, [String]>
    {
        let argv = ["config"] + (try scopeOption(a)) + ["-z", "--get-regexp", key] + (valueRegex.map { [$0] } ?? [])
        let result = try runAll(argv, cwd: a.string("cwd"), a, ctx, allowFailure: true)
        var found = OrderedDictionary<String, [String]>()
        guard result.retcode == 0 else { return found }
        for entry in result.stdout.split(separator: "\0") {
            let parts = entry.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            found[String(parts[0]), default: []].append(parts.count > 1 ? String(parts[1]) : "")
        }
        return found
    }

    /// `git ls-remote` lines: `sha<TAB>ref`.
    static func lsRemote(_ text: String) -> OrderedDictionary<String, String> {
        var refs = OrderedDictionary<String, String>()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { refs[String(parts[1])] = String(parts[0]) }
        }
        return refs
    }

    /// `git status -z --porcelain` as Salt's `git.status` groups it.
    static func status(_ text: String) -> OrderedDictionary<String, Value> {
        var groups: OrderedDictionary<String, [Value]> = ["modified": [], "new": [], "deleted": [], "untracked": []]
        var entries = text.split(separator: "\0").map(String.init)[...]
        while let entry = entries.popFirst(), entry.count > 3 {
            let code = entry.prefix(2), path = String(entry.dropFirst(3))
            if code.contains("R") || code.contains("C") { _ = entries.popFirst() }  // the original path follows
            switch true {
            case code == "??": groups["untracked", default: []].append(.string(path))
            case code.contains("A"): groups["new", default: []].append(.string(path))
            case code.contains("D"): groups["deleted", default: []].append(.string(path))
            default: groups["modified", default: []].append(.string(path))
            }
        }
        return groups.filter { !$0.value.isEmpty }.mapValues(Value.list)
    }
}
