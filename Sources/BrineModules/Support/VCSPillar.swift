import BrineCore
import Foundation

/// `ext_pillar` sources `git` and `hg`: a repository whose branches are
/// pillar environments, each holding a `top.sls` and pillar SLS files.
/// Repositories are mirrored under `cachedir/pillar_vcs/` and each branch
/// is exported to a plain directory that the pillar compiler reads as a
/// `pillar_roots` tree. Nothing is fetched again until a refresh
/// (`saltutil.refresh_pillar`, or the master starting).
///
/// ```yaml
/// ext_pillar:
///   - git:
///     - master /srv/pillar.git            # master (or main) → base
///     - dev file:///srv/pillar.git:       # options as a list of maps
///       - env: staging
///       - root: pillar                    # a subdirectory of the repository
///     - __env__ /srv/other.git            # every branch, as the environment of its name
///   - hg: /srv/pillar-hg                  # branch default → base
/// ```
public struct VCSPillar: Sendable, Equatable {
    public enum Kind: String, Sendable { case git, hg }

    public var kind: Kind
    public var url: String
    /// nil: every branch (`__env__`).
    public var branch: String?
    public var env: String?
    public var root: String?

    /// The sources of `ext_pillar`, in order; other ext_pillar kinds are skipped.
    public static func sources(_ config: Config) throws(BrineError) -> [VCSPillar] {
        var sources: [VCSPillar] = []
        for entry in config["ext_pillar"]?.listValue ?? [] {
            guard let map = entry.mapValue else { continue }
            for (name, spec) in map {
                guard let kind = Kind(rawValue: name) else { continue }
                sources += try parse(kind, spec)
            }
        }
        return sources
    }

    static func parse(_ kind: Kind, _ spec: Value) throws(BrineError) -> [VCSPillar] {
        switch spec {
        case .string(let line): return [try parseLine(kind, line, options: [])]
        case .list(let items):
            var out: [VCSPillar] = []
            for item in items {
                switch item {
                case .string(let line): out.append(try parseLine(kind, line, options: []))
                case .map(let map): for (line, options) in map { out.append(try parseLine(kind, line, options: options.listValue ?? [options])) }
                default: throw BrineError(.config, "ext_pillar \(kind.rawValue): '\(item.pythonString)' is not 'BRANCH URL'")
                }
            }
            return out
        case .map(let map) where map["repo"] != nil:
            return [VCSPillar(kind: kind, url: map["repo"]?.pythonString ?? "", branch: map["branch"]?.stringValue ?? defaultBranch(kind),
                              env: map["env"]?.stringValue, root: map["root"]?.stringValue)]
        default:
            throw BrineError(.config, "ext_pillar \(kind.rawValue) must be 'BRANCH URL', a list of them, or {repo: URL, branch: …}")
        }
    }

    /// `BRANCH URL` (or just `URL`: the default branch).
    static func parseLine(_ kind: Kind, _ line: String, options: [Value]) throws(BrineError) -> VCSPillar {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard (1...2).contains(words.count) else { throw BrineError(.config, "ext_pillar \(kind.rawValue): '\(line)' is not 'BRANCH URL'") }
        var source = VCSPillar(kind: kind, url: words.last ?? "", branch: words.count == 2 ? words[0] : defaultBranch(kind))
        if source.branch == "__env__" { source.branch = nil }
        for option in options {
            if let env = option["env"]?.stringValue { source.env = env }
            if let root = option["root"]?.stringValue { source.root = root }
        }
        return source
    }

    static func defaultBranch(_ kind: Kind) -> String { kind == .git ? "master" : "default" }

    /// A branch's environment: the configured `env`, else base for the
    /// default branch (master, main; hg's default), else the branch's name.
    func environment(of branch: String) -> String {
        if let env, self.branch != nil { return env }
        return ["master", "main", "default"].contains(branch) ? "base" : branch
    }

    // MARK: Fetching

    func directory(_ config: Config) -> String {
        // One mirror per source line: two branches of one repository are two sources.
        let digest = (try? Hashing.hexDigest(Array((kind.rawValue + " " + (branch ?? "__env__") + " " + url).utf8))) ?? url
        return (config.string("cachedir") ?? "/var/cache/brine/minion") + "/pillar_vcs/\(kind.rawValue)-\(digest.prefix(16))"
    }

