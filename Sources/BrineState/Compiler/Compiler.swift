import BrineCore
import BrineModules
import Foundation
import OrderedCollections

/// A low chunk (Salt's lowstate entry): one function call of one state.
public typealias LowChunk = OrderedDictionary<String, Value>

/// The requisite keywords, their `_in` and `_any` forms.
public enum Requisite: String, CaseIterable, Sendable {
    case require, watch, onchanges, onfail, prereq, use, listen
    case requireAny = "require_any", watchAny = "watch_any", onchangesAny = "onchanges_any", onfailAny = "onfail_any"

    static let inForms: [String: Requisite] = ["require_in": .require, "watch_in": .watch, "onchanges_in": .onchanges,
                                               "onfail_in": .onfail, "prereq_in": .prereq, "use_in": .use,
                                               "listen_in": .listen]
}

/// Turns SLS names or the top file into high data, then low chunks in run
/// order, with every requisite resolved. Errors (missing SLS, bad forms,
/// unknown requisites, cycles, unknown state functions) are collected and
/// returned together; nothing runs when there are any.
public struct StateCompiler {
    public let context: ExecutionContext
    let states: StateLoader
    let renderers: RendererCache

    public init(context: ExecutionContext, states: StateLoader = .standard) {
        self.context = context
        self.states = states
        self.renderers = RendererCache(context: context)
    }

    // MARK: - Top file

    /// env → SLS names that the top files assign to this minion.
    public func top() throws -> OrderedDictionary<String, [String]> {
        var result = OrderedDictionary<String, [String]>()
        let grains = try context.grains()
        let pillar = try context.pillar()
        let id = grains["id"]?.pythonString ?? ""
        let matcher = Matcher(minionID: id, grains: grains, pillar: pillar, nodegroups: context.opts.nodegroups)
        let topName = context.opts.string("state_top") ?? "top.sls"
        var envs = Array(context.opts.roots("file_roots").keys)
        if let only = context.saltenvOverride { envs = [only] }
        for env in envs {
            guard let path = try context.fileClient.cache("salt://" + topName, saltenv: env) else { continue }
            let renderer = try renderers.renderer(for: env)
            let data = try renderer.render(try FileOps.readText(path), name: topName, file: path,
                                           variables: ["grains": grains, "pillar": pillar, "opts": .map(context.opts.options),
                                                       "saltenv": .string(env)])
            guard case .map(let topEnvs) = data else { continue }
            for (topEnv, targets) in topEnvs {
                if let only = context.saltenvOverride, topEnv != only { continue }
                guard case .map(let targetMap) = targets else { continue }
                for (target, entries) in targetMap {
                    var matchType = "glob"
                    var names: [String] = []
                    for entry in entries.listValue ?? [entries] {
                        if case .map(let m) = entry {
                            if let match = m["match"] { matchType = match.pythonString }
                        } else if case .string(let s) = entry {
                            names.append(s)
                        }
                    }
                    guard try matcher.matches(target, type: matchType) else { continue }
                    for name in names where !(result[topEnv]?.contains(name) ?? false) {
                        result[topEnv, default: []].append(name)
                    }
                }
            }
        }
        return result
    }

    // MARK: - High data

    /// The high data of the top file's SLS names, as `state.show_highstate`
    /// shows it (extends and excludes not yet applied).
    public func highstate() throws -> HighData {
        let assignments = try top()
        var loader = SLSLoader(context: context, renderers: renderers)
        if assignments.isEmpty {
            loader.high.errors.append("No Top file or master_tops data matches found. Please see master log for details.")
        }
        loader.renderHighstate(assignments)
        return loader.high
    }

    /// The high data of a template (`state.template`/`template_str`).
    public func template(_ text: String, file: String, sls: String?, saltenv: String) -> HighData {
        var loader = SLSLoader(context: context, renderers: renderers)
        loader.renderTemplate(text, file: file, sls: sls, env: saltenv)
        return loader.high
    }

