import BrineCore
import Foundation
import OrderedCollections

/// Salt's `pip` execution module: a real pip (a virtualenv's, or the
/// system Python's), run as a program. Names, arguments and return shapes
/// are Salt 3008's.
public enum PipModule: ExecutionModule {
    public static let name = "pip"

    static let runOptions = [Parameter].optional("bin_env", "user", "cwd", "env_vars")

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("version", doc: "pip's version, None when it gives none.", [Parameter].optional("bin_env", "cwd", "user")) { a, ctx in
            try version(a, ctx).map(Value.string) ?? .null
        },
        ExecutionFunction("list", doc: "Installed packages {normalized name: version} (prefix: names starting with it).",
                          [Parameter("prefix", default: .null)] + runOptions) { a, ctx in
            .map(try list(a, ctx, prefix: a.string("prefix")).mapValues(Value.string))
        },
        ExecutionFunction("freeze", doc: "pip freeze --all: name==version lines.", runOptions) { a, ctx in
            let result = try run(a, ctx, ["freeze", "--all", "--disable-pip-version-check"])
            guard result.retcode == 0 else { throw BrineError(.execution, result.stderr) }
            return .list(result.stdout.split(separator: "\n").map { .string(String($0)) })
        },
        ExecutionFunction("list_upgrades", doc: "Packages with a newer version: {name: 'version [filetype]'}.", runOptions) { a, ctx in
            let result = try run(a, ctx, ["list", "--outdated", "--disable-pip-version-check", "--format=json"])
            guard result.retcode == 0 else { throw BrineError(.execution, result.stderr) }
            guard let rows = (try? JSON.decode(result.stdout, file: "pip list"))?.listValue else { throw BrineError(.execution, "Invalid JSON") }
            return .map(OrderedDictionary(rows.map { ($0["name"]?.pythonString ?? "", Value.string("\($0["latest_version"]?.pythonString ?? "") [\($0["latest_filetype"]?.pythonString ?? "")]")) },
                                          uniquingKeysWith: { $1 }))
        },
        ExecutionFunction("is_installed", doc: "Whether package PKGNAME is installed.", [Parameter("pkgname")] + runOptions) { a, ctx in
            let name = PEP440.normalize(a.string("pkgname") ?? "")
            return .bool(try list(a, ctx, prefix: name)[name] != nil)
        },
        ExecutionFunction("install", doc: "pip install PKGS (a comma list) and/or requirements files; pip's result {pid, retcode, stdout, stderr}.",
                          [Parameter].optional("pkgs", "requirements", "find_links", "index_url", "extra_index_url", "editable", "target", "extra_args")
                              + [Parameter("no_index", default: false), Parameter("upgrade", default: false), Parameter("force_reinstall", default: false),
                                 Parameter("ignore_installed", default: false), Parameter("no_deps", default: false), Parameter("pre_releases", default: false),
                                 Parameter("disable_version_check", default: false)] + runOptions) { a, ctx in
            try install(a, ctx)
        },
        ExecutionFunction("uninstall", doc: "pip uninstall -y PKGS (a comma list); pip's result.",
                          [Parameter("pkgs", default: .null), Parameter("requirements", default: .null)] + runOptions) { a, ctx in
            var argv = ["uninstall", "-y"]
            for file in (a.stringList("requirements") ?? []).filter({ !$0.isEmpty }) { argv += ["--requirement", file] }
            argv += (a.stringList("pkgs") ?? []).filter { !$0.isEmpty }
            return runResult(try run(a, ctx, argv))
        },
    ]

    static func runResult(_ r: ProcessResult) -> Value {
        ["pid": .int(r.pid), "retcode": .int(r.retcode), "stdout": .string(CmdModule.rstrip(r.stdout)), "stderr": .string(CmdModule.rstrip(r.stderr))]
    }

    /// Salt's `_get_pip_bin`: a virtualenv directory runs its python with
    /// `-m pip`; a python executable too; any other executable is pip.
    /// Without `bin_env`, the system's python3 (Salt uses the minion's own).
    static func pip(_ binEnv: String?) throws -> (argv: [String], venv: String?) {
        let fm = FileManager.default
        guard let binEnv, !binEnv.isEmpty else {
            for python in ["/usr/bin/python3", "/usr/local/bin/python3"] where fm.isExecutableFile(atPath: python) { return ([python, "-m", "pip"], nil) }
            throw BrineError(.notAvailable, "Could not find a `pip` binary", hint: "install python3-pip, or give bin_env")
        }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: binEnv, isDirectory: &isDirectory), isDirectory.boolValue {
            for candidate in ["python", "bin/python", "Scripts/python"] where fm.isExecutableFile(atPath: binEnv + "/" + candidate) {
                return ([(binEnv + "/" + candidate as NSString).standardizingPath, "-m", "pip"], binEnv)
            }
            let bin = binEnv + "/bin"
            let pythons = ((try? fm.contentsOfDirectory(atPath: bin)) ?? [])
                .filter { $0.wholeMatch(of: #/python(\d+(\.\d+)?)?/#) != nil && fm.isExecutableFile(atPath: bin + "/" + $0) }
                .sorted { ($0 == "python" ? 0 : $0 == "python3" ? 1 : 2, $0) < ($1 == "python" ? 0 : $1 == "python3" ? 1 : 2, $1) }
            if let best = pythons.first { return ([bin + "/" + best, "-m", "pip"], binEnv) }
            throw BrineError(.notAvailable, "Could not find a pip binary in virtualenv \(binEnv)")
        }
        guard fm.isExecutableFile(atPath: binEnv) else { throw BrineError(.notAvailable, "Access denied to \(binEnv), could not find a pip binary") }
        return ((binEnv as NSString).lastPathComponent.contains("python") ? [binEnv, "-m", "pip"] : [binEnv], nil)
    }

    static func run(_ a: Arguments, _ ctx: ExecutionContext, _ words: [String]) throws -> ProcessResult {
        let (argv, venv) = try pip(a.string("bin_env"))
        var environment = ProcessInfo.processInfo.environment
        if let venv { environment["VIRTUAL_ENV"] = venv }
        if case .map(let vars) = a["env_vars"] { for (k, v) in vars { environment[k] = v.pythonString } }
        else if !a["env_vars"].isNull { throw BrineError(.arguments, "env_vars \(a["env_vars"].pythonString) is not a dictionary") }
        var command = argv + words
        if let user = a.string("user"), geteuid() == 0 { command = ["runuser", "-u", user, "--"] + command }
        return try ctx.runner.run(Command(command, cwd: a.string("cwd"), environment: environment))
    }

    static func version(_ a: Arguments, _ ctx: ExecutionContext) throws -> String? {
        let result = try run(a, ctx, ["--version"])
        guard result.retcode == 0 else { throw BrineError(.notAvailable, "Could not find a `pip` binary") }
        guard let match = result.stdout.firstMatch(of: #/^pip (\S+)/#) else { return nil }
        return String(match.1)
    }

    static func list(_ a: Arguments, _ ctx: ExecutionContext, prefix: String?) throws -> OrderedDictionary<String, String> {
        let result = try run(a, ctx, ["list", "--format=json", "--disable-pip-version-check"])
        guard result.retcode == 0 else { throw BrineError(.execution, CmdModule.rstrip(result.stderr)) }
        guard let rows = (try? JSON.decode(result.stdout, file: "pip list"))?.listValue else { throw BrineError(.execution, "Invalid JSON") }
        var out = OrderedDictionary<String, String>()
        let wanted = prefix.map(PEP440.normalize)
        for row in rows {
            let name = PEP440.normalize(row["name"]?.pythonString ?? "")
            if let wanted, !name.hasPrefix(wanted) { continue }
            out[name] = row["version"]?.pythonString ?? ""
        }
        return out
    }

    static func install(_ a: Arguments, _ ctx: ExecutionContext) throws -> Value {
        var argv = ["install"]
        for file in (a.stringList("requirements") ?? []).filter({ !$0.isEmpty }) {
            let local = file.hasPrefix("salt://") ? try ctx.call("cp.cache_file", [.string(file)]).pythonString : file
            guard !local.isEmpty, local != "False" else { return ["result": false, "comment": .string("pip requirements file '\(file)' not found")] }
            argv += ["--requirement", local]
        }
        for link in (a.stringList("find_links") ?? []).filter({ !$0.isEmpty }) { argv += ["--find-links", link] }
        if a.bool("no_index") && (a.string("index_url") != nil || a.string("extra_index_url") != nil) {
            throw BrineError(.arguments, "'no_index' and ('index_url' or 'extra_index_url') are mutually exclusive.")
        }
        // index URLs often carry a password: pip reads them from its environment
        var b = a
        var env = a["env_vars"].mapValue ?? [:]
        if let url = a.string("index_url") { env["PIP_INDEX_URL"] = .string(url) }
        if let url = a.string("extra_index_url") { env["PIP_EXTRA_INDEX_URL"] = .string(url) }
        if !env.isEmpty { b.values["env_vars"] = .map(env) }
        if a.bool("no_index") { argv.append("--no-index") }
        if a.bool("disable_version_check") { argv.append("--disable-pip-version-check") }
        if let target = a.string("target") { argv += ["--target", target] }
        for (flag, key) in [("--upgrade", "upgrade"), ("--force-reinstall", "force_reinstall"), ("--ignore-installed", "ignore_installed"),
                            ("--no-deps", "no_deps"), ("--pre", "pre_releases")] where a.bool(key) { argv.append(flag) }
        let pkgs = (a.stringList("pkgs") ?? []).filter { !$0.isEmpty }.map { $0.replacingOccurrences(of: ";", with: ",") }
        let editable = (a.stringList("editable") ?? []).filter { !$0.isEmpty }
        if pkgs.isEmpty && editable.isEmpty && a["requirements"].isNull { return ["retcode": 0, "stdout": "No packages to install."] }
        argv += pkgs
        for entry in editable { argv += ["--editable", entry] }
        if case .list(let extra) = a["extra_args"] {
            for item in extra {
                if case .map(let m) = item { for (k, v) in m { argv += [k, v.pythonString] } } else { argv.append(item.pythonString) }
            }
        }
        return runResult(try run(b, ctx, argv))
    }
}
