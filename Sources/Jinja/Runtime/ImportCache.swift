/// Reusing `{% import … with context %}` across renders.
///
/// A Salt formula's `map.jinja` is imported with context by every state
/// file of the formula, each render executing it again (Jinja2 does the
/// same). Its result is a function of the template and of the variables it
/// can read, so an import is reused when all of this holds, and executed
/// otherwise:
///
/// - the template includes, imports, extends nothing and has no blocks or
///   host tags (statically, `ImportProfile`);
/// - every name it references resolves, in the importer's scope chain, to
///   plain data (none, booleans, numbers, strings, lists, tuples, dicts,
///   namespaces) or a pure function, and to the same values as when the
///   result was stored: the same scalars, the same list/dict/namespace
///   objects (held by the cache, so never a reused address) with the same
///   change counters all the way down (`DictBox.version`, `ListBox.version`);
/// - while it ran, it called nothing impure (host functions, filters or
///   tests not declared pure) and changed none of those inputs;
/// - the imported values are plain data sharing no list or dict with the
///   inputs (so no importer can observe that it got a copy).
///
/// The stored values are a deep copy taken right after the import ran, and
/// every reuse hands out a fresh deep copy: importers may change what they
/// imported without affecting each other. Errors are never cached.
///
/// Only the same objects coming back makes reuse possible, so an import is
/// stored the second time in a row it sees the same top-level values and
/// reused from the third: a host that converts its data for every render
/// pays a look-up of the names per import, nothing more.
struct ImportProfile: Sendable {
    let cacheable: Bool
    /// Every name the template reads (minus its own `self`).
    let names: [VarName]

    init(_ parsed: ParsedTemplate) {
        var scan = NameCollector()
        scan.statements(parsed.body)
        cacheable = scan.cacheable && parsed.blocks.isEmpty
        scan.names.remove("self")
        names = scan.names.sorted().map(VarName.init)
    }
}

/// Collects the names a template reads; notes what makes it uncacheable.
struct NameCollector {
    var names: Set<String> = []
    var cacheable = true

    mutating func statements(_ body: [Stmt]) { for s in body { statement(s) } }

    mutating func statement(_ s: Stmt) {
        switch s {
        case .text, .breakLoop, .continueLoop: break
        case .output(let e, _), .exprStmt(let e, _): expr(e)
        case .ifs(let branches, let els, _):
            for (t, b) in branches { expr(t); statements(b) }
            statements(els ?? [])
        case .forLoop(let node, _):
            expr(node.iter)
            if let fl = node.filter { expr(fl) }
            statements(node.body)
            statements(node.elseBody)
        case .assign(let target, let e, _):
            if case .nsattr(let ns, _) = target { names.insert(ns) }
            expr(e)
        case .assignBlock(let target, let fl, let body, _):
            if case .nsattr(let ns, _) = target { names.insert(ns) }
            if let fl { expr(fl) }
            statements(body)
        case .macro(let m, _): macro(m)
        case .callBlock(let call, let m, _): expr(call); macro(m)
        case .filterBlock(let fl, let body, _): expr(fl); statements(body)
        case .with(let pairs, let body, _):
            for (_, e) in pairs { expr(e) }
            statements(body)
        case .autoescape(let e, let body, _): expr(e); statements(body)
        case .scope(let body): statements(body)
        case .compiledBody(let cb): statements(cb.stmts)
        case .block, .extends, .include, .importStmt, .ext, .debug: cacheable = false
        }
    }

    mutating func macro(_ m: MacroDef) {
        for (_, d) in m.params { if let d { expr(d) } }
        statements(m.body)
    }

    mutating func args(_ a: CallArgs) {
        for x in a.args { expr(x) }
        for (_, x) in a.kwargs { expr(x) }
        if let d = a.dynArgs { expr(d) }
        if let d = a.dynKwargs { expr(d) }
    }

