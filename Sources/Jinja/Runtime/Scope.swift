/// A variable name with its fingerprint: its UTF-8 length and first seven
/// bytes in one integer. Names compare by fingerprint first, and names of
/// up to seven bytes (nearly all template names) by fingerprint alone,
/// instead of calling into the string comparison for every mismatch.
struct VarName: Sendable {
    let string: String
    let fingerprint: UInt64

    init(_ s: String) {
        string = s
        fingerprint = VarName.fingerprint(s)
    }

    static func fingerprint(_ s: String) -> UInt64 {
        let count = s.utf8.count
        let head: UInt64? = s.utf8.withContiguousStorageIfAvailable { bytes in
            var h: UInt64 = 0
            for i in 0..<Swift.min(count, 7) { h |= UInt64(bytes[i]) << UInt64(8 * i) }
            return h
        }
        var h = head ?? 0
        if head == nil {
            for (i, b) in s.utf8.prefix(7).enumerated() { h |= UInt64(b) << UInt64(8 * i) }
        }
        // the length saturates at 255 (never looks like a short, exact name)
        return UInt64(Swift.min(count, 255)) << 56 | h
    }

    /// Whether the fingerprint alone identifies the name.
    @inline(__always) var isExact: Bool { fingerprint >> 56 <= 7 }
}

/// Variables of one scope. Most scopes hold a handful of names (a loop
/// variable, macro parameters), where comparing fingerprints linearly
/// beats hashing them; larger tables add a hash index.
///
/// The entries live in memory this table allocates and frees itself
/// (the table is non-copyable, owned by its `Scope`): a look-up then reads
/// them without retaining and releasing an array buffer, which is most of
/// what a look-up cost with an `Array`.
struct VarTable: ~Copyable {
    struct Entry {
        let name: String
        let fingerprint: UInt64
        var value: Value
    }
    private var storage: UnsafeMutablePointer<Entry>? = nil
    private(set) var count = 0
    private var capacity = 0
    private var hasIndex = false
    private var index: [String: Int] = [:]
    static let indexThreshold = 24

    init() {}
    init(_ d: [String: Value]) {
        reserve(d.count)
        for (k, v) in d { set(VarName(k), v) }
    }

    deinit {
        if let storage {
            storage.deinitialize(count: count)
            storage.deallocate()
        }
    }

    mutating func reserve(_ n: Int) {
        guard n > capacity else { return }
        let grown = UnsafeMutablePointer<Entry>.allocate(capacity: n)
        if let storage {
            grown.moveInitialize(from: storage, count: count)
            storage.deallocate()
        }
        storage = grown
        capacity = n
    }

    @inline(__always) func position(_ name: String) -> Int? {
        position(VarName(name))
    }

    @inline(__always) func position(_ name: VarName) -> Int? {
        if hasIndex { return index[name.string] }
        guard let e = storage else { return nil }
        let fp = name.fingerprint
        var i = 0
        if name.isExact {
            while i < count {
                if e[i].fingerprint == fp { return i }
                i += 1
            }
            return nil
        }
        while i < count {
            if e[i].fingerprint == fp && e[i].name == name.string { return i }
            i += 1
        }
        return nil
    }

    @inline(__always) func value(_ name: VarName) -> Value? {
        guard let i = position(name), let e = storage else { return nil }
        return e[i].value
    }

    @inline(__always) func value(at slot: Int) -> Value? {
        guard let e = storage, slot < count else { return nil }
        return e[slot].value
    }

    @inline(__always) func name(at slot: Int) -> String? {
        guard let e = storage, slot < count else { return nil }
        return e[slot].name
    }

    subscript(name: String) -> Value? {
        @inline(__always) get { value(VarName(name)) }
        set { set(VarName(name), newValue) }
    }

