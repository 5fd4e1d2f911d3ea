import BrineCore
import OrderedCollections

/// Salt's `pip.installed` and `pip.removed` states on a real pip (usually a
/// virtualenv's: `bin_env`). What is installed comes from `pip list`;
/// whether it satisfies a requirement, from PEP 440 (Salt asks Python's
/// `packaging`). Comments and changes are Salt 3008.4's.
public enum PipState: StateModule {
    public static let name = "pip"

    static let installOptions = [Parameter].optional("pkgs", "requirements", "bin_env", "pip_bin", "user", "cwd", "env_vars", "find_links",
                                                     "index_url", "extra_index_url", "editable", "target", "extra_args")
        + [Parameter("no_index", default: false), Parameter("upgrade", default: false), Parameter("force_reinstall", default: false),
           Parameter("ignore_installed", default: false), Parameter("no_deps", default: false), Parameter("pre_releases", default: false)]

    public static let functions: [StateFunction] = [
        StateFunction("installed", doc: "Python package NAME (or each of pkgs, with version specifiers), or a requirements file, is installed by pip (bin_env: a virtualenv).",
                      installOptions) { call in
            try installed(call)
        },
        StateFunction("removed", doc: "Python package NAME is not installed.", [Parameter].optional("requirements", "bin_env", "user", "cwd")) { call in
            try removed(call)
        },
    ]

    static func arguments(_ call: StateCall) -> Arguments {
        var a = call.arguments
        if a.string("bin_env") == nil, let pip = a.string("pip_bin") { a.values["bin_env"] = .string(pip) }
        return a
    }

