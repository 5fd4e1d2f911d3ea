import BrineCore
import BrineModules
import Foundation
import OrderedCollections

/// High data, as Salt's `state.show_sls` shows it: state ID →
/// `{module: [{arg: value}, …, function, {order: N}], __sls__, __env__}`,
/// plus Salt's `__extend__` and `__exclude__` entries where Salt puts them.
/// The layout (key order, where the function sits, the automatic `order`)
/// is Salt's `render_state` to the letter, so `show_sls --out=json` prints
/// what Salt prints; extends and excludes are applied later, when low chunks
/// are compiled, as Salt's `call_high` does.
public struct HighData: Sendable {
    public var states = OrderedDictionary<String, Value>()
    /// Errors found while rendering and verifying; a run with any is refused.
    public var errors: [String] = []
    /// SLS names rendered, in order (even those that render to nothing, so
    /// that `sls` requisites can name them).
    public var renderedSLS: [String] = []

    public init() {}

    public var asValue: Value { .map(states) }
}

/// Renders SLS files from the file server into high data exactly as Salt's
/// `HighState.render_state` does: the file's own states (short forms padded,
/// `mod.fun` keys split with the function appended), then each include's
/// states after them, `__sls_included_from__` chains, identical duplicate IDs
/// allowed, automatic `order` numbers given to an include's states before the
/// including file's.
public struct SLSLoader {
    let context: ExecutionContext
    let renderers: RendererCache
    var iorder = 10000
    var high = HighData()
    /// `env:sls` already rendered (Salt's `mods`).
    var rendered = Set<String>()
    /// SLS names per saltenv, listed on first use (include and SLS globs).
    var available: [String: [String]] = [:]

    init(context: ExecutionContext, renderers: RendererCache) {
        self.context = context
        self.renderers = renderers
    }

    /// `a.b` → the file holding it: `a/b.sls`, else `a/b/init.sls`.
    func locate(_ sls: String, env: String) throws -> (path: String, name: String)? {
        let base = ASCIIText.replacing(UInt8(ascii: "."), with: UInt8(ascii: "/"), in: sls)
        for name in [base + ".sls", base + "/init.sls"] {
            if let path = try context.fileClient.cache("salt://" + name, saltenv: env) { return (path, name) }
        }
        return nil
    }

    /// Salt's `list_states`: every SLS name of a saltenv.
    mutating func availableSLS(_ env: String) -> [String] {
        if let known = available[env] { return known }
        let names = CpModule.slsNames((try? context.fileClient.listFiles(saltenv: env)) ?? [])
        available[env] = names
        return names
    }

    /// SLS names matching a pattern (Salt's `fnmatch.filter` over `list_states`);
    /// a name without glob characters is itself, listed or not.
    mutating func expand(_ pattern: String, env: String) -> [String] {
        guard pattern.contains(where: { "*?[".contains($0) }) else { return [pattern] }
        let matched = availableSLS(env).filter { Glob.match($0, pattern) }
        return matched.isEmpty ? [pattern] : matched
    }

    /// Salt's `render_highstate` for `{env: patterns}`: every SLS rendered once,
    /// merged in order, then `verify_high`.
    mutating func renderHighstate(_ matches: OrderedDictionary<String, [String]>) {
        for (env, patterns) in matches {
            for pattern in patterns {
                for sls in expand(pattern, env: env) where !rendered.contains("\(env):\(sls)") {
                    // Salt's words for a named SLS that is not there (an include
                    // that is not there keeps "Specified SLS … is not available").
                    guard locateQuietly(sls, env: env) else {
                        high.errors.append("No matching sls found for '\(pattern)' in env '\(env)'")
                        continue
                    }
                    var errors: [String] = []
                    var state = renderState(sls, env: env, matches: matches, errors: &errors)
                    if !state.isEmpty { Self.mergeIncluded(&high.states, &state, errors: &errors) }
                    high.errors += errors
                }
            }
        }
        high.errors += HighVerifier.verify(high.states)
    }

