import Foundation

/// A parsed template bound to its environment. Immutable apart from the
/// cached default module (what `{% import %}` without context sees), which
/// Jinja2 also computes once per template so a formula's `map.jinja` is
/// not re-rendered for every importer.
public final class Template: JinjaObject, @unchecked Sendable {
    public let environment: Environment
    public let name: String?
    public let source: String
    let parsed: ParsedTemplate
    public let globals: [String: Value]
    private let moduleLock = NSLock()
    private var cachedModule: TemplateModule?
    /// The volatile render globals `cachedModule` was made with.
    private var cachedVolatile: [Value?] = []
    /// Runtimes of modules replaced after a volatile global changed.
    private var retiredRuntimes: [Runtime] = []
    /// The runtime that made `cachedModule`: its scopes hold the module's
    /// macros and they hold their scopes, a cycle broken on `clearCache`.
    private var moduleRuntime: Runtime?
    private var profile: ImportProfile?
    private var lastContextImport: ContextImport?
    /// The values the last `with context` import of this template saw.
    private var lastImportValues: [Value?]?
    /// Reuses of a stored `with context` import (for tests).
    private(set) var contextImportHits = 0
    /// Whether a `with context` import is stored (for tests).
    var hasStoredContextImport: Bool {
        moduleLock.lock()
        defer { moduleLock.unlock() }
        return lastContextImport != nil
    }

    init(environment: Environment, name: String?, source: String, parsed: ParsedTemplate, globals: [String: Value]) {
        self.environment = environment
        self.name = name
        self.source = source
        self.parsed = parsed
        self.globals = globals
    }

    public var typeName: String { "Template" }

    /// Renders with the given variables.
    public func render(_ context: [String: Value] = [:]) throws -> String {
        try render(ordered: context.map { ($0.key, $0.value) })
    }

    /// Renders with variables in a given order (order only matters for
    /// things that enumerate the context, which templates rarely do).
    /// `globals` are seen by every template of the render, including those
    /// imported without context (Salt's render variables).
    public func render(ordered context: [(String, Value)], globals: [String: Value] = [:]) throws -> String {
        let runtime = Runtime(env: environment)
        runtime.renderGlobals = globals
        var vars: [String: Value] = [:]
        vars.reserveCapacity(context.count + 1)
        for (k, v) in context { vars[k] = v }
        let root = Scope(parent: nil, vars: vars)
        var out = Output(capacity: source.utf8.count * 2)
        defer { runtime.releaseScopes() }
        _ = try runtime.renderRoot(self, parentScope: root, &out)
        return out.string
    }

    /// The exports of this template rendered without context, cached. It
    /// is made again when a render global the host declared volatile
    /// (`Environment.volatileGlobals`) has changed and the template may
    /// read it (it names it, or imports or includes what might).
    func defaultModule(renderGlobals: [String: Value] = [:]) throws -> TemplateModule {
        let volatile = readsVolatileGlobals ? environment.volatileGlobals.sorted().map { globals[$0] ?? renderGlobals[$0] } : []
        moduleLock.lock()
        if let m = cachedModule, ImportInputs.sameValues(cachedVolatile, volatile) { moduleLock.unlock(); return m }
        moduleLock.unlock()
        // A runtime of its own: the module's scopes live as long as this
        // template (its macros refer to them) and must not be released
        // with the importing render.
        let runtime = Runtime(env: environment)
        runtime.renderGlobals = renderGlobals
        let m = try runtime.makeModule(self, parentScope: Scope(parent: nil, vars: [:]))
        moduleLock.lock()
        // The replaced module's macros may still be held by a render that
        // imported it: its scopes are released with the cache (`clearCache`).
        if let previous = moduleRuntime { retiredRuntimes.append(previous) }
        cachedModule = m
        cachedVolatile = volatile
        moduleRuntime = runtime
        moduleLock.unlock()
        return m
    }

    /// Whether the default module may depend on a volatile render global.
    var readsVolatileGlobals: Bool {
        let volatile = environment.volatileGlobals
        guard !volatile.isEmpty else { return false }
        let profile = importProfile
        return !profile.cacheable || profile.names.contains { volatile.contains($0.string) }
    }

    /// Forgets the cached module (its macros refer back to this template, so
    /// the environment calls this when a reloaded template replaces it).
    /// With `releasing`, the module's scopes are emptied too, which frees
    /// it but breaks its macros for renders still holding them: only for
    /// `clearCache`, not when another thread may still render with them.
    func dropModule(releasing: Bool = false) {
        moduleLock.lock()
        cachedModule = nil
        lastContextImport = nil
        lastImportValues = nil
        let runtime = moduleRuntime
        moduleRuntime = nil
        let retired = retiredRuntimes
        if releasing { retiredRuntimes = [] }
        moduleLock.unlock()
        if releasing {
            runtime?.releaseScopes()
            for old in retired { old.releaseScopes() }
        }
    }

    /// What `with context` imports of this template read (computed once).
    var importProfile: ImportProfile {
        moduleLock.lock()
        defer { moduleLock.unlock() }
        if let profile { return profile }
        let p = ImportProfile(parsed)
        profile = p
        return p
    }

    /// The stored `with context` import, if it was made from the same inputs
    /// for the same requested names (see ImportCache.swift).
    func contextImport(matching inputs: ImportInputs, requested: [String]?) -> ContextImport? {
        moduleLock.lock()
        let last = lastContextImport
        moduleLock.unlock()
        guard let last, last.requested == requested, last.inputs.matches(inputs) else { return nil }
        moduleLock.lock()
        contextImportHits += 1
        moduleLock.unlock()
        return last
    }

    /// Records the values a `with context` import sees; true when the
    /// previous import saw the same ones (only then is reuse worth checking).
    func noteImportValues(_ values: [Value?]) -> Bool {
        moduleLock.lock()
        defer { moduleLock.unlock() }
        let seen = lastImportValues.map { ImportInputs.sameValues($0, values) } ?? false
        lastImportValues = values
        return seen
    }

    func storeContextImport(_ entry: ContextImport) {
        moduleLock.lock()
        lastContextImport = entry
        moduleLock.unlock()
    }

    /// Renders and returns the template's exported variables and macros,
    /// like Jinja2's `Template.module`.
    public func module(_ context: [String: Value] = [:]) throws -> [String: Value] {
        let runtime = Runtime(env: environment)
        let m = try runtime.makeModule(self, parentScope: Scope(parent: nil, vars: context))
        var d: [String: Value] = [:]
        for (k, v) in m.exports { d[k] = v }
        return d
    }
}
