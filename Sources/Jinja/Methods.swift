import Foundation

/// The Python methods templates call on built-in values
/// (`s.split(',')`, `d.items()`, `l.append(x)`, …).
enum Methods {
    static let stringMethods: Set<String> = [
        "split", "rsplit", "strip", "lstrip", "rstrip", "startswith", "endswith", "replace", "upper",
        "lower", "title", "capitalize", "format", "join", "find", "rfind", "index", "rindex", "count",
        "splitlines", "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper", "istitle",
        "isnumeric", "isdecimal", "isidentifier", "center", "ljust", "rjust", "zfill", "partition", "rpartition",
        "swapcase", "casefold", "format_map", "expandtabs", "removeprefix", "removesuffix", "encode",
    ]
    static let markupExtra: Set<String> = ["striptags", "unescape"]
    static let listMethods: Set<String> = ["append", "extend", "insert", "pop", "remove", "index", "count", "copy", "reverse", "sort", "clear"]
    static let tupleMethods: Set<String> = ["index", "count"]
    static let dictMethods: Set<String> = ["items", "keys", "values", "get", "update", "pop", "setdefault", "copy", "clear", "popitem"]

    static func has(_ v: Value, _ name: String) -> Bool {
        switch v {
        case .string: return stringMethods.contains(name)
        case .markup: return stringMethods.contains(name) || markupExtra.contains(name)
        case .list: return listMethods.contains(name)
        case .tuple: return tupleMethods.contains(name)
        case .dict: return isDictMethod(name)
        default: return false
        }
    }

    /// Attribute access on dicts is the hottest path (`pillar.nginx.port`);
    /// comparing against the ten method names beats hashing the name.
    @inline(__always) static func isDictMethod(_ name: String) -> Bool {
        switch name.utf8.count {
        case 3: return name == "get" || name == "pop"
        case 4: return name == "keys" || name == "copy"
        case 5: return name == "items" || name == "clear"
        case 6: return name == "values" || name == "update"
        case 7: return name == "popitem"
        case 10: return name == "setdefault"
        default: return false
        }
    }

    /// Non-callable attributes of built-in values.
    static func property(_ v: Value, _ name: String) -> Value? {
        if name == "__class__" { return .object(PyType(v.typeName)) }
        switch (v, name) {
        case (.int, "real"), (.float, "real"): return v
        case (.int, "imag"): return .int(0)
        case (.float, "imag"): return .float(0)
        case (.int, "numerator"): return v
        case (.int, "denominator"): return .int(1)
        default: return nil
        }
    }

    static func call(_ v: Value, _ name: String, _ args: Arguments, _ ctx: CallContext) throws -> Value {
        switch v {
        case .string(let s): return try stringMethod(s, name, args, ctx, markup: false)
        case .markup(let s): return try stringMethod(s, name, args, ctx, markup: true)
        case .list(let l): return try listMethod(l, name, args)
        case .tuple(let t): return try seqMethod(t, name, args, typeName: "tuple")
        case .dict(let d): return try dictMethod(d, name, args)
        default: throw JinjaError(.attributeError, "'\(v.typeName)' object has no attribute '\(name)'")
        }
    }

    static func argString(_ args: Arguments, _ i: Int, _ name: String) throws -> String? {
        guard let v = args.get(i, name) else { return nil }
        if case .none = v { return nil }
        guard let s = v.stringValue else { throw JinjaError.type("must be str or None, not \(v.typeName)") }
        return s
    }