    /// One SLS file and, recursively, what it includes.
    mutating func renderState(_ sls: String, env: String, matches: OrderedDictionary<String, [String]>,
                              errors: inout [String]) -> OrderedDictionary<String, Value> {
        let located: (path: String, name: String)?
        do { located = try locate(sls, env: env) } catch {
            errors.append("\(error)")
            return [:]
        }
        guard let (path, name) = located else {
            errors.append("Specified SLS \(sls) in saltenv \(env) is not available on the salt master or through a configured fileserver")
            return [:]
        }
        var data = Value.null
        do {
            let renderer = try renderers.renderer(for: env)
            let text = try FileOps.readText(path)
            data = try renderer.render(text, name: name, file: path, variables: variables(sls: sls, env: env, path: path),
                                       sharedConversions: true)
        } catch {
            errors.append("Rendering SLS '\(env):\(sls)' failed: \(error.description)")
        }
        rendered.insert("\(env):\(sls)")
        high.renderedSLS.append(sls)
        guard data.isTruthy else { return [:] }
        guard case .map(var state) = data else {
            errors.append("SLS \(sls) does not render to a dictionary")
            return [:]
        }
        var include: [Value] = []
        if let value = state["include"] {
            if case .list(let list) = value {
                include = list
                state.removeValue(forKey: "include")
            } else {
                errors.append("Include Declaration in SLS \(sls) is not formed as a list")
            }
        }
        Self.handleExtend(&state, sls: sls, env: env, errors: &errors)
        Self.handleExclude(&state, sls: sls, errors: &errors)
        Self.handleStateDeclarations(&state, sls: sls, env: env, errors: &errors)
        for entry in include {
            includeOne(entry, into: &state, from: sls, env: env, isInit: name.hasSuffix("/init.sls"), matches: matches, errors: &errors)
        }
        if context.opts["state_auto_order"]?.asFlag ?? true { applyAutoOrder(&state) }
        return state
    }

    /// Salt's `State.call_template`/`call_template_str`: a template given by
    /// path or as text, rendered through the default pipeline into states
    /// whose `__sls__` is the path (None for text); no includes.
    mutating func renderTemplate(_ text: String, file: String, sls: String?, env: String) {
        var data = Value.null
        do {
            data = try renderers.renderer(for: env).render(text, name: file, file: file,
                                                           variables: variables(sls: sls ?? "", env: env, path: file))
        } catch {
            high.errors.append("Rendering template '\(file)' failed: \(error.description)")
            return
        }
        guard data.isTruthy else { return }
        guard case .map(var state) = data else {
            high.errors.append("Template \(file) does not render to a dictionary")
            return
        }
        Self.handleStateDeclarations(&state, sls: sls ?? "", env: env, errors: &high.errors)
        for (id, declaration) in state {
            guard case .map(var fields) = declaration else { continue }
            if sls == nil { fields["__sls__"] = .null }
            high.states[id] = .map(fields)
        }
        if context.opts["state_auto_order"]?.asFlag ?? true {
            var states = high.states
            applyAutoOrder(&states)
            high.states = states
        }
        high.errors += HighVerifier.verify(high.states)
    }

