import BrineCore
import BrineModules
import Foundation
import Logging
import OrderedCollections

/// Compiles a minion's pillar from `pillar_roots`: every environment's
/// `top.sls` says which SLS apply to which minions; the matching SLS are
/// rendered and merged in order (Salt's `smart`/`recurse` strategies).
public struct PillarCompiler: Sendable {
    public var config: Config
    public var minionID: String
    public var grains: BrineCore.Value
    /// Pillar given on the command line (`pillar='{…}'`), merged last.
    public var overrides: BrineCore.Value

    public init(config: Config, minionID: String, grains: BrineCore.Value, overrides: BrineCore.Value = .null) {
        self.config = config
        self.minionID = minionID
        self.grains = grains
        self.overrides = overrides
    }

    /// The pillar. An SLS that fails to render is left out and named under
    /// `_errors`, as Salt does (the details go to stderr at CRITICAL, Salt's
    /// log line): `state.*` then refuses to run, `pillar.items` shows them.
    public func compile() throws(BrineError) -> BrineCore.Value {
        var errors: [String] = []
        var pillar = try compileWithoutErrors(&errors)
        if !errors.isEmpty, case .map(var map) = pillar {
            map["_errors"] = .list(errors.map(BrineCore.Value.string))
            pillar = .map(map)
        }
        return pillar
    }

    func compileWithoutErrors(_ errors: inout [String]) throws(BrineError) -> BrineCore.Value {
        let own = try compileTree(config.roots("pillar_roots"), errors: &errors)
        var external = BrineCore.Value.emptyMap
        for source in try VCSPillar.sources(config) {
            var roots = OrderedDictionary<String, [String]>()
            for (env, dir) in try source.trees(config, refresh: false) { roots[env, default: []].append(dir) }
            external = merge(external, try compileTree(roots, errors: &errors))
        }
        // ext_pillar comes after pillar_roots unless ext_pillar_first.
        var pillar = config.bool("ext_pillar_first") ? merge(external, own) : merge(own, external)
        if case .map = config["pillar"] ?? .null { pillar = pillar.merged(with: config["pillar"] ?? .emptyMap) }
        if case .map = overrides { pillar = pillar.merged(with: overrides) }
        return pillar
    }

    /// One tree of pillar SLS (pillar_roots, or an ext_pillar repository):
    /// the SLS its top files assign to this minion, merged in order.
    func compileTree(_ roots: OrderedDictionary<String, [String]>, errors: inout [String]) throws(BrineError) -> BrineCore.Value {
        let context = renderContext()
        var pillar = BrineCore.Value.emptyMap
        let top = try topAssignments(roots: roots, context: context)
        for (env, slsNames) in top {
            let renderer = try Renderer(roots: roots[env] ?? [], context: context)
            defer { renderer.environment.clearCache() }  // frees the environment (see RendererCache)
            var seen = Set<String>()
            for sls in slsNames {
                do {
                    let data = try renderSLS(sls, env: env, roots: roots[env] ?? [], renderer: renderer, seen: &seen, depth: 0)
                    pillar = merge(pillar, data)
                } catch {
                    Logger.brine("brine.pillar").critical("Rendering SLS '\(sls)' failed, render error:\n\(error.description)")
                    errors.append("Rendering SLS '\(sls)' failed. Please see master log for details.")
                }
            }
        }
        return pillar
    }

    /// `pillar_source_merging_strategy`: smart and recurse merge maps
    /// recursively, overwrite replaces top-level keys, none keeps the first.
    func merge(_ base: BrineCore.Value, _ overlay: BrineCore.Value) -> BrineCore.Value {
        switch config.string("pillar_source_merging_strategy") ?? "smart" {
        case "overwrite":
            guard case .map(var map) = base, case .map(let extra) = overlay else { return overlay }
            for (k, v) in extra { map[k] = v }
            return .map(map)
        case "none":
            guard case .map(var map) = base, case .map(let extra) = overlay else { return base }
            for (k, v) in extra where map[k] == nil { map[k] = v }
            return .map(map)
        default:
            return base.merged(with: overlay, mergeLists: config.bool("pillar_merge_lists"))
        }
    }

    func renderContext() -> ExecutionContext {
        let grains = self.grains
        return ExecutionContext(opts: config, grains: Lazy(value: grains), pillar: Lazy(value: .emptyMap),
                                loader: .standard, fileClient: LocalFileClient(config: config), isDirectCall: false)
    }

