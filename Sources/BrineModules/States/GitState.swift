import BrineCore
import Foundation
import OrderedCollections

/// Salt's `git` states: `latest` (a work tree kept at a remote's rev),
/// `cloned`, `config_set`, `config_unset`, with Salt's comments and
/// changes for the paths formulas take (clone, up-to-date, fast-forward,
/// hard reset, uncommitted changes, tag or commit checkouts).
public enum GitState: StateModule {
    public static let name = "git"

    public static let functions: [StateFunction] = [
        StateFunction("latest", doc: "Keep target at the remote's rev: clone, fetch and fast-forward (force_reset: hard reset).",
                      .optional("target", "branch", "user", "identity", "depth")
                          + [Parameter("rev", default: "HEAD"), Parameter("remote", default: "origin"),
                             Parameter("force_clone", default: false), Parameter("force_reset", default: false),
                             Parameter("fetch_tags", default: true)]) { call in
            var latest = Latest(call)
            return redacted(try latest.apply())
        },
        StateFunction("cloned", doc: "Make sure a clone of the repository exists at target (and is on branch, if given).",
                      .optional("target", "branch", "user", "identity")) { call in
            redacted(try cloned(call))
        },
        StateFunction("config_set", doc: "Set a git config key to value, or to the values of multivar (repo, or global: True).",
                      .optional("value", "multivar", "repo", "user")) { call in
            try configSet(call)
        },
        StateFunction("config_unset", doc: "Unset a git config key (value_regex, all) in repo or globally.",
                      .optional("value_regex", "repo", "user")) { call in
            try configUnset(call)
        },
    ]

    /// A return whose name, comment and changes show a URL's credentials
    /// as `<redacted>`, as Salt's do.
    static func redacted(_ result: StateResult) -> StateResult {
        var clean = result
        clean.comment = HTTPClient.redactBasicAuth(result.comment)
        clean.changes = result.changes.mapValues { $0.stringValue.map { .string(HTTPClient.redactBasicAuth($0)) } ?? $0 }
        return clean
    }

    /// Salt's `_format_comments`.
    static func format(_ comments: [String]) -> String {
        comments.joined(separator: ". ") + (comments.count > 1 ? "." : "")
    }

    static func short(_ sha: String?) -> String { String((sha ?? "").prefix(7)) }

    /// The arguments every git call of a state carries (user, identity).
    static func gitArguments(_ call: StateCall) -> Arguments {
        var a = Arguments()
        a.values["user"] = call["user"]
        a.values["identity"] = call["identity"]
        return a
    }

    // MARK: - latest

    struct Latest {
        let call: StateCall
        let url: String
        let target: String
        let rev: String
        let remote: String
        let git: Arguments
        var ret: StateResult
        var comments: [String] = []

        init(_ call: StateCall) {
            self.call = call
            url = call.name
            target = call.string("target") ?? ""
            rev = call.string("rev") ?? "HEAD"
            remote = call.string("remote") ?? "origin"
            git = gitArguments(call)
            ret = StateResult(name: call.name)
        }

        @discardableResult
        func git(_ argv: [String], cwd: String? = nil, allowFailure: Bool = false) throws -> ProcessResult {
            try GitModule.runAll(argv, cwd: cwd ?? target, git, call.context, allowFailure: allowFailure)
        }

        /// `force_reset: True` or `'remote-changes'`.
        var forceReset: Bool { call["force_reset"].isTruthy }

        mutating func apply() throws -> StateResult {
            guard !target.isEmpty else { return .failed(url, "'target' argument is required") }
            guard target.hasPrefix("/") else { return .failed(url, "'target' path must be absolute") }
            if !FileOps.exists(target) || isEmptyDirectory {
                return try clone()
            }
            guard FileOps.exists(target + "/.git") else {
                guard call.bool("force_clone") else {
                    return .failed(url, "Target '\(target)' exists, is non-empty and is not a git repository. Set the 'force_clone' "
                                   + "option to True to remove this directory's contents and proceed with cloning the remote repository")
                }
                if call.test {
                    return StateResult(name: url, result: nil, changes: ["forced clone": true, "new": .string("\(url) => \(target)")],
                                       comment: "Target directory \(target) exists. Since force_clone=True, the contents of \(target) would be deleted, and \(url) would be cloned into this directory.")
                }
                for entry in try FileManager.default.contentsOfDirectory(atPath: target) {
                    try FileManager.default.removeItem(atPath: target + "/" + entry)
                }
                ret.changes["forced clone"] = true
                return try clone()
            }
            return try update()
        }

