import BrineCore
import Foundation
import OrderedCollections

/// Salt's `pkg` module for Debian: dpkg for what is installed, apt-get for
/// installing and removing, `dpkg -i` for local `.deb` sources.
public enum PkgModule: ExecutionModule {
    public static let name = "pkg"

    static let aptEnvironment = [
        "DEBIAN_FRONTEND": "noninteractive", "APT_LISTBUGS_FRONTEND": "none", "APT_LISTCHANGES_FRONTEND": "none",
    ]

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("version_cmp", doc: "Compare two Debian versions: -1, 0 or 1 (ignore_epoch=True drops the epochs).",
                          [Parameter("pkg1"), Parameter("pkg2"), Parameter("ignore_epoch", default: false)]) { a, _ in
            .int(DebianVersion.compare(a["pkg1"].pythonString, a["pkg2"].pythonString, ignoreEpoch: a.bool("ignore_epoch")))
        },
        ExecutionFunction("version", doc: "Return the installed version of the named package(s); an empty string if not installed.",
                          varargs: true, kwargs: true) { args, ctx in
            let names = args.extra.map(\.pythonString)
            guard !names.isEmpty else { throw BrineError(.arguments, "pkg.version needs at least one package name") }
            let installed = try listPackages(ctx)
            if names.count == 1 { return .string(installed[names[0]] ?? "") }
            return .map(OrderedDictionary(uniqueKeysWithValues: names.map { ($0, .string(installed[$0] ?? "")) }))
        },
        ExecutionFunction("list_pkgs", doc: "List the packages currently installed as a dict of name: version.",
                          [Parameter("versions_as_list", default: false)], kwargs: true) { args, ctx in
            let installed = try listPackages(ctx)
            let asList = args.bool("versions_as_list")
            return .map(OrderedDictionary(uniqueKeysWithValues: installed.map {
                ($0.key, asList ? .list([.string($0.value)]) : .string($0.value))
            }))
        },
        ExecutionFunction("latest_version", doc: "Return the version apt would install for the named package(s), '' if current.",
                          varargs: true, kwargs: true) { args, ctx in
            let names = args.extra.map(\.pythonString)
            let installed = try listPackages(ctx)
            var result = OrderedDictionary<String, Value>()
            for name in names {
                let policy = try ctx.runner.run(Command(["apt-cache", "policy", name], environment: env()))
                let candidate = policy.stdout.split(separator: "\n").first { $0.contains("Candidate:") }
                    .map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) } ?? ""
                let value = candidate == "(none)" || candidate == installed[name] ? "" : candidate
                result[name] = .string(value)
            }
            return names.count == 1 ? (result.values.first ?? "") : .map(result)
        },
        ExecutionFunction("install", doc: "Install the passed package(s) with apt-get, or local .deb files given as sources; returns the changes.",
                          [Parameter("name", default: .null), Parameter("refresh", default: false),
                           Parameter("pkgs", default: .null), Parameter("sources", default: .null),
                           Parameter("version", default: .null), Parameter("fromrepo", default: .null),
                           Parameter("reinstall", default: false), Parameter("install_recommends", default: true)],
                          kwargs: true) { args, ctx in
            try install(args, ctx)
        },
        ExecutionFunction("remove", doc: "Remove the named package(s), keeping configuration files; returns the changes.",
                          [Parameter("name", default: .null), Parameter("pkgs", default: .null)], kwargs: true) { args, ctx in
            try remove(args, ctx, action: "remove")
        },
        ExecutionFunction("purge", doc: "Remove the named package(s) and their configuration files; returns the changes.",
                          [Parameter("name", default: .null), Parameter("pkgs", default: .null)], kwargs: true) { args, ctx in
            try remove(args, ctx, action: "purge")
        },
        ExecutionFunction("refresh_db", doc: "Update the APT package index (apt-get update); returns each source and whether it was fetched.",
                          [Parameter("cache_valid_time", default: 0), Parameter("failhard", default: false)], kwargs: true) { args, ctx in
            // Salt's cache_valid_time, else Brine's refresh_interval option: an
            // index younger than that many seconds is not fetched again.
            let interval = args.int("cache_valid_time").flatMap { $0 > 0 ? $0 : nil } ?? ctx.opts.int("refresh_interval") ?? 0
            if interval > 0, let age = indexAge(), age < Double(interval) { return .emptyMap }
            return try refreshDatabase(ctx, failhard: args.bool("failhard"))
        },
    ] + repoFunctions + holdFunctions + upgradeFunctions

    /// dpkg has no lock timeout of its own (apt-get has DPkg::Lock::Timeout):
    /// retry while another package manager holds the lock, up to two minutes.
    static func runWaitingForLock(_ command: Command, _ ctx: ExecutionContext) throws -> ProcessResult {
        let deadline = Date().addingTimeInterval(120)
        while true {
            let result = try ctx.runner.run(command)
            let locked = result.retcode != 0 && (result.stderr.contains("dpkg frontend lock") || result.stderr.contains("lock-frontend")
                || result.stderr.contains("status database area is locked"))
            if !locked || Date() > deadline { return result }
            Thread.sleep(forTimeInterval: 0.5)
        }
    }

    static func env() -> [String: String] {
        ProcessInfo.processInfo.environment.merging(aptEnvironment) { $1 }.merging(["LC_ALL": "C"]) { $1 }
    }

    /// Installed packages: name → version, from dpkg's database.
    public static func listPackages(_ ctx: ExecutionContext) throws -> OrderedDictionary<String, String> {
        let native = try nativeArchitecture(ctx)
        let result = try ctx.runner.run(Command(
            ["dpkg-query", "--showformat=${Status}\t${Package}\t${Version}\t${Architecture}\n", "-W"], environment: env()))
        guard result.retcode == 0 || !result.stdout.isEmpty else {
            throw BrineError(.execution, "dpkg-query failed: \(result.stderr)")
        }
        var packages = OrderedDictionary<String, String>()
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 4, fields[0].hasSuffix(" installed") else { continue }
            let arch = fields[3]
            let name = arch == native || arch == "all" ? String(fields[1]) : "\(fields[1]):\(arch)"
            packages[name] = String(fields[2])
        }
        packages.sort { $0.key < $1.key }
        return packages
    }

    static func nativeArchitecture(_ ctx: ExecutionContext) throws -> String {
        let result = try ctx.runner.run(Command(["dpkg", "--print-architecture"]))
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What changed, limited to what this call can have caused: the
    /// targeted packages, plus (when installing) packages that appeared,
    /// i.e. pulled-in dependencies. Another package manager working at the
    /// same time does not show up in our changes.
    static func changes(from before: OrderedDictionary<String, String>, to after: OrderedDictionary<String, String>,
                        targets: Set<String>, installing: Bool) -> Value
    {
        var diff = OrderedDictionary<String, Value>()
        for name in Set(before.keys).union(after.keys).sorted() where before[name] != after[name] {
            let appeared = before[name] == nil && after[name] != nil
            guard targets.contains(name) || (installing && appeared) else { continue }
            diff[name] = ["old": .string(before[name] ?? ""), "new": .string(after[name] ?? "")]
        }
        return .map(diff)
    }

    /// Package names from `name`/`pkgs`, with versions (`pkgs: [{foo: 1.2}]`).
    static func targets(_ args: Arguments) -> [(name: String, version: String?)] {
        if case .list(let list) = args["pkgs"] {
            return list.flatMap { item -> [(String, String?)] in
                if case .map(let m) = item { return m.map { ($0.key, $0.value.isNull ? nil : $0.value.pythonString) } }
                return [(item.pythonString, nil)]
            }
        }
        if let names = args.stringList("pkgs") { return names.map { ($0, nil) } }
        guard let name = args.string("name") else { return [] }
        return name.split(separator: ",").map { (String($0).trimmingCharacters(in: .whitespaces), args.string("version")) }
    }

    static func install(_ args: Arguments, _ ctx: ExecutionContext) throws -> Value {
        var debs: [String] = []
        if case .list(let sources) = args["sources"] {
            for case .map(let entry) in sources {
                for (pkg, source) in entry {
                    let location = source.pythonString
                    let path = location.hasPrefix("salt://")
                        ? try ctx.fileClient.cache(location, saltenv: ctx.saltenv) : location
                    guard let path, FileManager.default.fileExists(atPath: path) else {
                        throw BrineError(.execution, "source for package \(pkg) not found: \(location)")
                    }
                    debs.append(path)
                }
            }
        }
        let wanted = targets(args)
        guard !wanted.isEmpty || !debs.isEmpty else {
            throw BrineError(.arguments, "pkg.install needs a name, pkgs or sources")
        }
        if args.bool("refresh") { _ = try refreshDatabase(ctx, failhard: true) }
        let before = try listPackages(ctx)
        var errors: [String] = []
        if !debs.isEmpty {
            let result = try runWaitingForLock(Command(["dpkg", "-i", "--force-confold"] + debs, environment: env()), ctx)
            if result.retcode != 0 { errors.append(result.stderr.isEmpty ? result.stdout : result.stderr) }
        }
        if !wanted.isEmpty {
            var command = ["apt-get", "-q", "-y", "-o", "DPkg::Options::=--force-confold",
                           "-o", "DPkg::Options::=--force-confdef", "-o", "DPkg::Lock::Timeout=120"]
            if let repo = args.string("fromrepo") { command += ["-t", repo] }
            if args.bool("reinstall") { command.append("--reinstall") }
            if !args.bool("install_recommends") { command.append("--no-install-recommends") }
            command.append("install")
            command += wanted.map { target in target.version.map { "\(target.name)=\($0)" } ?? target.name }
            let result = try ctx.runner.run(Command(command, environment: env()))
            if result.retcode != 0 { errors.append(result.stderr.isEmpty ? result.stdout : result.stderr) }
        }
        var targeted = Set(wanted.map(\.name))
        if case .list(let sources) = args["sources"] {
            for case .map(let entry) in sources { targeted.formUnion(entry.keys) }
        }
        let diff = changes(from: before, to: try listPackages(ctx), targets: targeted, installing: true)
        if !errors.isEmpty {
            ctx.outcome.fail(1)
            throw BrineError(.execution, "Error occurred installing package(s): "
                             + errors.joined(separator: "; ").trimmingCharacters(in: .whitespacesAndNewlines)
                             + (diff.mapValue?.isEmpty == false ? " (changes made: \(diff.pythonRepr))" : ""))
        }
        return diff
    }

    static func remove(_ args: Arguments, _ ctx: ExecutionContext, action: String) throws -> Value {
        let wanted = targets(args).map(\.name)
        guard !wanted.isEmpty else { throw BrineError(.arguments, "pkg.\(action) needs a name or pkgs") }
        let before = try listPackages(ctx)
        let present = wanted.filter { before[$0] != nil }
        if !present.isEmpty {
            let result = try ctx.runner.run(Command(
                ["apt-get", "-q", "-y", "-o", "DPkg::Lock::Timeout=120", action] + present, environment: env()))
            if result.retcode != 0 {
                ctx.outcome.fail(1)
                throw BrineError(.execution, "Error occurred removing package(s): \(result.stderr.isEmpty ? result.stdout : result.stderr)")
            }
        }
        return changes(from: before, to: try listPackages(ctx), targets: Set(wanted), installing: false)
    }

    /// Seconds since the package index was last rebuilt (apt's pkgcache.bin).
    static func indexAge() -> Double? {
        for path in ["/var/cache/apt/pkgcache.bin", "/var/lib/apt/lists"] {
            if let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date {
                return Date().timeIntervalSince(modified)
            }
        }
        return nil
    }

    /// `apt-get update`; each source line → true (fetched), false (error),
    /// null (ignored), as Salt's `refresh_db` reports them.
    public static func refreshDatabase(_ ctx: ExecutionContext, failhard: Bool) throws -> Value {
        let result = try ctx.runner.run(Command(["apt-get", "-q", "update", "-o", "DPkg::Lock::Timeout=120"], environment: env()))
        var repos = OrderedDictionary<String, Value>()
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let source = String(parts[1]).trimmingCharacters(in: .whitespaces)
            switch parts[0] {
            case let s where s.hasPrefix("Get:"), let s where s.hasPrefix("Hit:"): repos[source] = true
            case let s where s.hasPrefix("Err:"): repos[source] = false
            case let s where s.hasPrefix("Ign:"): repos[source] = .null
            default: break
            }
        }
        if result.retcode != 0 {
            ctx.outcome.fail(1)
            if failhard {
                throw BrineError(.execution, "apt-get update failed: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
        return .map(repos)
    }
}