    mutating func set(_ name: VarName, _ newValue: Value?) {
        if let i = position(name), let e = storage {
            if let v = newValue { e[i].value = v; return }
            // remove entry i, keeping the order
            (e + i).deinitialize(count: 1)
            if i + 1 < count { (e + i).moveInitialize(from: e + i + 1, count: count - i - 1) }
            count -= 1
            if hasIndex { rebuildIndex() }
            return
        }
        guard let v = newValue else { return }
        if count == capacity { reserve(Swift.max(4, capacity * 2)) }
        guard let e = storage else { return }
        (e + count).initialize(to: Entry(name: name.string, fingerprint: name.fingerprint, value: v))
        count += 1
        if hasIndex { index[name.string] = count - 1 }
        else if count > VarTable.indexThreshold { rebuildIndex() }
    }

    /// Replaces the value of the name at `slot` (from `position`).
    @inline(__always) mutating func setValue(_ v: Value, at slot: Int) {
        guard let e = storage, slot < count else { return }
        e[slot].value = v
    }

    private mutating func rebuildIndex() {
        var d: [String: Int] = [:]
        if let e = storage { for i in 0..<count { d[e[i].name] = i } }
        index = d
        hasIndex = true
    }

    var pairs: [(String, Value)] {
        guard let e = storage else { return [] }
        return (0..<count).map { (e[$0].name, e[$0].value) }
    }

    /// Empties the table but keeps its storage (loop scopes reused per iteration).
    mutating func removeAll() {
        if let e = storage { e.deinitialize(count: count) }
        count = 0
        index = [:]
        hasIndex = false
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
        lookup(VarName(name))
    }

    /// The hottest path of a render. The chain is walked through unowned
    /// references: every scope on it is kept alive by its child, and the
    /// innermost by the caller, so retaining each one in turn (and its
    /// table) only added reference-count traffic.
    @inline(__always) func lookup(_ name: VarName) -> Value? {
        var current = Unmanaged.passUnretained(self)
        while true {
            var next: Unmanaged<Scope>? = nil
            let found: Value? = current._withUnsafeGuaranteedRef { c in
                if let i = c.vars.position(name) { return c.vars.value(at: i) }
                if let p = c.parent { next = Unmanaged.passUnretained(p) }
                return nil
            }
            if let found { return found }
            guard let n = next else { return nil }
            current = n
        }
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
///
/// A class, not a struct: every compiled expression, filter and test is
/// handed the frame, and a reference is one pointer to pass and one count
/// to retain where a struct of three references needed three. Frames are
/// made per macro call, loop or block, far less often than they are passed.
public final class Frame {
    let scope: Scope
    let ctx: Context
    let template: Template
    let autoescape: Bool
    /// Root-level code of a template: output is dropped once `extends` ran.
    let rootLevel: Bool
    /// Assignments go to the template top level (and are exported).
    let topLevel: Bool

    init(scope: Scope, ctx: Context, template: Template, autoescape: Bool, rootLevel: Bool, topLevel: Bool) {
        self.scope = scope
        self.ctx = ctx
        self.template = template
        self.autoescape = autoescape
        self.rootLevel = rootLevel
        self.topLevel = topLevel
    }

    /// The same frame over another scope (not the template top level unless asked).
    func with(scope: Scope, topLevel: Bool = false) -> Frame {
        Frame(scope: scope, ctx: ctx, template: template, autoescape: autoescape, rootLevel: rootLevel, topLevel: topLevel)
    }

    /// The same frame but not root-level (captured output is never dropped).
    var asNonRoot: Frame {
        rootLevel ? Frame(scope: scope, ctx: ctx, template: template, autoescape: autoescape, rootLevel: false, topLevel: topLevel) : self
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
    /// Every variable visible here by name (Jinja's `Context.items()` plus
    /// the names in scope), sorted: globals, then render variables, then
    /// assignments, each overriding the one before.
    public var visibleVariables: [(String, Value)] {
        var visible = runtime.env.globals
        for (k, v) in runtime.renderGlobals { visible[k] = v }
        for (k, v) in frame.template.globals { visible[k] = v }
        for (k, v) in frame.scope.flattened() where k != "self" { visible[k] = v }
        return visible.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
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
