import BrineCore
import Foundation
import OrderedCollections

/// Salt's `aptpkg` upgrade functions: what apt would upgrade
/// (`apt-get --just-print`), and the upgrade itself, keeping changed
/// configuration files (`--force-confold`) as Salt does.
extension PkgModule {
    static let upgradeFunctions: [ExecutionFunction] = [
        ExecutionFunction("list_upgrades", doc: "Packages apt would upgrade: {name: new version} (dist_upgrade: as dist-upgrade would).",
                          [Parameter("refresh", default: true), Parameter("dist_upgrade", default: true)], kwargs: true) { a, ctx in
            if a.bool("refresh") { _ = try ctx.call("pkg.refresh_db") }
            return .map(try upgradable(dist: a.bool("dist_upgrade"), ctx).mapValues(Value.string))
        },
        ExecutionFunction("upgrade", doc: "Upgrade every package apt can (dist_upgrade: apt-get dist-upgrade); returns the changes.",
                          [Parameter("refresh", default: true), Parameter("dist_upgrade", default: false)], kwargs: true) { a, ctx in
            if a.bool("refresh") { _ = try ctx.call("pkg.refresh_db") }
            let (changes, failure) = try upgrade(dist: a.bool("dist_upgrade"), confNew: a.bool("force_conf_new"), ctx)
            if let failure { throw BrineError(.execution, failure) }
            return changes
        },
    ]

    /// Salt's `_get_upgradable`: the `Conf NAME (VERSION` lines of a dry run.
    static func upgradable(dist: Bool, _ ctx: ExecutionContext) throws -> OrderedDictionary<String, String> {
        let result = try ctx.runner.run(Command(["apt-get", "--just-print", dist ? "dist-upgrade" : "upgrade"], environment: env()))
        guard result.retcode == 0 else {
            throw BrineError(.execution, "Failed to get upgrades: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        var found = OrderedDictionary<String, String>()
        for line in result.stdout.split(separator: "\n") where line.hasPrefix("Conf ") {
            let words = line.split(separator: " ")
            guard words.count >= 3, words[2].hasPrefix("(") else { continue }
            found[String(words[1])] = String(words[2].dropFirst())
        }
        return found
    }

    /// The upgrade's changes, and what apt said when it failed (Salt keeps
    /// the changes of a partial upgrade in its error).
    static func upgrade(dist: Bool, confNew: Bool, _ ctx: ExecutionContext) throws -> (changes: Value, failure: String?) {
        let before = try listPackages(ctx)
        let options = confNew ? ["--force-confnew"] : ["--force-confold", "--force-confdef"]
        let command = ["apt-get", "-q", "-y", "-o", "DPkg::Lock::Timeout=120"] + options.flatMap { ["-o", "DPkg::Options::=\($0)"] }
            + [dist ? "dist-upgrade" : "upgrade"]
        let result = try ctx.runner.run(Command(command, environment: env()))
        let after = try listPackages(ctx)
        let changes = Self.changes(from: before, to: after, targets: Set(before.keys).union(after.keys), installing: true)
        guard result.retcode == 0 else {
            return (changes, "Problem encountered upgrading packages: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return (changes, nil)
    }
}