    static func installed(_ call: StateCall) throws -> StateResult {
        let ctx = call.context
        var a = arguments(call)
        if !call["pkgs"].isNull && call["pkgs"].listValue == nil {
            return StateResult.failed(call.name, "pkgs argument must be formatted as a list")
        }
        let pkgs = call["pkgs"].listValue?.map(\.pythonString) ?? [call.name]
        var ret = StateResult(name: pkgs.joined(separator: ";"), result: nil)
        do { _ = try PipModule.version(a, ctx) } catch let error as BrineError {
            return StateResult.failed(ret.name, "Error installing '\(call.name)': \(error.message)")
        }
        let requirements = call["requirements"].listValue.map { $0.map(\.pythonString).joined(separator: ",") } ?? call.string("requirements")
        let editable = call.string("editable")
        var targets: [(prefix: String, name: String)] = []
        var already: [String] = []
        if requirements == nil && editable == nil {
            var errors: [String] = []
            var parsed: [(String, String, [(String, String)])] = []
            for pkg in pkgs {
                if pkg.contains("="), !pkg.contains("=="), !pkg.contains(">="), !pkg.contains("<="), !pkg.contains("!="), !pkg.contains("~="), !pkg.contains("://") {
                    errors.append("Invalid version specification in package \(pkg). '=' is not supported, use '==' instead.")
                    continue
                }
                let requirement = PEP440.requirement(pkg)
                parsed.append((requirement.map { PEP440.normalize($0.name) } ?? "", pkg, requirement?.specifiers ?? []))
            }
            if !errors.isEmpty { return StateResult.failed(ret.name, errors.joined(separator: "\n")) }
            let installedNow = (try? PipModule.list(a, ctx, prefix: nil)) ?? [:]
            for (prefix, pkg, specifiers) in parsed {
                let have = prefix.isEmpty ? nil : installedNow[prefix]
                let satisfied = have != nil && !call["ignore_installed"].asFlag && !call["force_reinstall"].asFlag && !call["upgrade"].asFlag
                    && PEP440.satisfies(have ?? "", specifiers)
                if satisfied {
                    already.append("Python package \(pkg) was already installed")
                    continue
                }
                targets.append((prefix, pkg.replacingOccurrences(of: ",", with: ";")))
                if call.test {
                    ret.comment = pkgs.count > 1 ? "Python package(s) set to be installed:" + pkgs.map { "\n" + $0 }.joined()
                                                 : "Python package \(pkg) is set to be installed"
                    return ret
                }
            }
            if targets.isEmpty {
                ret.result = true
                ret.comment = already.joined(separator: "\n") + (already.isEmpty ? "" : "\n") + "All specified packages are already installed"
                    + (call["upgrade"].asFlag ? " and up-to-date" : "")
                return ret
            }
        } else if call.test {
            var comments: [String] = []
            if let requirements { comments.append("Requirements file '\(requirements)' will be processed.") }
            if let editable { comments.append("Package will be installed in editable mode (i.e. setuptools \"develop mode\") from \(editable).") }
            ret.comment = comments.joined(separator: " ")
            return ret
        }
        a.values["pkgs"] = .string(targets.map(\.name).joined(separator: ","))
        a.values["disable_version_check"] = true
        let result = try PipModule.install(a, ctx)
        let aicomms = already.joined(separator: "\n") + (already.isEmpty ? "" : "\n")
        guard result["retcode"]?.intValue == 0 else {
            let error = result["stdout"] != nil ? "Error: \(result["stdout"]?.pythonString ?? "") \(result["stderr"]?.pythonString ?? "")"
                                                : "Error: \(result["comment"]?.pythonString ?? "")"
            ret.result = false
            if requirements != nil || editable != nil {
                var parts: [String] = []
                if let requirements { parts.append("Unable to process requirements file \"\(requirements)\"") }
                if let editable { parts.append("Unable to install from VCS checkout \(editable).") }
                ret.comment = (parts + [error]).joined(separator: " ")
            } else {
                ret.comment = aicomms + "Failed to install packages: \(targets.map(\.name).joined(separator: ", ")). \(error)"
            }
            return ret
        }
        ret.result = true
        if requirements != nil || editable != nil {
            var comments: [String] = []
            if let requirements {
                let quiet = ["Requirement already satisfied", "Requirement already up-to-date", "Requirement not upgraded", "Collecting",
                             "Cloning", "Cleaning up...", "Looking in indexes"]
                let lines = (result["stdout"]?.pythonString ?? "").split(separator: "\n", omittingEmptySubsequences: false)
                if lines.contains(where: { line in !quiet.contains { line.trimmingCharacters(in: .whitespaces).hasPrefix($0) } }) {
                    ret.changes["requirements"] = true
                    comments.append("Successfully processed requirements file \(requirements).")
                } else {
                    comments.append("Requirements were already installed.")
                }
            }
            if let editable {
                comments.append("Package successfully installed from VCS checkout \(editable).")
                ret.changes["editable"] = true
            }
            ret.comment = comments.joined(separator: " ")
            return ret
        }
        let alreadyThere = Set((result["stdout"]?.pythonString ?? "").split(separator: "\n").compactMap { line -> String? in
            let text = String(line)
            guard let head = ["Requirement already satisfied: ", "Requirement already up-to-date: "].first(where: { text.hasPrefix($0) }) else { return nil }
            let word = text.dropFirst(head.count).split(separator: " ").first.map(String.init) ?? ""
            return PEP440.normalize(String(word.prefix { !"=!<>~@".contains($0) }))
        })
        var missing: [String] = []
        for target in targets {
            guard !target.prefix.isEmpty else { ret.changes["\(target.name)==???"] = "Installed"; continue }
            let now = try PipModule.list(a, ctx, prefix: target.prefix)
            if now.isEmpty {
                missing.append("There was no error installing package '\(pkgs.last ?? "")' although it does not show when calling 'pip.freeze'.")
            } else if let version = now[target.prefix], !alreadyThere.contains(target.prefix) {
                ret.changes["\(target.prefix)==\(version)"] = "Installed"
            }
        }
        ret.comment = aicomms + (missing.isEmpty ? "All packages were successfully installed" : missing.joined(separator: "\n"))
        return ret
    }

    /// Unlike Salt 3008.4 (which reports success whatever pip answers), a
    /// failed uninstall fails the state.
    static func removed(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context
        let a = arguments(call)
        let installed: OrderedDictionary<String, String>
        do { installed = try PipModule.list(a, ctx, prefix: nil) } catch let error as BrineError {
            return StateResult.failed(name, "Error uninstalling '\(name)': \(error.message)")
        }
        guard installed[PEP440.normalize(name)] != nil else { return StateResult(name: name, result: true, comment: "Package is not installed.") }
        if call.test { return StateResult(name: name, result: nil, comment: "Package \(name) is set to be removed") }
        var b = a
        b.values["pkgs"] = .string(name)
        let result = try PipModule.run(b, ctx, ["uninstall", "-y"] + (call.string("requirements").map { ["--requirement", $0] } ?? []) + [name])
        guard result.retcode == 0 else { return StateResult.failed(name, "Could not remove package.") }
        return StateResult(name: name, result: true, changes: [name: "Removed"], comment: "Package was successfully removed.")
    }
}