        var isEmptyDirectory: Bool {
            FileOps.isDirectory(target) && ((try? FileManager.default.contentsOfDirectory(atPath: target))?.isEmpty ?? false)
        }

        mutating func clone() throws -> StateResult {
            ret.changes["new"] = .string("\(url) => \(target)")
            if call.test {
                ret.result = nil
                ret.comment = "Repository \(url) would be cloned to \(target)"
                return ret
            }
            var argv = ["clone", "--origin", remote]
            if let depth = call.arguments.int("depth") { argv += ["--depth", String(depth)] }
            if let branch = call.string("branch") { argv += ["--branch", branch] }
            let cloned = try git(argv + ["--", url, target], cwd: "/", allowFailure: true)
            guard cloned.retcode == 0 else {
                return .failed(url, "Clone failed: \(cloned.stderr.isEmpty ? cloned.stdout : cloned.stderr)")
            }
            comments.append("\(url) cloned to \(target)")
            if rev != "HEAD" && rev != call.string("branch") {
                let onBranch = try git(["rev-parse", "--verify", "--quiet", "refs/remotes/\(remote)/\(rev)"], allowFailure: true).retcode == 0
                let current = try git(["rev-parse", "--abbrev-ref", "HEAD"]).stdout
                if onBranch {
                    if current != rev {
                        try git(["checkout", "-q", "-B", rev, "\(remote)/\(rev)"])
                        comments.append("Branch '\(rev)' was checked out, tracking \(remote)/\(rev)")
                    }
                } else {
                    guard try git(["reset", "-q", "--hard", rev], allowFailure: true).retcode == 0 else {
                        return .failed(url, "No revision matching '\(rev)' exists in the remote repository")
                    }
                    comments.append("Repository was reset to \(rev) (\(short(try head())))")
                    if current != "HEAD" {
                        try git(["branch", "--unset-upstream"], allowFailure: true)
                        comments.append("Tracking branch was unset")
                    }
                }
            }
            ret.changes["revision"] = ["old": .null, "new": .string(try head() ?? "")]
            ret.comment = format(comments)
            return ret
        }

        func head() throws -> String? {
            let result = try git(["rev-parse", "HEAD"], allowFailure: true)
            return result.retcode == 0 ? result.stdout : nil
        }

        /// The commit `rev` names on the remote, and how Salt's comments
        /// refer to it (`remote HEAD (abc1234)`, `origin/main (abc1234)`,
        /// `v1 (abc1234)`, `abc1234`).
        func remoteRevision() throws -> (sha: String, location: String)? {
            if rev.count == 40, rev.allSatisfy(\.isHexDigit) { return (rev, short(rev)) }
            let refs = GitModule.lsRemote(try git(["ls-remote", "--", url]).stdout)
            if rev == "HEAD", let sha = refs["HEAD"] { return (sha, "remote HEAD (\(short(sha)))") }
            if let sha = refs["refs/heads/\(rev)"] { return (sha, "\(remote)/\(rev) (\(short(sha)))") }
            if let sha = refs["refs/tags/\(rev)^{}"] ?? refs["refs/tags/\(rev)"] { return (sha, "\(rev) (\(short(sha)))") }
            return nil
        }

