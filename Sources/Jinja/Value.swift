/// A Python-like value as Jinja templates see it.
///
/// Lists and dicts are reference types (`ListBox`, `DictBox`) on purpose:
/// templates rely on Python's sharing semantics (`{% do d.update(x) %}`,
/// host callables merging dicts in place), so a copy would change output.
/// A render runs on one thread; the boxes are `@unchecked Sendable` so that
/// values can cross into host closures, not so they can be shared while mutated.
public enum Value: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    /// A string already safe for HTML (Jinja's `Markup`).
    case markup(String)
    case list(ListBox)
    case tuple([Value])
    case dict(DictBox)
    case undefined(Undefined)
    case function(Function)
    /// Anything else with attributes: namespaces, loops, macros, cyclers, modules…
    case object(any JinjaObject)
}

/// A mutable Python list shared by reference.
public final class ListBox: @unchecked Sendable {
    /// Every change bumps `version` (in place: `didSet` without `oldValue`).
    public var items: [Value] { didSet { version &+= 1 } }
    /// Counts changes, so a cached `with context` import can tell that a
    /// list it was rendered from is unchanged (see ImportCache.swift).
    @exclusivity(unchecked) public private(set) var version: UInt64 = 0
    public init(_ items: [Value] = []) { self.items = items }
}

/// An insertion-ordered Python dict shared by reference. Keys may be any
/// hashable value (strings, ints, tuples, …); `1`, `1.0` and `True` collide as in Python.
public final class DictBox: @unchecked Sendable {
    // Only this class's own methods write these, never while another access
    // is open, and a render runs on one thread: the dynamic exclusivity
    // checks (a few percent of a render, dict look-ups being the hottest
    // path) are skipped.
    @exclusivity(unchecked) public private(set) var keys: [Value] = []
    @exclusivity(unchecked) public private(set) var values: [Value] = []
    /// Built once a dict outgrows `indexThreshold`: most template dicts hold a
    /// handful of keys, where comparing them beats hashing the looked-up one.
    @exclusivity(unchecked) private var index: [HashKey: Int]? = nil
    static let indexThreshold = 8
    /// Counts changes, so a cached `with context` import can tell that a
    /// dict it was rendered from is unchanged (see ImportCache.swift).
    @exclusivity(unchecked) public private(set) var version: UInt64 = 0
    /// Python's `OrderedDict` rather than `dict`: the host sets it on data it
    /// hands in (Salt's pillar is made of OrderedDicts). Jinja itself never
    /// reads it; Salt's `yaml` filter writes such dicts in their own order
    /// and sorts the keys of plain ones.
    public var keepsOrder = false

    public init() {}
    /// An empty dict with room for `capacity` keys (dict literals).
    public init(capacity: Int) {
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }
    public init(_ pairs: [(Value, Value)]) {
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }
    public convenience init(_ dict: [String: Value]) {
        self.init(dict.sorted { $0.key < $1.key }.map { (Value.string($0.key), $0.value) })
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Where `key` is, with Python's equality of keys (`1 == 1.0 == True`,
    /// a string equals its Markup).
    private func position(_ key: Value) -> Int? {
        if let index {
            guard let hk = HashKey(key) else { return nil }
            return index[hk]
        }
        switch key {
        case .string(let s), .markup(let s):
            var i = 0
            while i < keys.count {
                switch keys[i] {
                case .string(let k), .markup(let k): if k == s { return i }
                default: break
                }
                i += 1
            }
            return nil
        default:
            guard let hk = HashKey(key) else { return nil }
            return keys.firstIndex { HashKey($0) == hk }
        }
    }

    private func rebuildIndex() {
        var built: [HashKey: Int] = [:]
        for (j, k) in keys.enumerated() { if let h = HashKey(k) { built[h] = j } }
        index = built
    }

    public subscript(key: Value) -> Value? {
        get {
            guard let i = position(key) else { return nil }
            return values[i]
        }
        set {
            version &+= 1
            if let v = newValue {
                // replacing needs no hash key; only a new key is checked and indexed
                if let i = position(key) { values[i] = v; return }
                guard let hk = HashKey(key) else { return }
                keys.append(key)
                values.append(v)
                if index != nil { index?[hk] = keys.count - 1 } else if keys.count > DictBox.indexThreshold { rebuildIndex() }
            } else if let i = position(key) {
                keys.remove(at: i)
                values.remove(at: i)
                if keys.count > DictBox.indexThreshold { rebuildIndex() } else { index = nil }
            }
        }
    }
    public subscript(key: String) -> Value? {
        get { self[.string(key)] }
        set { self[.string(key)] = newValue }
    }
    public func contains(_ key: Value) -> Bool { position(key) != nil }
    public var pairs: [(Value, Value)] { Array(zip(keys, values)) }
    public func removeAll() { keys = []; values = []; index = nil; version &+= 1 }
    public func copy() -> DictBox { copy { $0 } }

    /// A new dict with the same keys (already unique: no look-ups) and
    /// `transform`ed values.
    public func copy(_ transform: (Value) throws -> Value) rethrows -> DictBox {
        let d = DictBox()
        d.keys = keys
        d.values = try values.map(transform)
        d.index = index
        d.keepsOrder = keepsOrder
        return d
    }
}

/// Python's hashing rules reduced to what templates need.
public enum HashKey: Hashable, Sendable {
    case none
    case int(Int)
    case float(Double)
    case string(String)
    case tuple([HashKey])
    case object(ObjectIdentifier)