    static func argInt(_ args: Arguments, _ i: Int, _ name: String) -> Int? {
        guard let v = args.get(i, name) else { return nil }
        switch v {
        case .int(let n): return n
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }


    static func seqMethod(_ items: [Value], _ name: String, _ args: Arguments, typeName: String) throws -> Value {
        switch name {
        case "index":
            guard let x = args.positional.first else { throw JinjaError.type("index expected at least 1 argument") }
            if let i = items.firstIndex(where: { valuesEqual($0, x) }) { return .int(i) }
            throw JinjaError.value("\(typeName).index(x): x not in \(typeName)")
        case "count":
            guard let x = args.positional.first else { throw JinjaError.type("count expected 1 argument") }
            return .int(items.filter { valuesEqual($0, x) }.count)
        default:
            throw JinjaError(.attributeError, "'\(typeName)' object has no attribute '\(name)'")
        }
    }

    static func listMethod(_ l: ListBox, _ name: String, _ args: Arguments) throws -> Value {
        switch name {
        case "append":
            guard let x = args.positional.first else { throw JinjaError.type("append() takes exactly one argument (0 given)") }
            l.items.append(x)
            return .none
        case "extend":
            guard let x = args.positional.first else { throw JinjaError.type("extend() takes exactly one argument (0 given)") }
            l.items.append(contentsOf: try iterateValue(x))
            return .none
        case "insert":
            guard args.positional.count == 2, case .int(var i) = args.positional[0] else { throw JinjaError.type("insert expected 2 arguments") }
            if i < 0 { i = max(0, i + l.items.count) }
            l.items.insert(args.positional[1], at: min(i, l.items.count))
            return .none
        case "pop":
            if l.items.isEmpty { throw JinjaError(.indexError, "pop from empty list") }
            var i = argInt(args, 0, "index") ?? -1
            if i < 0 { i += l.items.count }
            guard i >= 0 && i < l.items.count else { throw JinjaError(.indexError, "pop index out of range") }
            return l.items.remove(at: i)
        case "remove":
            guard let x = args.positional.first, let i = l.items.firstIndex(where: { valuesEqual($0, x) }) else {
                throw JinjaError.value("list.remove(x): x not in list")
            }
            l.items.remove(at: i)
            return .none
        case "copy": return .list(ListBox(l.items))
        case "reverse": l.items.reverse(); return .none
        case "clear": l.items.removeAll(); return .none
        case "sort":
            let rev = try args.keyword("reverse")?.truthy() ?? false
            l.items = try sortValues(l.items, key: { $0 }, caseSensitive: true)
            if rev { l.items.reverse() }
            return .none
        default:
            return try seqMethod(l.items, name, args, typeName: "list")
        }
    }

    static func dictMethod(_ d: DictBox, _ name: String, _ args: Arguments) throws -> Value {
        switch name {
        case "items": return .object(DictView(kind: "dict_items", zip(d.keys, d.values).map { .tuple([$0, $1]) }))
        case "keys": return .object(DictView(kind: "dict_keys", d.keys))
        case "values": return .object(DictView(kind: "dict_values", d.values))
        case "get":
            guard let k = args.get(0, "key") else { throw JinjaError.type("get expected at least 1 argument, got 0") }
            return d[k] ?? args.get(1, "default") ?? .none
        case "update":
            if let other = args.positional.first {
                switch other {
                case .dict(let o): for (k, v) in o.pairs { d[k] = v }
                default:
                    for item in try iterateValue(other) {
                        let kv = try iterateValue(item)
                        guard kv.count == 2 else { throw JinjaError.value("dictionary update sequence element has length \(kv.count); 2 is required") }
                        d[kv[0]] = kv[1]
                    }
                }
            }
            for (k, v) in args.keywords { d[.string(k)] = v }
            return .none
        case "pop":
            guard let k = args.positional.first else { throw JinjaError.type("pop expected at least 1 argument, got 0") }
            if let v = d[k] { d[k] = nil; return v }
            if args.positional.count > 1 { return args.positional[1] }
            throw JinjaError(.keyError, (try? k.repr()) ?? "")
        case "popitem":
            guard let k = d.keys.last, let v = d[k] else { throw JinjaError(.keyError, "popitem(): dictionary is empty") }
            d[k] = nil
            return .tuple([k, v])
        case "setdefault":
            guard let k = args.positional.first else { throw JinjaError.type("setdefault expected at least 1 argument") }
            if let v = d[k] { return v }
            let v = args.positional.count > 1 ? args.positional[1] : .none
            d[k] = v
            return v
        case "copy": return .dict(d.copy())
        case "clear": d.removeAll(); return .none
        default: throw JinjaError(.attributeError, "'dict' object has no attribute '\(name)'")
        }
    }
}

/// `value.__class__`: enough for `__name__` and `str()`.
final class PyType: JinjaObject, @unchecked Sendable {
    let name: String
    init(_ name: String) { self.name = name }
    var typeName: String { "type" }
    func attribute(_ attr: String, _ ctx: CallContext) throws -> Value? {
        attr == "__name__" ? .string(name) : nil
    }
    func str(_ ctx: CallContext?) throws -> String { "<class '\(name)'>" }
}

/// `dict.items()/keys()/values()`: iterable like a list, printed like Python's views.
final class DictView: JinjaObject, IterableObject, LengthObject, @unchecked Sendable {
    let kind: String
    let items: [Value]
    init(kind: String, _ items: [Value]) { self.kind = kind; self.items = items }
    var typeName: String { kind }
    var iterItems: [Value] { items }
    var length: Int { items.count }
    func str(_ ctx: CallContext?) throws -> String { "\(kind)(\(try Value.list(items).repr()))" }
}
