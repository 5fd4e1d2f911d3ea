/// Variables of one scope. Most scopes hold a handful of names (a loop
/// variable, macro parameters), where comparing short strings linearly
/// beats hashing them; larger tables add a hash index.
struct VarTable {
    private(set) var names: [String] = []
    private(set) var values: [Value] = []
    private var index: [String: Int]? = nil
    static let indexThreshold = 12

    init() {}
    init(_ d: [String: Value]) {
        names.reserveCapacity(d.count)
        values.reserveCapacity(d.count)
        for (k, v) in d { self[k] = v }
    }

    @inline(__always) func position(_ name: String) -> Int? {
        if let idx = index { return idx[name] }
        var i = 0
        while i < names.count {
            if names[i] == name { return i }
            i += 1
        }
        return nil
    }

    subscript(name: String) -> Value? {
        @inline(__always) get {
            guard let i = position(name) else { return nil }
            return values[i]
        }
        set {
            if let i = position(name) {
                if let v = newValue { values[i] = v; return }
                names.remove(at: i)
                values.remove(at: i)
                if index != nil { rebuildIndex() }
                return
            }
            guard let v = newValue else { return }
            names.append(name)
            values.append(v)
            if index != nil { index?[name] = names.count - 1 }
            else if names.count > VarTable.indexThreshold { rebuildIndex() }
        }
    }

    /// Replaces the value of the name at `slot` (from `position`).
    @inline(__always) mutating func setValue(_ v: Value, at slot: Int) { values[slot] = v }

    private mutating func rebuildIndex() {
        var d: [String: Int] = [:]
        for (i, n) in names.enumerated() { d[n] = i }
        index = d
    }

    var pairs: Zip2Sequence<[String], [Value]> { zip(names, values) }

    /// Empties the table but keeps its storage (loop scopes reused per iteration).
    mutating func removeAll() {
        names.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        index = nil
    }
}

/// A variable scope; lookups walk to the parent. Loops, macros, `with`
/// and blocks push scopes; `if` does not (as in Jinja2).
final class Scope {
    /// Read on every name lookup and written on every loop iteration; the
    /// runtime never holds an access across a nested one, so the dynamic
    /// exclusivity check (a measurable cost here) is skipped.
    @exclusivity(unchecked) var vars: VarTable
    let parent: Scope?

    init(parent: Scope?, vars: [String: Value] = [:]) {
        self.parent = parent
        self.vars = vars.isEmpty ? VarTable() : VarTable(vars)
    }

    @inline(__always) func lookup(_ name: String) -> Value? {
        var s: Scope? = self
        while let c = s {
            if let v = c.vars[name] { return v }
            s = c.parent
        }
        return nil
    }

    /// Every visible variable, inner scopes winning.
    func flattened() -> [String: Value] {
        var chain: [Scope] = []
        var s: Scope? = self
        while let c = s { chain.append(c); s = c.parent }
        var out: [String: Value] = [:]
        for c in chain.reversed() { for (k, v) in c.vars.pairs { out[k] = v } }
        return out
    }
}

/// Per-template-render state shared along an `extends` chain: the
/// template-level variables, the block stacks and the pending parent.
final class Context {
    let top: Scope
    // Read for every root-level statement; written by `extends`, `block` and
    // top-level assignments, never across a nested access: unchecked, as Scope.vars.
    @exclusivity(unchecked) var blocks: [String: [(BlockNode, Template)]] = [:]
    @exclusivity(unchecked) var parentTemplate: Template?
    @exclusivity(unchecked) var exported: [String] = []
    @exclusivity(unchecked) var exportedSet: Set<String> = []

    init(top: Scope) { self.top = top }

    func export(_ name: String) {
        if !name.hasPrefix("_") && exportedSet.insert(name).inserted { exported.append(name) }
    }
}

/// Where evaluation currently is: scope, template context and flags.
public struct Frame {
    let scope: Scope
    let ctx: Context
    let template: Template
    var autoescape: Bool
    /// Root-level code of a template: output is dropped once `extends` ran.
    var rootLevel: Bool
    /// Assignments go to the template top level (and are exported).
    var topLevel: Bool

    /// The same frame over another scope (not the template top level unless asked).
    func with(scope: Scope, topLevel: Bool = false) -> Frame {
        Frame(scope: scope, ctx: ctx, template: template, autoescape: autoescape, rootLevel: rootLevel, topLevel: topLevel)
    }
}

/// Handed to filters, tests and host functions: lets them call other
/// callables (macros, filters), create undefineds and read variables.
public struct CallContext {
    let runtime: Runtime
    let frame: Frame

    public var environment: Environment { runtime.env }
    /// Whether the current output is being HTML-escaped.
    public var autoescape: Bool { frame.autoescape }

    /// Calls any callable value (macro, function, bound method…).
    public func call(_ callee: Value, _ args: Arguments) throws -> Value {
        try runtime.call(callee, args, frame)
    }
    /// Applies a filter by name.
    public func filter(_ name: String, _ value: Value, _ args: Arguments = Arguments()) throws -> Value {
        try runtime.applyFilter(name, value, args, frame)
    }
    /// Applies a test by name.
    public func test(_ name: String, _ value: Value, _ args: Arguments = Arguments()) throws -> Bool {
        try runtime.applyTest(name, value, args, frame)
    }
    /// Looks up a template variable (locals, context, globals).
    public func resolve(_ name: String) -> Value { runtime.lookup(name, frame) }
    /// An undefined value of the environment's kind.
    public func undefined(_ name: String? = nil, hint: String? = nil) -> Value {
        .undefined(Undefined(name: name, hint: hint, kind: runtime.env.undefined))
    }
    /// Jinja's attribute lookup (`getattr` then item).
    public func getattr(_ value: Value, _ name: String) throws -> Value {
        try runtime.getattr(value, name, frame)
    }
    /// Jinja's item lookup (item then `getattr`).
    public func getitem(_ value: Value, _ key: Value) throws -> Value {
        try runtime.getitem(value, key, frame)
    }
    /// Turns a value into a list as Python's `list()` would.
    public func iterate(_ value: Value) throws -> [Value] { try runtime.iterate(value) }
}