    public init?(_ v: Value) {
        switch v {
        case .none: self = .none
        case .bool(let b): self = .int(b ? 1 : 0)
        case .int(let i): self = .int(i)
        case .float(let d):
            if d == d.rounded(), abs(d) < 9.2e18 { self = .int(Int(d)) } else { self = .float(d) }
        case .string(let s), .markup(let s): self = .string(s)
        case .tuple(let items):
            var ks: [HashKey] = []
            for i in items { guard let k = HashKey(i) else { return nil }; ks.append(k) }
            self = .tuple(ks)
        case .list, .dict: return nil
        case .undefined: self = .none
        case .function(let f): self = .object(ObjectIdentifier(f))
        case .object(let o):
            if let b = o as? BigIntObject { self = .string("\u{0}bigint:" + b.value.description); return }
            self = .object(ObjectIdentifier(o))
        }
    }
}

/// Which flavour of Jinja2 `Undefined` an environment produces.
public enum UndefinedKind: Sendable {
    case `default`, chainable, strict, debug
}

/// A missing value, remembering what was looked up so errors read like Jinja2's.
public final class Undefined: Sendable {
    /// The missing name or key as looked up (`.string("foo")`, `.int(3)`).
    public let key: Value?
    /// `object_type_repr` of the object the key was missing from (`dict object`).
    public let ownerType: String?
    public let hint: String?
    public let kind: UndefinedKind
    /// The error raised when the value is used (SecurityError for sandbox-blocked attributes).
    public let errorKind: JinjaErrorKind

    public init(key: Value?, ownerType: String? = nil, hint: String? = nil, kind: UndefinedKind, errorKind: JinjaErrorKind = .undefinedError) {
        self.key = key
        self.ownerType = ownerType
        self.hint = hint
        self.kind = kind
        self.errorKind = errorKind
    }

    /// A missing variable or attribute by name.
    public convenience init(name: String?, hint: String? = nil, kind: UndefinedKind, errorKind: JinjaErrorKind = .undefinedError) {
        self.init(key: name.map { .string($0) }, hint: hint, kind: kind, errorKind: errorKind)
    }

    /// The name as Python's repr (`'foo'`), computed only for messages.
    public var name: String? { key.map { (try? $0.repr()) ?? "?" } }
    /// The owner type quoted as in Jinja2's messages (`'dict object'`).
    public var owner: String? { ownerType.map(pyRepr) }

    public var message: String {
        if let hint = hint { return hint }
        guard let name = name else { return "value is undefined" }
        if let owner = owner { return "\(owner) has no attribute \(name)" }
        return "\(name) is undefined"
    }

    public func error() -> JinjaError { JinjaError(errorKind, message) }
}

/// Positional and keyword arguments of a call, in source order.
public struct Arguments: Sendable {
    public var positional: [Value]
    public var keywords: [(name: String, value: Value)]

    public init(_ positional: [Value] = [], keywords: [(name: String, value: Value)] = []) {
        self.positional = positional
        self.keywords = keywords
    }

    public func keyword(_ name: String) -> Value? {
        keywords.first { $0.name == name }?.value
    }

    /// Python-style binding: positional index `i`, else keyword `name`, else nil.
    public func get(_ i: Int, _ name: String) -> Value? {
        if i < positional.count { return positional[i] }
        return keyword(name)
    }
}

/// A callable value (host function, built-in global or method).
public final class Function: Sendable {
    public let name: String
    public let body: @Sendable (Arguments, CallContext) throws -> Value
    /// The result depends only on the arguments and the call has no side
    /// effect (`range`, `dict`): a `with context` import calling only pure
    /// functions may be reused (ImportCache.swift). Host functions are not
    /// pure unless they say so.
    public let isPure: Bool