        mutating func update() throws -> StateResult {
            let local = try head()
            let localBranch = try git(["rev-parse", "--abbrev-ref", "HEAD"], allowFailure: true).stdout
            let dirty = !(try git(["status", "--porcelain", "--untracked-files=no"]).stdout.isEmpty)
            guard let (remoteSha, location) = try remoteRevision() else {
                return .failed(url, "No revision matching '\(rev)' exists in the remote repository")
            }
            // The remote's URL follows `name`, as Salt's `git.remote_set` makes it.
            let configured = try git(["config", "--get", "remote.\(remote).url"], allowFailure: true)
            let currentURL = configured.retcode == 0 ? configured.stdout : nil
            if currentURL != url {
                let from = currentURL.map(HTTPClient.redactBasicAuth) ?? "None", to = HTTPClient.redactBasicAuth(url)
                if call.test {
                    guard remoteSha != local else {
                        return StateResult(name: url, comment: "Repository \(target) is up-to-date\n\nChanges that would be made: "
                                           + "Remote '\(remote)' would be changed from \(from) to \(to)")
                    }
                    return StateResult(name: url, result: nil, changes: ["revision": ["old": .string(local ?? ""), "new": .string(remoteSha)]],
                                       comment: format(["Remote '\(remote)' would be changed from \(from) to \(to)", "Remote would be fetched",
                                                        "Repository would be updated to \(short(remoteSha))"]))
                }
                if currentURL == nil {
                    try git(["remote", "add", remote, url])
                    comments.append("Remote '\(remote)' set to \(to)")
                    ret.changes["new"] = .string("\(url) => \(remote)")
                } else {
                    try git(["remote", "set-url", remote, url])
                    comments.append("Remote '\(remote)' changed from \(from) to \(to)")
                }
            }
            if remoteSha == local {
                ret.comment = "Repository \(target) is up-to-date" + (comments.isEmpty ? "" : "\n\nChanges made: " + format(comments))
                if dirty && !forceReset {
                    ret.comment += ", but with uncommitted changes. Set 'force_reset' to True to purge uncommitted changes."
                } else if dirty {
                    if call.test { return StateResult(name: url, result: nil, comment: "Uncommitted changes would be discarded") }
                    try git(["reset", "-q", "--hard", "HEAD"])
                    ret.changes["revision"] = ["old": .string(local ?? ""), "new": .string(remoteSha)]
                    ret.comment = "Uncommitted changes were discarded"
                }
                return ret
            }
            let known = try git(["cat-file", "-e", remoteSha + "^{commit}"], allowFailure: true).retcode == 0
            let fastForward = try local.map { try git(["merge-base", "--is-ancestor", $0, remoteSha], allowFailure: true).retcode == 0 } ?? true
            if dirty && !forceReset {
                return .failed(url, notFastForward(pre: local, post: remoteSha, localBranch: localBranch, dirty: true))
            }
            if known && !fastForward && !forceReset {
                return .failed(url, notFastForward(pre: local, post: remoteSha, localBranch: localBranch, dirty: false))
            }
            if call.test {
                ret.result = nil
                ret.changes["revision"] = ["old": .string(local ?? ""), "new": .string(remoteSha)]
                ret.comment = "Remote '\(remote)' would be fetched. Repository would be updated from \(short(local)) to \(short(remoteSha))."
                return ret
            }
            let tagsBefore = Set(try git(["tag"]).stdout.split(separator: "\n").map(String.init))
            let refsBefore = try git(["for-each-ref", "--format=%(objectname) %(refname)"]).stdout
            let tags = call.flag("fetch_tags", default: true) ? ["--tags"] : ["--no-tags"]
            let fetched = try git(["fetch"] + tags + ["--force", remote] + (call.arguments.int("depth").map { ["--depth", String($0)] } ?? []),
                                  allowFailure: true)
            guard fetched.retcode == 0 else {
                return .failed(url, "Fetch failed. Set 'force_fetch' to True to force the fetch if the failure was due to not being able to "
                               + "fast-forward. Output of the fetch command follows:\n\n\(fetched.stderr)")
            }
            if try git(["for-each-ref", "--format=%(objectname) %(refname)"]).stdout != refsBefore {
                comments.append("\(url) was fetched, resulting in updated refs")
            }
            if dirty {
                try git(["reset", "-q", "--hard", "HEAD"])
                comments.append("Uncommitted changes were discarded")
            }
            let canFastForward = try local.map { try git(["merge-base", "--is-ancestor", $0, remoteSha], allowFailure: true).retcode == 0 } ?? true
            if canFastForward {
                try git(["merge", "-q", "--ff-only", remoteSha])
                comments.append("Repository was fast-forwarded to \(location)")
            } else if forceReset {
                try git(["reset", "-q", "--hard", remoteSha])
                comments.append("Repository was hard-reset to \(location)")
                ret.changes["forced update"] = true
            } else {
                return .failed(url, notFastForward(pre: local, post: remoteSha, localBranch: localBranch, dirty: false)
                               + "\n\nChanges already made: " + format(comments))
            }
            let newTags = Set(try git(["tag"]).stdout.split(separator: "\n").map(String.init)).subtracting(tagsBefore)
            if !newTags.isEmpty && call.flag("fetch_tags", default: true) {
                ret.changes["new_tags"] = .string("{" + newTags.sorted().map { "'\($0)'" }.joined(separator: ", ") + "}")
            }
            ret.changes["revision"] = ["old": .string(local ?? ""), "new": .string(try head() ?? remoteSha)]
            ret.comment = format(comments)
            return ret
        }