    /// The high data of SLS names (globs allowed), as `state.show_sls` shows it.
    public func sls(_ names: [String], saltenv: String) -> HighData {
        var loader = SLSLoader(context: context, renderers: renderers)
        loader.renderHighstate([saltenv: names])
        return loader.high
    }

    /// Salt's `reconcile_extend`: each `__extend__` entry merged into the
    /// state it names (by ID, else by a unique `name`); requisites extended,
    /// other arguments replaced, the function replaced in place.
    func reconcileExtend(_ input: HighData) -> HighData {
        var high = input
        guard let extensions = high.states.removeValue(forKey: "__extend__")?.listValue else { return high }
        let excludedSLS = (high.states["__exclude__"]?.listValue ?? []).compactMap { exclusion -> String? in
            if case .string(let s) = exclusion { return s }
            return exclusion["sls"].flatMap { $0.isTruthy ? $0.pythonString : nil }
        }
        for case .map(let chunk) in extensions {
            for (extendedID, bodyValue) in chunk {
                guard case .map(let body) = bodyValue,
                      let module = body.keys.first(where: { !$0.hasPrefix("__") }) else { continue }
                var id = extendedID
                if high.states[id]?[module] == nil {
                    let byName = statesNamed(id, module: module, in: high.states)
                    guard byName.count == 1 else {
                        let env = body["__env__"]?.pythonString ?? "base", sls = body["__sls__"]?.pythonString ?? "base"
                        high.errors.append(Self.cannotExtend(id, env: env, sls: sls))
                        continue
                    }
                    id = byName[0]
                }
                if let sls = body["__sls__"]?.pythonString, excludedSLS.contains(sls) { continue }
                guard case .map(var existing) = high.states[id] ?? .null else { continue }
                for (key, run) in body where !key.hasPrefix("__") {
                    guard case .list(var args) = existing[key] ?? .null else {
                        existing[key] = run
                        continue
                    }
                    for arg in run.listValue ?? [] { Self.extend(&args, with: arg) }
                    existing[key] = .list(args)
                }
                high.states[id] = .map(existing)
            }
        }
        return high
    }

    /// One argument of an extension applied to a state's argument list.
    static func extend(_ args: inout [Value], with arg: Value) {
        var updated = false
        for index in args.indices {
            switch (arg, args[index]) {
            case (.string, .string):
                args[index] = arg
                updated = true
            case (.map(let new), .map(let old)):
                guard let key = new.keys.first else { continue }
                if key == old.keys.first {
                    if HighVerifier.requisiteKeywords.contains(key) {
                        args[index] = .map([key: .list((old[key]?.listValue ?? []) + (new[key]?.listValue ?? []))])
                    } else {
                        args[index] = arg
                    }
                    updated = true
                }
                if key == "name", args[index].mapValue?.keys.first == "names" { args[index] = arg }
            default:
                continue
            }
        }
        if !updated { args.append(arg) }
    }

    /// IDs whose `module` declaration has `name: name` (Salt's `find_name`).
    func statesNamed(_ name: String, module: String, in states: OrderedDictionary<String, Value>) -> [String] {
        states.compactMap { id, body in
            guard let args = body[module]?.listValue else { return nil }
            return args.contains { $0["name"]?.pythonString == name } ? id : nil
        }
    }

    /// Salt's `apply_exclude`: `sls` entries (or bare names) drop every state
    /// of those SLS, `id` entries drop one ID.
    func applyExclude(_ input: HighData) -> HighData {
        var high = input
        guard let exclusions = high.states.removeValue(forKey: "__exclude__")?.listValue else { return high }
        var slsNames = Set<String>(), ids = Set<String>()
        for exclusion in exclusions {
            if case .map(let m) = exclusion {
                if let sls = m["sls"] { slsNames.insert(sls.pythonString) }
                if let id = m["id"] { ids.insert(id.pythonString) }
            } else {
                slsNames.insert(exclusion.pythonString)
            }
        }
        high.states = high.states.filter { id, body in
            !ids.contains(id) && !slsNames.contains(body["__sls__"]?.pythonString ?? "")
        }
        return high
    }

    // MARK: - Low chunks