    public init(_ name: String, pure: Bool = false, _ body: @escaping @Sendable (Arguments, CallContext) throws -> Value) {
        self.name = name
        self.isPure = pure
        self.body = body
    }
}

/// Objects exposing attributes to templates (and optionally callable).
public protocol JinjaObject: AnyObject, Sendable {
    /// Python type name used in messages and `object_type_repr`.
    var typeName: String { get }
    func attribute(_ name: String, _ ctx: CallContext) throws -> Value?
    func call(_ args: Arguments, _ ctx: CallContext) throws -> Value
    var isCallable: Bool { get }
    /// `str()` of the object.
    func str(_ ctx: CallContext?) throws -> String
    func setAttribute(_ name: String, _ value: Value) throws
}

extension JinjaObject {
    public func attribute(_ name: String, _ ctx: CallContext) throws -> Value? { nil }
    public func call(_ args: Arguments, _ ctx: CallContext) throws -> Value {
        throw JinjaError.type("'\(typeName)' object is not callable")
    }
    public var isCallable: Bool { false }
    public func str(_ ctx: CallContext?) throws -> String { "<\(typeName) object>" }
    public func setAttribute(_ name: String, _ value: Value) throws {
        throw JinjaError(.templateRuntimeError, "cannot assign attribute on non-namespace object")
    }
}

extension Value {
    public static func list(_ items: [Value]) -> Value { .list(ListBox(items)) }
    public static func dict(_ pairs: [(Value, Value)]) -> Value { .dict(DictBox(pairs)) }
    public static func dict(_ d: [String: Value]) -> Value { .dict(DictBox(d)) }

    /// A copy sharing no mutable containers with the original (lists,
    /// dicts and namespaces are copied recursively; other objects are shared).
    public func deepCopy() -> Value {
        switch self {
        case .list(let l): return .list(ListBox(l.items.map { $0.deepCopy() }))
        case .tuple(let t): return .tuple(t.map { $0.deepCopy() })
        case .dict(let d): return .dict(d.copy { $0.deepCopy() })
        case .object(let ns as NamespaceObject): return .object(NamespaceObject(DictBox(ns.attrs.pairs.map { ($0.0, $0.1.deepCopy()) })))
        default: return self
        }
    }

    public var isUndefined: Bool { if case .undefined = self { return true }; return false }
    public var isNone: Bool { if case .none = self { return true }; return false }
    public var isString: Bool {
        switch self { case .string, .markup: return true; default: return false }
    }
    public var isMarkup: Bool { if case .markup = self { return true }; return false }
    public var stringValue: String? {
        switch self { case .string(let s), .markup(let s): return s; default: return nil }
    }
    public var isNumber: Bool {
        switch self { case .int, .float, .bool: return true; default: return false }
    }
    public var isCallable: Bool {
        switch self {
        case .function: return true
        case .object(let o): return o.isCallable
        default: return false
        }
    }

    /// Python truthiness.
    public func truthy() throws -> Bool {
        switch self {
        case .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s), .markup(let s): return !s.isEmpty
        case .list(let l): return !l.items.isEmpty
        case .tuple(let t): return !t.isEmpty
        case .dict(let d): return !d.isEmpty
        case .undefined(let u):
            if u.kind == .strict { throw u.error() }
            return false
        case .function: return true
        case .object(let o):
            if let ns = o as? LengthObject { return ns.length > 0 }
            return true
        }
    }

    /// Python type name, as in error messages (`'int' object is not iterable`).
    public var typeName: String {
        switch self {
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .markup: return "Markup"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .undefined: return "Undefined"
        case .function: return "function"
        case .object(let o): return o.typeName
        }
    }

    /// Jinja2's `object_type_repr`: `'dict object'`, `None`, …
    var objectTypeRepr: String {
        // literals for the built-in types: every missing attribute (`u.shell`
        // then `|default`) records this, an interpolation per look-up
        switch self {
        case .none: return "None"
        case .undefined: return "Undefined"
        case .dict: return "dict object"
        case .list: return "list object"
        case .tuple: return "tuple object"
        case .string: return "str object"
        case .markup: return "Markup object"
        case .int: return "int object"
        case .float: return "float object"
        case .bool: return "bool object"
        default: return typeName + " object"
        }
    }
}

/// Objects with a Python `len()` (cycler-free helpers such as loop wrappers).
protocol LengthObject { var length: Int { get } }
