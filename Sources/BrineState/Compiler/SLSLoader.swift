import BrineCore
import BrineModules
import Foundation
import OrderedCollections

/// High data, as Salt's `state.show_highstate` shows it: state ID →
/// `{__sls__, __env__, module: [function, {arg: value}, …]}`.
public struct HighData: Sendable {
    public var states = OrderedDictionary<String, Value>()
    /// Errors found while rendering and compiling; a run with any is refused.
    public var errors: [String] = []
    /// SLS names rendered, in order (`__sls_included_from__` bookkeeping).
    public var renderedSLS: [String] = []
    var extends: [(sls: String, env: String, data: OrderedDictionary<String, Value>)] = []
    var excludes: [Value] = []

    public init() {}

    public var asValue: Value { .map(states) }
}

/// Renders SLS files from the file server into high data: includes
/// (relative `.x` forms), extends, excludes, the short and long state forms,
/// automatic `order` in definition order (includes first), duplicate IDs.
public struct SLSLoader {
    let context: ExecutionContext
    let renderers: RendererCache
    var iorder = 10000
    var high = HighData()
    /// Where each ID was declared, for duplicate-ID messages.
    var declaredIn: [String: String] = [:]
    var rendered = Set<String>()

    init(context: ExecutionContext, renderers: RendererCache) {
        self.context = context
        self.renderers = renderers
    }

    /// `a.b` → the file holding it: `a/b.sls`, else `a/b/init.sls`.
    func locate(_ sls: String, env: String) throws -> (path: String, name: String)? {
        let base = sls.replacingOccurrences(of: ".", with: "/")
        for name in [base + ".sls", base + "/init.sls"] {
            if let path = try context.fileClient.cache("salt://" + name, saltenv: env) { return (path, name) }
        }
        return nil
    }

    mutating func load(_ sls: String, env: String, includedFrom: String? = nil, ignoreMissing: Bool = false) {
        let key = "\(env):\(sls)"
        guard rendered.insert(key).inserted else { return }
        let located: (path: String, name: String)?
        do { located = try locate(sls, env: env) } catch {
            high.errors.append("\(error)")
            return
        }
        guard let (path, name) = located else {
            if !ignoreMissing {
                high.errors.append("Specified SLS \(sls) in saltenv \(env) is not available on the salt master or through a configured fileserver")
            }
            return
        }
        let data: Value
        do {
            let renderer = try renderers.renderer(for: env)
            let text = try FileOps.readText(path)
            data = try renderer.render(text, name: name, file: path, variables: variables(sls: sls, env: env, name: name))
        } catch {
            high.errors.append("Rendering SLS '\(env):\(sls)' failed: \(error.description)")
            return
        }
        high.renderedSLS.append(sls)
        if data.isNull || data == .string("") { return }
        guard case .map(var body) = data else {
            high.errors.append("SLS \(sls) does not render to a dictionary (\(path))")
            return
        }
        if let include = body.removeValue(forKey: "include") {
            for entry in include.listValue ?? [include] {
                var target = entry.pythonString
                var targetEnv = env
                if case .map(let m) = entry, let first = m.elements.first {
                    let (k, v) = (first.key, first.value)
                    targetEnv = k == "_xenv" ? env : k
                    target = v.pythonString
                }
                guard let resolved = resolveRelative(target, from: sls, isInit: name.hasSuffix("/init.sls")) else {
                    high.errors.append("Attempted relative include of \"\(target)\" within SLS \(env):\(sls) goes beyond top level package")
                    continue
                }
                load(resolved, env: targetEnv, includedFrom: sls)
            }
        }
        if let extend = body.removeValue(forKey: "extend") {
            guard case .map(let m) = extend else {
                high.errors.append("Extension value in SLS '\(sls)' is not a dictionary")
                return
            }
            high.extends.append((sls, env, m))
        }
        if let exclude = body.removeValue(forKey: "exclude") {
            high.excludes += exclude.listValue ?? [exclude]
        }
        for (id, raw) in body {
            if id.hasPrefix("__") { continue }
            if let previous = declaredIn[id] {
                high.errors.append("Detected conflicting IDs, SLS IDs need to be globally unique.\n    The conflicting ID is '\(id)' and is found in SLS '\(previous)' and SLS '\(env):\(sls)'")
                continue
            }
            declaredIn[id] = "\(env):\(sls)"
            switch normalize(id: id, raw, sls: sls, env: env) {
            case .success(var state):
                if let from = includedFrom { state["__sls_included_from__"] = [.string(from)] }
                high.states[id] = .map(state)
            case .failure(let message):
                high.errors.append(message.message)
            }
        }
    }

    /// `.x` → sibling, `..x` → parent's sibling; init.sls counts as a level.
    func resolveRelative(_ target: String, from sls: String, isInit: Bool) -> String? {
        guard target.hasPrefix(".") else { return target }
        let dots = target.prefix { $0 == "." }.count
        let rest = String(target.dropFirst(dots))
        var parts = sls.split(separator: ".").map(String.init)
        if isInit { parts.append("init") }
        guard dots <= parts.count else { return nil }
        let base = Array(parts.dropLast(dots))
        return (base + (rest.isEmpty ? [] : [rest])).joined(separator: ".")
    }