    /// env → SLS names for this minion, from every environment's top file.
    func topAssignments(roots: OrderedDictionary<String, [String]>, context: ExecutionContext)
        throws(BrineError) -> OrderedDictionary<String, [String]>
    {
        var result = OrderedDictionary<String, [String]>()
        let topName = config.string("state_top") ?? "top.sls"
        for (env, dirs) in roots {
            guard let topFile = dirs.map({ $0 + "/" + topName }).first(where: FileOps.isFile) else { continue }
            let renderer = try Renderer(roots: dirs, context: context)
            defer { renderer.environment.clearCache() }
            let text = try FileOps.readText(topFile)
            let data = try renderer.render(text, name: topName, file: topFile,
                                           variables: variables(env: env, sls: "top", path: topFile))
            guard case .map(let envs) = data else {
                if data.isNull { continue }
                throw BrineError(.yaml, "the top file must be a mapping of environment: targets", at: SourceLocation(file: topFile))
            }
            for (topEnv, targets) in envs {
                guard case .map(let targetMap) = targets else { continue }
                for (target, entries) in targetMap {
                    let list = entries.listValue ?? [entries]
                    var matchType = "glob"
                    var names: [String] = []
                    for entry in list {
                        if case .map(let m) = entry, let match = m["match"] {
                            matchType = match.pythonString
                        } else if case .string(let s) = entry {
                            names.append(s)
                        }
                    }
                    let matcher = Matcher(minionID: minionID, grains: grains, pillar: .emptyMap)
                    if try matcher.matches(target, type: matchType) {
                        for name in names where !(result[topEnv]?.contains(name) ?? false) {
                            result[topEnv, default: []].append(name)
                        }
                    }
                }
            }
        }
        return result
    }

    func variables(env: String, sls: String, path: String) -> Renderer.Variables {
        var vars = SLSContext.variables(templatePath: path, sls: sls)
        vars["grains"] = grains
        vars["pillar"] = overrides.isNull ? .emptyMap : overrides
        vars["opts"] = .map(config.options)
        vars["saltenv"] = .string(env)
        vars["env"] = .string(env)
        vars["sls"] = .string(sls)
        return vars
    }

    /// `a.b` → `a/b.sls` or `a/b/init.sls` in the first root holding it;
    /// a file whose real path leaves its root (a symlink out) is not there.
    static func locate(_ sls: String, roots: [String]) -> (path: String, name: String)? {
        let base = sls.replacingOccurrences(of: ".", with: "/")
        for root in roots {
            for name in [base + ".sls", base + "/init.sls"]
            where FileOps.isFile(root + "/" + name) && ContainedPath.resolve(root + "/" + name, within: root) != nil {
                return (root + "/" + name, name)
            }
        }
        return nil
    }

    func renderSLS(_ sls: String, env: String, roots: [String], renderer: Renderer, seen: inout Set<String>, depth: Int)
        throws(BrineError) -> BrineCore.Value
    {
        guard depth < 64 else { throw BrineError(.template, "pillar includes nest deeper than 64 levels at \(sls)") }
        guard seen.insert(sls).inserted else { return .emptyMap }
        guard let (path, name) = PillarCompiler.locate(sls, roots: roots) else {
            throw BrineError(.template, "Specified SLS '\(sls)' in environment '\(env)' is not available on the salt master",
                             hint: "check pillar_roots and the pillar top file")
        }
        let text = try FileOps.readText(path)
        var data = try renderer.render(text, name: name, file: path, variables: variables(env: env, sls: sls, path: path))
        if data.isNull { return .emptyMap }
        guard case .map(var map) = data else {
            throw BrineError(.yaml, "pillar SLS must render to a mapping", at: SourceLocation(file: path))
        }
        var merged = BrineCore.Value.emptyMap
        if let include = map.removeValue(forKey: "include") {
            for entry in include.listValue ?? [include] {
                var includeName = entry.pythonString
                if case .map(let m) = entry, let first = m.keys.first { includeName = first }
                if includeName.hasPrefix(".") {
                    let parent = sls.split(separator: ".").dropLast().joined(separator: ".")
                    includeName = parent.isEmpty ? String(includeName.dropFirst()) : parent + includeName
                }
                merged = merged.merged(with: try renderSLS(includeName, env: env, roots: roots, renderer: renderer,
                                                           seen: &seen, depth: depth + 1))
            }
        }
        data = .map(map)
        return merged.merged(with: data)
    }
}