    /// Salt's words for an extend (or a `_in` requisite, which Salt makes
    /// an extend of) whose target is not in the high data.
    static func cannotExtend(_ id: String, env: String, sls: String) -> String {
        "Cannot extend ID '\(id)' in '\(env):\(sls)'. It is not part of the high state.\nThis is likely due to a missing include statement or an incorrectly typed ID.\nEnsure that a state with an ID of '\(id)' is available\nin environment '\(env)' and to SLS '\(sls)'"
    }

    /// Salt's `compile_high_data` + `order_chunks`, after `requisite_in`.
    public func lowChunks(_ input: HighData) -> (chunks: [LowChunk], errors: [String]) {
        var high = reconcileExtend(input)
        var errors = high.errors
        requisiteIn(&high, errors: &errors)
        high = applyExclude(high)
        var chunks: [LowChunk] = []
        for (id, body) in high.states {
            guard case .map(let state) = body else { continue }
            for (module, argsValue) in state where !module.hasPrefix("__") {
                let args = argsValue.listValue ?? []
                var chunk: LowChunk = ["state": .string(module), "name": .string(id)]
                chunk["__sls__"] = state["__sls__"] ?? ""
                chunk["__env__"] = state["__env__"] ?? "base"
                chunk["__id__"] = .string(id)
                var functions: [String] = []
                var names: [Value] = []
                for arg in args {
                    if case .string(let f) = arg { functions.append(f); continue }
                    guard case .map(let m) = arg else { continue }
                    for (key, value) in m {
                        switch key {
                        case "names": for n in value.listValue ?? [value] where !names.contains(n) { names.append(n) }
                        case "state": continue
                        case "name" where value.stringValue == nil && value.intValue == nil: chunk["name"] = .string(id)
                        case "name": chunk["name"] = .string(value.pythonString)
                        default: chunk[key] = value
                        }
                    }
                }
                guard let function = functions.first else { continue }
                if names.isEmpty {
                    var live = chunk
                    live["fun"] = .string(function)
                    chunks.append(live)
                } else {
                    for (index, entry) in names.enumerated() {
                        var live = chunk
                        if case .map(let m) = entry, let first = m.elements.first {
                    let (n, extra) = (first.key, first.value)
                            live["name"] = .string(n)
                            for item in extra.listValue ?? [] { for (k, v) in item.mapValue ?? [:] { live[k] = v } }
                        } else {
                            live["name"] = .string(entry.pythonString)
                        }
                        live["name_order"] = .int(index + 1)
                        live["fun"] = .string(function)
                        chunks.append(live)
                    }
                }
            }
        }
        applyUse(&chunks, errors: &errors)
        return (orderChunks(chunks), errors)
    }

    /// Chunks whose state function Brine does not have, as Salt's
    /// `verify_data` words it. Salt fails those states when it reaches
    /// them and runs the others; Brine refuses the run unless asked for
    /// Salt's way (`StateExecutionModule` decides).
    public func unknownFunctions(_ chunks: [LowChunk]) -> [String] {
        var seen = Set<String>()
        return chunks.compactMap { chunk in
            let fullName = "\(chunk["state"]?.pythonString ?? "").\(chunk["fun"]?.pythonString ?? "")"
            guard !states.has(fullName) else { return nil }
            let error = "State '\(fullName)' was not found in SLS '\(chunk["__sls__"]?.pythonString ?? "")' (ID '\(chunk["__id__"]?.pythonString ?? "")')"
            return seen.insert(error).inserted ? error : nil
        }
    }