        /// Salt's `_not_fast_forward` words.
        func notFastForward(pre: String?, post: String, localBranch: String, dirty: Bool) -> String {
            var branchNote = ""
            if call.string("branch") == nil && rev != "HEAD" && localBranch != rev {
                branchNote = " The desired rev (\(rev)) differs from the name of the local branch (\(localBranch)), if the desired rev is "
                    + "a branch name then a forced update could possibly be avoided by setting the 'branch' argument to '\(rev)' instead."
            }
            let span = dirty && pre != post ? "from \(short(pre)) to \(short(post))" : "to \(short(post))"
            let reason = dirty ? "there are uncommitted changes" : "this is not a fast-forward merge"
            return "Repository would be updated \(span), but \(reason). Set 'force_reset' to True\(dirty ? " (or 'remote-changes')" : "") "
                + "to force this update\(dirty ? " and discard these changes" : "").\(branchNote)"
        }
    }

    // MARK: - cloned

    static func cloned(_ call: StateCall) throws -> StateResult {
        let url = call.name
        guard let target = call.string("target") else { return .failed(url, "'target' argument is required") }
        guard target.hasPrefix("/") else { return .failed(url, "'target' path must be absolute") }
        let branch = call.string("branch")
        let git = gitArguments(call)
        let withBranch = branch.map { " with branch '\($0)'" } ?? ""
        guard FileOps.exists(target) else {
            var ret = StateResult(name: url, changes: ["new": .string("\(url) => \(target)")])
            if call.test {
                ret.result = nil
                ret.comment = "\(url) would be cloned to \(target)\(withBranch)"
                return ret
            }
            let result = try GitModule.runAll(["clone"] + (branch.map { ["--branch", $0] } ?? []) + ["--", url, target], cwd: "/", git,
                                              call.context, allowFailure: true)
            guard result.retcode == 0 else { return .failed(url, "Clone failed: \(result.stderr)") }
            ret.comment = "\(url) cloned to \(target)\(withBranch)"
            return ret
        }
        _ = try GitModule.runAll(["status", "--porcelain"], cwd: target, git, call.context)
        let current = try GitModule.runAll(["rev-parse", "--abbrev-ref", "HEAD"], cwd: target, git, call.context).stdout
        guard let branch, branch != current else {
            return StateResult(name: url, comment: "Repository already exists at \(target)\(branch.map { " and is checked out to branch '\($0)'" } ?? "")")
        }
        let change: OrderedDictionary<String, Value> = ["branch": ["old": .string(current), "new": .string(branch)]]
        if call.test { return StateResult(name: url, result: nil, changes: change, comment: "Branch would be changed to '\(branch)'") }
        let exists = try GitModule.runAll(["rev-parse", "--verify", "--quiet", branch], cwd: target, git, call.context, allowFailure: true).retcode == 0
        let argv = exists ? ["checkout", branch] : ["checkout", "-b", branch, "origin/" + branch]
        let result = try GitModule.runAll(argv, cwd: target, git, call.context, mergeStderr: true, allowFailure: true)
        guard result.retcode == 0 else { return .failed(url, "Failed to change branch to '\(branch)': \(result.stdout)") }
        return StateResult(name: url, changes: change, comment: "Branch changed to '\(branch)'")
    }

    // MARK: - config

    /// Salt's config states work on the repository or, with `global: True`,
    /// on the user's global config.
    static func configArguments(_ call: StateCall) -> (Arguments, isGlobal: Bool)? {
        var a = gitArguments(call)
        let isGlobal = call.arguments.extraKeywords["global"]?.asFlag ?? false
        a.extraKeywords["global"] = .bool(isGlobal)
        a.values["cwd"] = call["repo"]
        guard isGlobal || call.string("repo") != nil else { return nil }
        return (a, isGlobal)
    }