    func variables(sls: String, env: String, name: String) -> Renderer.Variables {
        let slsPath = name.replacingOccurrences(of: "/init.sls", with: "").replacingOccurrences(of: ".sls", with: "")
        let tpldir = name.contains("/") ? (name as NSString).deletingLastPathComponent : ""
        var vars: Renderer.Variables = [
            "grains": (try? context.grains()) ?? .emptyMap, "pillar": (try? context.pillar()) ?? .emptyMap,
            "opts": .map(context.opts.options), "saltenv": .string(env), "env": .string(env), "sls": .string(sls),
            "slspath": .string(slsPath.contains("/") || name.hasSuffix("/init.sls") ? slsPath : tpldir),
            "sls_path": .string(sls.replacingOccurrences(of: ".", with: "_")),
            "tpldir": .string(tpldir), "tplfile": .string(name),
            "tplroot": .string(String(name.split(separator: "/").first ?? "")),
        ]
        if name.hasSuffix("/init.sls") { vars["slspath"] = .string(slsPath) } else { vars["slspath"] = .string(tpldir) }
        vars["slsdotpath"] = .string((vars["slspath"]?.stringValue ?? "").replacingOccurrences(of: "/", with: "."))
        vars["slscolonpath"] = .string((vars["slspath"]?.stringValue ?? "").replacingOccurrences(of: "/", with: ":"))
        return vars
    }

    /// The short and long forms of a state declaration, normalised to
    /// `{__sls__, __env__, module: [function, {arg: value}, …, {order: N}]}`.
    mutating func normalize(id: String, _ raw: Value, sls: String, env: String) -> Result<OrderedDictionary<String, Value>, StateFormatError> {
        var state = OrderedDictionary<String, Value>()
        state["__sls__"] = .string(sls)
        state["__env__"] = .string(env)
        let body: OrderedDictionary<String, Value>
        switch raw {
        case .string(let s) where s.contains("."):
            body = [s: .list([])]
        case .map(let m):
            body = m
        default:
            return .failure(StateFormatError("ID \(id) in SLS \(sls) is not a dictionary"))
        }
        for (key, value) in body {
            if key.hasPrefix("__") { continue }
            var module = key
            var args: [Value] = []
            switch value {
            case .null: break
            case .list(let l): args = l
            default:
                return .failure(StateFormatError("The state \"\(id)\" in SLS \"\(sls)\" is not formed as a list (under \(key))"))
            }
            if let dot = key.firstIndex(of: ".") {
                module = String(key[..<dot])
                args.insert(.string(String(key[key.index(after: dot)...])), at: 0)
            }
            var functions: [String] = []
            for arg in args {
                switch arg {
                case .string(let f): functions.append(f)
                case .map(let m) where m.count == 1: break
                default:
                    return .failure(StateFormatError("The argument list of state \"\(id)\" in SLS \"\(sls)\" must be single-key mappings (\"- key: value\"); found \(arg.pythonRepr)"))
                }
            }
            if var existing = state[module]?.listValue {
                let existingFunctions = existing.compactMap(\.stringValue)
                if !existingFunctions.isEmpty && !functions.isEmpty {
                    return .failure(StateFormatError("Too many functions declared in state '\(module)' in SLS '\(sls)'. Please choose one of the following: \((existingFunctions + functions).joined(separator: ", "))"))
                }
                existing += args
                args = existing
            } else if functions.count > 1 {
                return .failure(StateFormatError("Too many functions declared in state '\(module)' in SLS '\(sls)'. Please choose one of the following: \(functions.joined(separator: ", "))"))
            }
            if !args.contains(where: { $0.mapValue?.keys.first == "order" }) && state[module] == nil {
                args.append(["order": .int(iorder)])
                iorder += 1
            }
            state[module] = .list(args)
        }
        for (module, args) in state where !module.hasPrefix("__") {
            if !(args.listValue ?? []).contains(where: { $0.stringValue != nil }) {
                return .failure(StateFormatError("No function declared in state '\(module)' in SLS '\(sls)' (ID \(id))"))
            }
        }
        return .success(state)
    }
}

struct StateFormatError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// One renderer per saltenv, so parsed templates and imports are cached
/// across the SLS files of a run.
final class RendererCache: @unchecked Sendable {
    private let lock = NSLock()
    private var cache: [String: Renderer] = [:]
    let context: ExecutionContext
    let roots: OrderedDictionary<String, [String]>

    init(context: ExecutionContext) {
        self.context = context
        self.roots = context.opts.roots("file_roots")
    }

    /// A Jinja environment and its cached templates refer to each other:
    /// dropping the cache when the run's compiler goes away is what frees
    /// them (a long-running minion would otherwise keep every run's).
    deinit {
        for renderer in cache.values { renderer.environment.clearCache() }
    }

    func renderer(for env: String) throws(BrineError) -> Renderer {
        lock.lock()
        defer { lock.unlock() }
        if let existing = cache[env] { return existing }
        let created = context.opts.string("file_client") == "local" && context.fileClient is LocalFileClient
            ? try Renderer(roots: roots[env] ?? [], context: context)
            : try Renderer(files: context.fileClient, saltenv: env, context: context)
        cache[env] = created
        return created
    }
}
