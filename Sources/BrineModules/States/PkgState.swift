import BrineCore
import OrderedCollections

/// Salt's `pkg` states. `refresh: True` brings the package index up to
/// date before the state's work; unset, the run's first install or upgrade
/// does it once (Salt's rtag); `refresh: False` never.
public enum PkgState: StateModule {
    public static let name = "pkg"

    static let params: [Parameter] = .optional("pkgs", "sources", "version", "fromrepo", "install_recommends", "reinstall",
                                               "hold", "update_holds", "skip_verify")
        + [Parameter("refresh", default: .null)]

    public static let functions: [StateFunction] = [
        StateFunction("installed", doc: "Ensure packages are installed (apt, or local .deb files as sources).", params) { call in
            try installed(call, latest: false)
        },
        StateFunction("latest", doc: "Ensure packages are installed at the latest version apt offers.", params) { call in
            try installed(call, latest: true)
        },
        StateFunction("removed", doc: "Ensure packages are removed (configuration kept).", .optional("pkgs")) { call in
            try removed(call, purge: false)
        },
        StateFunction("purged", doc: "Ensure packages are removed with their configuration.", .optional("pkgs")) { call in
            try removed(call, purge: true)
        },
        StateFunction("uptodate", doc: "Upgrade every package apt can (pkgs: the ones that must be upgraded).",
                      [Parameter("refresh", default: false)] + .optional("pkgs", "dist_upgrade")) { call in
            try uptodate(call)
        },
    ] + holdFunctions

    static func wanted(_ call: StateCall) -> [(name: String, version: String?)] {
        var args = Arguments()
        args.values = ["pkgs": call["pkgs"], "name": .string(call.name), "version": call["version"]]
        if case .list(let sources) = call["sources"] {
            return sources.compactMap { $0.mapValue?.keys.first }.map { ($0, nil) }
        }
        return PkgModule.targets(args)
    }

    /// Salt's rtag: with `refresh` unset, the first pkg.installed/latest of
    /// a run brings the package index up to date; `True` always does.
    static func refreshIfAsked(_ call: StateCall) throws {
        let unset = call["refresh"].isNull
        guard unset || call["refresh"].asFlag else { return }
        guard call.facts.claimRefresh() || !unset else { return }
        _ = try call.call("pkg.refresh_db")
    }

    static func installed(_ call: StateCall, latest: Bool) throws -> StateResult {
        let targets = wanted(call)
        let current = try PkgModule.listPackages(call.context)
        var todo: [String] = []
        var refreshed = false
        for target in targets {
            guard let have = current[target.name] else { todo.append(target.name); continue }
            if target.version == "latest" {
                // Salt: `version: latest` installs what apt offers when it differs (one refresh per state)
                if !refreshed { try refreshIfAsked(call) }
                refreshed = true
                let candidate = try call.call("pkg.latest_version", [.string(target.name)])
                if !(candidate.stringValue ?? "").isEmpty { todo.append(target.name) }
            } else if let version = target.version, !have.hasPrefix(version) {
                todo.append(target.name)
            }
        }
        if latest {
            try refreshIfAsked(call)
            for target in targets where !todo.contains(target.name) {
                let candidate = try call.call("pkg.latest_version", [.string(target.name)])
                if !(candidate.stringValue ?? "").isEmpty { todo.append(target.name) }
            }
        }
        let names = targets.map(\.name).joined(separator: ", ")
        guard !todo.isEmpty else {
            var ret = StateResult(name: call.name, comment: latest ? "Package \(names) is already up-to-date"
                                  : "All specified packages are already installed")
            // Salt: each hold answer as a sentence of its own, its changes under the package
            for answer in try holds(call, targets.map(\.name)) {
                ret.comment += ".\n" + (answer["comment"]?.pythonString ?? "")
                ret.result = answer["result"]?.boolValue
                if answer["changes"]?.mapValue?.isEmpty == false { ret.changes[answer["name"]?.pythonString ?? ""] = answer["changes"] }
            }
            return ret
        }
        if call.test {
            // Salt's changes under test: {pkg: {new: the version apt offers (or "installed"), old: ""}}
            var changes = OrderedDictionary<String, Value>()
            for name in todo {
                var version = ""
                if case .list = call["sources"] {} else { version = (try? call.call("pkg.latest_version", [.string(name)]))?.stringValue ?? "" }
                changes[name] = ["new": .string(version.isEmpty ? "installed" : version), "old": ""]
            }
            return StateResult(name: call.name, result: nil, changes: changes,
                               comment: "The following packages would be installed/updated: \(todo.joined(separator: ", "))")
        }
        if !latest && !refreshed { try refreshIfAsked(call) }
        var keyword: [String: Value] = ["refresh": false]
        for option in ["install_recommends", "fromrepo", "reinstall"] where !call[option].isNull {
            keyword[option] = call[option]
        }
        if case .list = call["sources"] {
            keyword["sources"] = call["sources"]
        } else {
            keyword["pkgs"] = .list(targets.filter { todo.contains($0.name) }.map { t in
                t.version.flatMap { $0 == "latest" ? nil : .map([t.name: .string($0)]) } ?? .string(t.name)
            })
        }
        do {
            let changes = try call.call("pkg.install", [], keyword)
            let after = try PkgModule.listPackages(call.context)
            let missing = todo.filter { after[$0] == nil }
            var ret = StateResult(name: call.name, changes: changes.mapValue ?? [:],
                                  comment: "The following packages were installed/updated: \(todo.joined(separator: ", "))")
            if !missing.isEmpty {
                ret.result = false
                ret.comment = "The following packages failed to install/update: \(missing.joined(separator: ", "))"
            }
            for answer in try holds(call, targets.map(\.name)) {
                let package = answer["name"]?.pythonString ?? ""
                ret.comment += "\n" + (answer["comment"]?.pythonString ?? "")
                if answer["result"]?.boolValue != true { ret.result = false }
                guard let hold = answer["changes"]?.mapValue, !hold.isEmpty else { continue }
                // Salt adds the hold to the package's change: `1.0\nhold`, `\ninstall`
                var change = ret.changes[package]?.mapValue ?? [:]
                for key in ["new", "old"] {
                    let before = change[key]?.pythonString ?? ""
                    guard change[key] != nil || key == "new" else { continue }
                    change[key] = .string(before + (before.isEmpty ? "" : "\n") + (hold[key]?.pythonString ?? ""))
                }
                ret.changes[package] = .map(change)
            }
            return ret
        } catch let error as BrineError {
            return .failed(call.name, error.message)
        }
    }