    mutating func expr(_ e: Expr) {
        switch e {
        case .const: break
        case .compiled(let c): expr(c.expr)
        case .name(let n): names.insert(n)
        case .getattr(let a, _), .neg(let a), .pos(let a), .not(let a): expr(a)
        case .getitem(let a, let b), .binop(_, let a, let b), .and(let a, let b), .or(let a, let b): expr(a); expr(b)
        case .slice(let a, let b, let c): for x in [a, b, c] { if let x { expr(x) } }
        case .compare(let a, let ops): expr(a); for (_, x) in ops { expr(x) }
        case .concat(let xs), .list(let xs), .tuple(let xs): for x in xs { expr(x) }
        case .dict(let pairs): for (k, v) in pairs { expr(k); expr(v) }
        case .cond(let t, let a, let b): expr(t); expr(a); if let b { expr(b) }
        case .call(let fn, let a): expr(fn); args(a)
        case .filter(let input, _, let a, _): if let input { expr(input) }; args(a)
        case .test(let input, _, let a, _, _): expr(input); args(a)
        }
    }
}

/// What an import could read, as it found it: the values of its names
/// (held, so their objects stay alive) and every container reachable from
/// them with its change counter, in walk order.
struct ImportInputs {
    var values: [Value?] = []
    var containers: [(ObjectIdentifier, UInt64)] = []

    /// The values the template's names have for an import from `scope` (the
    /// importer's; `t`'s globals and the environment's are looked at next,
    /// as `Runtime.lookup` does). Nil when one of them rules reuse out (a
    /// host object such as Salt's `salt`), before any data is walked.
    static func values(_ profile: ImportProfile, _ t: Template, _ rt: Runtime, _ scope: Scope) -> [Value?]? {
        var values: [Value?] = []
        values.reserveCapacity(profile.names.count)
        for name in profile.names {
            let v = scope.lookup(name) ?? t.globals[name.string] ?? rt.renderGlobals[name.string] ?? rt.env.globals[name.string]
            if let v, !ImportInputs.walkable(v) { return nil }
            values.append(v)
        }
        return values
    }

    /// Nil when some value is not plain data or a pure function, or there
    /// is too much to walk for reuse to pay.
    init?(values: [Value?]) {
        self.values = values
        var budget = 4096
        for v in values { if let v, !ImportInputs.walk(v, &containers, &budget) { return nil } }
    }

    /// The same top-level values (identical objects, equal scalars).
    static func sameValues(_ a: [Value?], _ b: [Value?]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            switch (x, y) {
            case (nil, nil): continue
            case (let p?, let q?): if !same(p, q) { return false }
            default: return false
            }
        }
        return true
    }

    /// Whether a value can be an input at all, judged at its top level.
    static func walkable(_ v: Value) -> Bool {
        switch v {
        case .function(let fn): return fn.isPure
        case .object(let o): return o is NamespaceObject
        case .undefined: return false
        default: return true
        }
    }

    static func walk(_ v: Value, _ out: inout [(ObjectIdentifier, UInt64)], _ budget: inout Int) -> Bool {
        budget -= 1
        if budget < 0 { return false }
        switch v {
        case .none, .bool, .int, .float, .string, .markup: return true
        case .list(let l):
            out.append((ObjectIdentifier(l), l.version))
            for x in l.items where !walk(x, &out, &budget) { return false }
            return true
        case .tuple(let t):
            for x in t where !walk(x, &out, &budget) { return false }
            return true
        case .dict(let d):
            out.append((ObjectIdentifier(d), d.version))
            // keys are hashable values (scalars, tuples of them): nothing to follow
            for x in d.values where !walk(x, &out, &budget) { return false }
            return true
        case .function(let fn): return fn.isPure
        case .object(let o):
            guard let ns = o as? NamespaceObject else { return false }
            return walk(.dict(ns.attrs), &out, &budget)
        case .undefined: return false
        }
    }

    /// The same inputs: identical objects, equal scalars, unchanged counters.
    func matches(_ other: ImportInputs) -> Bool {
        guard containers.count == other.containers.count, ImportInputs.sameValues(values, other.values) else { return false }
        return zip(containers, other.containers).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// Identity for objects, exact equality (type and bytes) for scalars.
    static func same(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)), (.markup(let x), .markup(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.list(let x), .list(let y)): return x === y
        case (.dict(let x), .dict(let y)): return x === y
        case (.tuple(let x), .tuple(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.function(let x), .function(let y)): return x === y
        case (.object(let x), .object(let y)): return x === y
        default: return false
        }
    }

    var containerSet: Set<ObjectIdentifier> { Set(containers.map(\.0)) }
}