    /// `watch_in: [{service: apache2}]` on A becomes `watch: [{file: A}]` on
    /// the service state whose ID or name is apache2.
    func requisiteIn(_ high: inout HighData, errors: inout [String]) {
        var additions: [(target: String, module: String, requisite: String, ref: Value)] = []
        // Salt keys its extends by the referenced name: one error per name,
        // worded with the SLS of the last state that referenced it.
        var missing = OrderedDictionary<String, (env: String, sls: String)>()
        for (id, body) in high.states {
            guard case .map(let state) = body else { continue }
            for (module, argsValue) in state where !module.hasPrefix("__") {
                for arg in argsValue.listValue ?? [] {
                    guard case .map(let m) = arg, let first = m.elements.first, let requisite = Requisite.inForms[first.key] else { continue }
                    let value = first.value
                    for ref in value.listValue ?? [value] {
                        let targets = resolveHighReference(ref, in: high)
                        // A bare ID or an `sls:` reference that matches nothing is skipped, as in Salt.
                        if targets.isEmpty, case .map(let m) = ref, let target = m.elements.first, target.key != "sls" {
                            missing[target.value.pythonString] = (state["__env__"]?.pythonString ?? "base", state["__sls__"]?.pythonString ?? "base")
                        }
                        for (targetID, targetModule) in targets {
                            additions.append((targetID, targetModule, requisite.rawValue, .map([module: .string(id)])))
                        }
                    }
                }
            }
        }
        for (name, origin) in missing { errors.append(Self.cannotExtend(name, env: origin.env, sls: origin.sls)) }
        for addition in additions {
            guard case .map(var state) = high.states[addition.target] ?? .null,
                var args = state[addition.module]?.listValue
            else { continue }
            if let i = args.firstIndex(where: { $0.mapValue?.keys.first == addition.requisite }) {
                let existing = args[i][addition.requisite]?.listValue ?? []
                args[i] = .map([addition.requisite: .list(existing + [addition.ref])])
            } else {
                args.append(.map([addition.requisite: .list([addition.ref])]))
            }
            state[addition.module] = .list(args)
            high.states[addition.target] = .map(state)
        }
    }

    /// High-data targets of a reference: `{module: id-or-name}` or a bare ID.
    func resolveHighReference(_ ref: Value, in high: HighData) -> [(String, String)] {
        let (module, key) = ChunkReference.parse(ref)
        var result: [(String, String)] = []
        for (id, body) in high.states {
            guard case .map(let state) = body else { continue }
            for (stateModule, argsValue) in state where !stateModule.hasPrefix("__") {
                if let module, module != stateModule && module != "sls" { continue }
                if module == "sls" {
                    if Glob.match(state["__sls__"]?.pythonString ?? "", key) { result.append((id, stateModule)) }
                    continue
                }
                let name = (argsValue.listValue ?? []).compactMap { $0["name"] }.first?.pythonString ?? id
                // `_in` forms take no globs: Salt turns them into extends of that exact ID.
                if id == key || name == key { result.append((id, stateModule)) }
            }
        }
        return result
    }

    /// `use: [{file: other}]` copies the other state's arguments (not its
    /// requisites or name) where this state has none.
    func applyUse(_ chunks: inout [LowChunk], errors: inout [String]) {
        let skipped: Set<String> = ["name", "names", "__id__", "__sls__", "__env__", "state", "fun", "order", "name_order"]
        for i in chunks.indices {
            guard let uses = chunks[i]["use"]?.listValue else { continue }
            for ref in uses {
                for j in ChunkReference.match(ref, in: chunks) where j != i {
                    for (key, value) in chunks[j] where !skipped.contains(key) && Requisite(rawValue: key) == nil
                        && Requisite.inForms[key] == nil && chunks[i][key] == nil
                    {
                        chunks[i][key] = value
                    }
                }
            }
        }
    }