    /// (environment, directory) for each exported branch; fetches first when
    /// nothing was exported yet or when `refresh` says so.
    public func trees(_ config: Config, refresh: Bool) throws(BrineError) -> [(env: String, dir: String)] {
        let base = directory(config)
        if refresh || !FileManager.default.fileExists(atPath: base + "/exported") { try fetch(into: base) }
        let exported = (try? FileManager.default.contentsOfDirectory(atPath: base + "/exported")) ?? []
        return exported.sorted().map { name in
            let branch = String(name.removingPercentEncoding ?? name)
            let dir = base + "/exported/" + name + (root.map { "/" + $0 } ?? "")
            return (environment(of: branch), dir)
        }
    }

    func run(_ arguments: [String], _ what: String) throws(BrineError) -> String {
        let result = try ProcessRunner.runBlocking(Command(arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": "/tmp", "HGPLAIN": "1",
                                                                                      "GIT_TERMINAL_PROMPT": "0"], timeout: 300))
        guard result.retcode == 0 else {
            throw BrineError(.execution, "ext_pillar \(kind.rawValue) \(url): \(what) failed: \((result.stderr + result.stdout).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return result.stdout
    }

    /// Mirrors the repository, then exports the branches into a new
    /// directory that replaces the old one (readers never see half a tree).
    func fetch(into base: String) throws(BrineError) {
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let mirror = base + "/repo"
        var branches: [String]
        switch kind {
        case .git:
            if FileManager.default.fileExists(atPath: mirror) {
                _ = try run(["git", "--git-dir", mirror, "fetch", "--prune", "--force", "origin", "+refs/heads/*:refs/heads/*"], "git fetch")
            } else {
                _ = try run(["git", "clone", "--quiet", "--mirror", url, mirror], "git clone")
            }
            branches = try run(["git", "--git-dir", mirror, "for-each-ref", "--format=%(refname:short)", "refs/heads"], "listing branches")
                .split(separator: "\n").map(String.init)
        case .hg:
            if FileManager.default.fileExists(atPath: mirror) {
                _ = try run(["hg", "--repository", mirror, "pull", "--quiet"], "hg pull")
            } else {
                _ = try run(["hg", "clone", "--quiet", "--noupdate", url, mirror], "hg clone")
            }
            branches = try run(["hg", "--repository", mirror, "branches", "--template", "{branch}\\n"], "listing branches")
                .split(separator: "\n").map(String.init)
        }
        if let branch { branches = branches.filter { $0 == branch } }
        let staging = base + "/exported.new"
        try? FileManager.default.removeItem(atPath: staging)
        try? FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        for name in branches {
            let target = staging + "/" + (name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name)
            switch kind {
            case .git:
                try? FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
                _ = try run(["sh", "-c", "git --git-dir \"$1\" archive \"$2\" | tar -x -C \"$3\"", "export", mirror, "refs/heads/" + name, target],
                            "exporting \(name)")
            case .hg:
                _ = try run(["hg", "--repository", mirror, "archive", "--quiet", "--rev", name, "--no-decode", "--type", "files", target],
                            "exporting \(name)")
                try? FileManager.default.removeItem(atPath: target + "/.hg_archival.txt")
            }
        }
        let old = base + "/exported.old"
        try? FileManager.default.removeItem(atPath: old)
        if FileManager.default.fileExists(atPath: base + "/exported") { try? FileManager.default.moveItem(atPath: base + "/exported", toPath: old) }
        do { try FileManager.default.moveItem(atPath: staging, toPath: base + "/exported") } catch {
            throw BrineError(.io, "ext_pillar \(kind.rawValue) \(url): cannot replace the exported tree: \(error)")
        }
        try? FileManager.default.removeItem(atPath: old)
    }

    /// Fetches every source again (saltutil.refresh_pillar, master start).
    public static func refreshAll(_ config: Config) throws(BrineError) {
        for source in try sources(config) { _ = try source.trees(config, refresh: true) }
    }
}