/// A stored import: what it read and a deep copy of what it exported.
final class ContextImport: @unchecked Sendable {
    let inputs: ImportInputs
    /// The names the importing statement asked for (nil: the whole module).
    let requested: [String]?
    let exports: [(String, Value)]
    let body: String
    let templateName: String?

    init(inputs: ImportInputs, requested: [String]?, exports: [(String, Value)], body: String, templateName: String?) {
        self.inputs = inputs
        self.requested = requested
        self.exports = exports
        self.body = body
        self.templateName = templateName
    }

    /// A module with fresh copies of the stored values.
    func module() -> TemplateModule {
        TemplateModule(exports: exports.map { ($0.0, $0.1.deepCopy()) }, body: body, templateName: templateName)
    }

    /// Plain data whose lists and dicts are all new: collects their identities.
    static func plain(_ v: Value, _ ids: inout Set<ObjectIdentifier>) -> Bool {
        switch v {
        case .none, .bool, .int, .float, .string, .markup: return true
        case .list(let l):
            ids.insert(ObjectIdentifier(l))
            return l.items.allSatisfy { plain($0, &ids) }
        case .tuple(let t): return t.allSatisfy { plain($0, &ids) }
        case .dict(let d):
            ids.insert(ObjectIdentifier(d))
            return d.values.allSatisfy { plain($0, &ids) } && d.keys.allSatisfy { plain($0, &ids) }
        default: return false
        }
    }
}

extension Runtime {
    /// `{% import/from … with context %}`: reused when ImportCache.swift's
    /// conditions hold, executed (and possibly stored) otherwise.
    func contextModule(_ t: Template, _ names: ImportNames, _ f: Frame) throws -> TemplateModule {
        let profile = t.importProfile
        // Reuse can only pay when the same objects come back: a host that
        // converts its data for every render stops at the second check,
        // having only looked its names up.
        guard profile.cacheable, env.sandbox == .none, env.finalize == nil, !isNative,
              let values = ImportInputs.values(profile, t, self, f.scope),
              t.noteImportValues(values),
              let inputs = ImportInputs(values: values) else {
            return try makeModule(t, parentScope: f.scope)
        }
        let requested: [String]?
        switch names {
        case .module: requested = nil
        case .names(let pairs): requested = pairs.map(\.0)
        }
        if let hit = t.contextImport(matching: inputs, requested: requested) { return hit.module() }
        let impureBefore = impureCalls
        let module = try makeModule(t, parentScope: f.scope)
        guard impureCalls == impureBefore, let valuesAfter = ImportInputs.values(profile, t, self, f.scope),
              let after = ImportInputs(values: valuesAfter), after.matches(inputs) else {
            return module
        }
        let wanted = requested.map { r in module.exports.filter { r.contains($0.0) } } ?? module.exports
        var exported = Set<ObjectIdentifier>()
        guard wanted.allSatisfy({ ContextImport.plain($0.1, &exported) }),
              exported.isDisjoint(with: inputs.containerSet) else { return module }
        t.storeContextImport(ContextImport(inputs: inputs, requested: requested,
                                           exports: wanted.map { ($0.0, $0.1.deepCopy()) },
                                           body: module.body, templateName: module.templateName))
        return module
    }
}