    /// Salt's `order_chunks`: explicit `order` numbers, `first`/`last`,
    /// then definition order; ties broken by state, name and function.
    func orderChunks(_ input: [LowChunk]) -> [LowChunk] {
        var chunks = input
        var cap = 1
        for chunk in chunks {
            if let order = chunk["order"]?.intValue, order > cap - 1, order > 0 { cap = order + 100 }
        }
        var keys: [Double] = []
        for i in chunks.indices {
            var order: Double
            switch chunks[i]["order"] {
            case .int(let n)?: order = Double(n)
            case .float(let d)?: order = d
            case .string("first")?: order = 0
            case .string("last")?: order = Double(cap + 1_000_000)
            default: order = Double(cap)
            }
            if let nameOrder = chunks[i].removeValue(forKey: "name_order")?.intValue {
                order += Double(nameOrder) / 10000.0
            }
            if order < 0 { order = Double(cap + 1_000_000) + order }
            if order == order.rounded() && abs(order) < 1e15 { chunks[i]["order"] = .int(Int(order)) } else { chunks[i]["order"] = .float(order) }
            keys.append(order)
        }
        let indexed = chunks.indices.sorted { a, b in
            if keys[a] != keys[b] { return keys[a] < keys[b] }
            let ka = "\(chunks[a]["state"]?.pythonString ?? "")\(chunks[a]["name"]?.pythonString ?? "")\(chunks[a]["fun"]?.pythonString ?? "")"
            let kb = "\(chunks[b]["state"]?.pythonString ?? "")\(chunks[b]["name"]?.pythonString ?? "")\(chunks[b]["fun"]?.pythonString ?? "")"
            return ka < kb
        }
        return indexed.map { chunks[$0] }
    }
}

/// Finds the low chunks a requisite reference points at.
enum ChunkReference {
    /// `{module: id-or-name}` → (module, key); a bare string is an ID in
    /// any module.
    static func parse(_ ref: Value) -> (module: String?, key: String) {
        if case .map(let m) = ref, let first = m.elements.first { return (first.key, first.value.pythonString) }
        return (nil, ref.pythonString)
    }

    /// Salt 3008 matches a reference holding `*`, `?`, `[` or `]` as a
    /// glob against the IDs and names of the module's states.
    static func isPattern(_ key: String) -> Bool { key.contains { "*?[]".contains($0) } }

    static func match(_ ref: Value, in chunks: [LowChunk]) -> [Int] {
        let (module, key) = parse(ref)
        if module != "sls", isPattern(key) {
            return chunks.indices.filter { i in
                (module == nil || module == chunks[i]["state"]?.pythonString)
                    && (Glob.match(chunks[i]["__id__"]?.pythonString ?? "", key) || Glob.match(chunks[i]["name"]?.pythonString ?? "", key))
            }
        }
        var result: [Int] = []
        for (i, chunk) in chunks.enumerated() {
            if module == "sls" {
                if Glob.match(chunk["__sls__"]?.pythonString ?? "", key) { result.append(i) }
                continue
            }
            if let module, module != chunk["state"]?.pythonString { continue }
            if chunk["__id__"]?.pythonString == key || chunk["name"]?.pythonString == key { result.append(i) }
        }
        // Salt prefers an ID match over a name match.
        let byID = result.filter { chunks[$0]["__id__"]?.pythonString == key }
        return byID.isEmpty ? result : byID
    }
}

/// Requisite lookups by ID and by name, so resolving every requisite of a
/// run is linear rather than a scan of all chunks per reference.
struct ChunkIndex {
    let chunks: [LowChunk]
    var byID: [String: [Int]] = [:]
    var byName: [String: [Int]] = [:]

    init(_ chunks: [LowChunk]) {
        self.chunks = chunks
        for (i, chunk) in chunks.enumerated() {
            byID[chunk["__id__"]?.pythonString ?? "", default: []].append(i)
            byName[chunk["name"]?.pythonString ?? "", default: []].append(i)
        }
    }

    func match(_ ref: Value) -> [Int] {
        let (module, key) = ChunkReference.parse(ref)
        if module == "sls" || ChunkReference.isPattern(key) { return ChunkReference.match(ref, in: chunks) }
        func ofModule(_ list: [Int]?) -> [Int] {
            (list ?? []).filter { module == nil || chunks[$0]["state"]?.pythonString == module }
        }
        let ids = ofModule(byID[key])
        return ids.isEmpty ? ofModule(byName[key]) : ids
    }
}

/// The state-return key: `file_|-id_|-name_|-managed`.
public func stateTag(_ chunk: LowChunk) -> String {
    "\(chunk["state"]?.pythonString ?? "")_|-\(chunk["__id__"]?.pythonString ?? "")_|-\(chunk["name"]?.pythonString ?? "")_|-\(chunk["fun"]?.pythonString ?? "")"
}