    /// One `include` entry: `name`, `.relative`, `{env: name}` or `{_xenv: name}`.
    mutating func includeOne(_ entry: Value, into state: inout OrderedDictionary<String, Value>, from sls: String, env: String,
                             isInit: Bool, matches: OrderedDictionary<String, [String]>, errors: inout [String]) {
        var target = entry.pythonString
        var envKey = env
        if case .map(let m) = entry, let last = m.elements.last {
            envKey = last.key
            target = last.value.pythonString
        }
        let envs = context.opts.roots("file_roots")
        if envKey != "_xenv" && envs[envKey] == nil && envs["__env__"] == nil {
            errors.append("Nonexistent saltenv '\(envKey)' found in include of '\(target)' within SLS '\(env):\(sls)'")
            return
        }
        if target.hasPrefix(".") {
            let levels = target.prefix { $0 == "." }.count
            var parts = sls.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if isInit { parts.append("init") }
            guard levels <= parts.count else {
                errors.append("Attempted relative include of '\(target)' within SLS '\(env):\(sls)' goes beyond top level package ")
                return
            }
            target = (parts.dropLast(levels) + [String(target.dropFirst(levels))]).joined(separator: ".")
        }
        var resolved: [String]
        if envKey != "_xenv" {
            resolved = matches[envKey] != nil || expand(target, env: envKey).contains(where: { locateQuietly($0, env: envKey) })
                ? [envKey] : []
        } else {
            resolved = matches.keys.filter { e in expand(target, env: e).contains(where: { locateQuietly($0, env: e) }) }
        }
        guard resolved.count == 1 || resolved.contains(env) else {
            if resolved.isEmpty {
                errors.append("Unknown include: Specified SLS \(envKey): \(target) is not available on the salt master in saltenv(s): \(envKey == "_xenv" ? matches.keys.joined(separator: ", ") : envKey) ")
            } else {
                errors.append("Ambiguous include: Specified SLS \(envKey): \(target) is available on the salt master in multiple available saltenvs: \(resolved.joined(separator: ", "))")
            }
            return
        }
        let targetEnv = resolved.count == 1 ? resolved[0] : env
        for name in expand(target, env: env) where !rendered.contains("\(targetEnv):\(name)") {
            var included = renderState(name, env: targetEnv, matches: matches, errors: &errors)
            guard !included.isEmpty else { continue }
            for (id, body) in included where !id.hasPrefix("__") {
                guard case .map(var declaration) = body else { continue }
                var chain = declaration["__sls_included_from__"]?.listValue ?? []
                chain.append(.string(sls))
                declaration["__sls_included_from__"] = .list(chain)
                included[id] = .map(declaration)
            }
            Self.mergeIncluded(&state, &included, errors: &errors)
        }
    }

    func locateQuietly(_ sls: String, env: String) -> Bool { ((try? locate(sls, env: env)) ?? nil) != nil }

    /// Salt's `merge_included_states`: extends and excludes gathered, the
    /// rest added after what is there; the same ID twice is an error only
    /// when the two declarations differ.
    static func mergeIncluded(_ high: inout OrderedDictionary<String, Value>, _ state: inout OrderedDictionary<String, Value>,
                              errors: inout [String]) {
        for key in ["__extend__", "__exclude__"] {
            guard let moved = state.removeValue(forKey: key) else { continue }
            high[key] = .list((high[key]?.listValue ?? []) + (moved.listValue ?? []))
        }
        for (id, body) in state {
            if let existing = high[id], existing != body {
                errors.append("Detected conflicting IDs, SLS IDs need to be globally unique.\n    The conflicting ID is '\(id)' and is found in SLS '\(existing["__env__"]?.pythonString ?? ""):\(existing["__sls__"]?.pythonString ?? "")' and SLS '\(body["__env__"]?.pythonString ?? ""):\(body["__sls__"]?.pythonString ?? "")'")
            }
            high[id] = body
        }
    }

    /// `extend:` taken out of the file and kept under `__extend__`.
    static func handleExtend(_ state: inout OrderedDictionary<String, Value>, sls: String, env: String, errors: inout [String]) {
        guard let value = state.removeValue(forKey: "extend") else { return }
        guard case .map(var extensions) = value else {
            errors.append("Extension value in SLS '\(sls)' is not a dictionary")
            return
        }
        for (name, body) in extensions {
            guard case .map(var declaration) = body else {
                errors.append("Extension name '\(name)' in SLS '\(sls)' is not a dictionary")
                continue
            }
            if declaration["__sls__"] == nil { declaration["__sls__"] = .string(sls) }
            if declaration["__env__"] == nil { declaration["__env__"] = .string(env) }
            for key in Array(declaration.keys) where !key.hasPrefix("_") && key.contains(".") {
                guard case .list(var args) = declaration[key] ?? .null else { continue }
                let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                declaration.removeValue(forKey: key)
                args.append(.string(parts[1]))
                declaration[parts[0]] = .list(args)
            }
            extensions[name] = .map(declaration)
        }
        state["__extend__"] = .list((state["__extend__"]?.listValue ?? []) + [.map(extensions)])
    }