    static func configSet(_ call: StateCall) throws -> StateResult {
        let key = call.name
        if !call["value"].isNull && !call["multivar"].isNull { return .failed(key, "Only one of 'value' and 'multivar' is permitted") }
        guard let (a, isGlobal) = configArguments(call) else {
            return .failed(key, "Non-global config options require the 'repo' argument to be set")
        }
        guard !call["value"].isNull || !call["multivar"].isNull else { return .failed(key, "Either 'value' or 'multivar' is required") }
        let desired: [String], shown: String
        if let value = call.string("value") {
            (desired, shown) = ([value], "'\(value)'")
        } else {
            desired = call.arguments.stringList("multivar") ?? []
            shown = Value.list(desired.map(Value.string)).pythonRepr
        }
        let scope = isGlobal ? "Global key " : ""
        let before = try GitModule.configValues(key, a, call.context)
        if before == desired { return StateResult(name: key, comment: "\(scope)'\(key)' is already set to \(shown)") }
        let old: Value = before.map { .list($0.map(Value.string)) } ?? .null
        let verb = before == nil ? "added as" : "set to"
        if call.test {
            return StateResult(name: key, result: nil, changes: ["old": old, "new": .list(desired.map(Value.string))],
                               comment: "\(scope)'\(key)' would be \(verb) \(shown)")
        }
        do {
            try GitModule.setConfig(key, desired, a, call.context)
        } catch let error as BrineError {
            return .failed(key, "Failed to set \(isGlobal ? "global key " : "")'\(key)' to \(shown): \(error.message)")
        }
        let after = try GitModule.configValues(key, a, call.context)
        var ret = StateResult(name: key, comment: "\(scope)'\(key)' was \(verb) \(shown)")
        if after != before { ret.changes[key] = ["old": old, "new": after.map { .list($0.map(Value.string)) } ?? .null] }
        if after != desired { return .failed(key, "Failed to set \(isGlobal ? "global key " : "")'\(key)' to \(shown)") }
        return ret
    }

    static func configUnset(_ call: StateCall) throws -> StateResult {
        let key = call.name
        guard let (a, _) = configArguments(call) else {
            return .failed(key, "Non-global config options require the 'repo' argument to be set")
        }
        let all = call.arguments.extraKeywords["all"]?.asFlag ?? false
        var bare = Substring(key)  // Salt's name.lstrip('^').rstrip('$')
        while bare.first == "^" { bare = bare.dropFirst() }
        while bare.last == "$" { bare = bare.dropLast() }
        let pattern = "^" + bare + "$"
        let before = try GitModule.configRegexp(pattern, valueRegex: call.string("value_regex"), a, call.context)
        if before.isEmpty { return StateResult(name: key, comment: "No matching keys are set") }
        if !all {
            let greedy = before.filter { $0.value.count > 1 }.map { "\($0.key) (\($0.value.joined(separator: ", ")))" }
            if !greedy.isEmpty {
                return .failed(key, call.string("value_regex") != nil
                    ? "Multiple values are matched by value_regex for the following keys (set 'all' to True to force removal): \(greedy.joined(separator: "; "))"
                    : "Multivar(s) matched by the key expression (set 'all' to True to force removal): \(greedy.joined(separator: "; "))")
            }
        }
        let matched = OrderedDictionary(uniqueKeysWithValues: before.map { ($0.key, Value.list($0.value.map(Value.string))) })
        if call.test {
            return StateResult(name: key, result: nil, changes: matched, comment: "\(before.count) key(s) would have value(s) unset")
        }
        let everything = try GitModule.configRegexp(pattern, valueRegex: nil, a, call.context)
        let scopeOption = try GitModule.scopeOption(a)
        do {
            try GitModule.run(["config"] + scopeOption + [all ? "--unset-all" : "--unset", key] + (call.string("value_regex").map { [$0] } ?? []),
                              cwd: a.string("cwd"), a, call.context)
        } catch {
            return .failed(key, "Error(s) occurred unsetting values for the following keys (see the minion log for details): "
                           + before.keys.joined(separator: ", "))
        }
        let after = try GitModule.configRegexp(pattern, valueRegex: nil, a, call.context)
        var ret = StateResult(name: key, comment: "Value(s) successfully unset")
        for (name, values) in everything {
            let remaining = after[name] ?? []
            let unset = values.filter { !remaining.contains($0) }
            if !unset.isEmpty { ret.changes[name] = .list(unset.map(Value.string)) }
        }
        return ret
    }
}