    /// `hold: True/False`: pkg.hold or pkg.unhold of the targets, each
    /// package's answer (none without `hold`).
    static func holds(_ call: StateCall, _ names: [String]) throws -> [Value] {
        guard !call["hold"].isNull else { return [] }
        var ctx = call.context
        ctx.opts.options["test"] = .bool(call.test)
        return Array(try PkgModule.setHold(call["hold"].asFlag, targets: names, ctx).values)
    }

    static func removed(_ call: StateCall, purge: Bool) throws -> StateResult {
        let targets = wanted(call).map(\.name)
        let current = try PkgModule.listPackages(call.context)
        let present = targets.filter { current[$0] != nil }
        guard !present.isEmpty else {
            return StateResult(name: call.name, comment: "All specified packages are already absent")
        }
        if call.test {
            return StateResult(name: call.name, result: nil,
                               comment: "The following packages will be \(purge ? "purged" : "removed"): \(present.joined(separator: ", "))")
        }
        do {
            let changes = try call.call(purge ? "pkg.purge" : "pkg.remove", [], ["pkgs": .list(present.map(Value.string))])
            return StateResult(name: call.name, changes: changes.mapValue ?? [:],
                               comment: "All targeted packages were \(purge ? "purged" : "removed").")
        } catch let error as BrineError {
            return .failed(call.name, error.message)
        }
    }

    /// Salt's `pkg.uptodate`: what apt would upgrade, then `pkg.upgrade`;
    /// with `pkgs`, those must be among the changes.
    static func uptodate(_ call: StateCall) throws -> StateResult {
        let name = call.name
        guard case .bool(let refresh) = call["refresh"] else { return .failed(name, "refresh must be either True or False") }
        var pending: OrderedDictionary<String, String>
        do {
            if refresh {
                _ = call.facts.claimRefresh()
                _ = try call.call("pkg.refresh_db")
            }
            pending = try PkgModule.upgradable(dist: call["dist_upgrade"].isNull || call["dist_upgrade"].asFlag, call.context)
        } catch let error as BrineError {
            return .failed(name, error.message)
        }
        let wanted = call["pkgs"].listValue?.map(\.pythonString)
        if let wanted { pending = pending.filter { wanted.contains($0.key) } }
        guard !pending.isEmpty else { return StateResult(name: name, comment: "System is already up-to-date") }
        if call.test {
            let installed = try PkgModule.listPackages(call.context)
            var expected = OrderedDictionary<String, Value>()
            for (package, version) in pending { expected[package] = ["new": .string(version), "old": .string(installed[package] ?? "")] }
            return StateResult(name: name, result: nil, changes: expected, comment: "System update will be performed")
        }
        let (changes, failure) = try PkgModule.upgrade(dist: call["dist_upgrade"].asFlag, confNew: false, call.context)
        if let failure { return StateResult(name: name, result: false, changes: changes.mapValue ?? [:], comment: failure) }
        var ret = StateResult(name: name, changes: changes.mapValue ?? [:], comment: "Upgrade ran successfully")
        let missing = (wanted == nil ? [] : pending.keys.filter { ret.changes[$0] == nil })
        if !missing.isEmpty {
            ret.result = false
            ret.comment = "The following package(s) failed to update: \(missing.joined(separator: ", "))"
        }
        return ret
    }
}