    /// `exclude:` taken out of the file and kept under `__exclude__`.
    static func handleExclude(_ state: inout OrderedDictionary<String, Value>, sls: String, errors: inout [String]) {
        guard let value = state.removeValue(forKey: "exclude") else { return }
        guard case .list(let list) = value else {
            errors.append("Exclude Declaration in SLS \(sls) is not formed as a list")
            return
        }
        state["__exclude__"] = .list((state["__exclude__"]?.listValue ?? []) + list)
    }

    /// Salt's `_handle_state_decls`: `ID: mod.fun` padded, `mod.fun:` keys
    /// split (the function goes after the arguments), `__sls__`/`__env__` added.
    static func handleStateDeclarations(_ state: inout OrderedDictionary<String, Value>, sls: String, env: String,
                                        errors: inout [String]) {
        for id in Array(state.keys) {
            guard case .map(var declaration) = state[id] ?? .null else {
                if id == "__extend__" || id == "__exclude__" { continue }
                if case .string(let short) = state[id] ?? .null, short.contains(".") {
                    let parts = short.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                    state[id] = .map(["__sls__": .string(sls), "__env__": .string(env), parts[0]: .list([.string(parts[1])])])
                    continue
                }
                errors.append("ID \(id) in SLS \(sls) is not a dictionary")
                continue
            }
            var modules = Set<String>()
            for key in Array(declaration.keys) where !key.hasPrefix("_") {
                guard case .list(var args) = declaration[key] ?? .null else { continue }
                guard key.contains(".") else {
                    modules.insert(key)
                    continue
                }
                let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                if modules.contains(parts[0]) {
                    errors.append("ID '\(id)' in SLS '\(sls)' contains multiple state declarations of the same type")
                    continue
                }
                declaration.removeValue(forKey: key)
                args.append(.string(parts[1]))
                declaration[parts[0]] = .list(args)
                modules.insert(parts[0])
            }
            if declaration["__sls__"] == nil { declaration["__sls__"] = .string(sls) }
            if declaration["__env__"] == nil { declaration["__env__"] = .string(env) }
            state[id] = .map(declaration)
        }
    }

    /// Salt's `state_auto_order`: every module declaration without an
    /// `order` gets the next number, in the order the file lists them.
    mutating func applyAutoOrder(_ state: inout OrderedDictionary<String, Value>) {
        for id in Array(state.keys) {
            guard case .map(var declaration) = state[id] ?? .null else { continue }
            var changed = false
            for key in Array(declaration.keys) where !key.hasPrefix("_") {
                guard case .list(var args) = declaration[key] ?? .null else { continue }
                let ordered = args.contains { arg in
                    if case .map(let m) = arg, m.keys.first == "order" { return true }
                    return false
                }
                guard !ordered else { continue }
                args.append(.map(["order": .int(iorder)]))
                iorder += 1
                declaration[key] = .list(args)
                changed = true
            }
            if changed { state[id] = .map(declaration) }
        }
    }

    func variables(sls: String, env: String, path: String) -> Renderer.Variables {
        var vars = SLSContext.variables(templatePath: path, sls: sls)
        vars["grains"] = (try? context.grains()) ?? .emptyMap
        vars["pillar"] = (try? context.pillar()) ?? .emptyMap
        vars["opts"] = .map(context.opts.options)
        vars["saltenv"] = .string(env)
        vars["env"] = .string(env)
        vars["sls"] = .string(sls)
        return vars
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
