/// Jinja2's built-in tests (jinja2/tests.py).
enum BuiltinTests {
    static var all: [String: TestFunction] {
        var t: [String: TestFunction] = [:]
        t["odd"] = { v, _, _ in
            guard case .int(let i) = numInt(v) else { throw JinjaError.type("not all arguments converted during string formatting") }
            return i % 2 != 0
        }
        t["even"] = { v, _, _ in
            guard case .int(let i) = numInt(v) else { throw JinjaError.type("not all arguments converted during string formatting") }
            return i % 2 == 0
        }
        t["divisibleby"] = { v, a, _ in
            guard let n = a.get(0, "num") else { throw JinjaError.type("divisibleby() missing 1 required positional argument: 'num'") }
            let r = try binop(.mod, v, n)
            return valuesEqual(r, .int(0))
        }
        t["defined"] = { v, _, _ in !v.isUndefined }
        t["undefined"] = { v, _, _ in v.isUndefined }
        t["filter"] = { v, _, c in v.stringValue.map { c.environment.filters[$0] != nil } ?? false }
        t["test"] = { v, _, c in v.stringValue.map { c.environment.tests[$0] != nil } ?? false }
        t["none"] = { v, _, _ in v.isNone }
        t["boolean"] = { v, _, _ in if case .bool = v { return true }; return false }
        t["false"] = { v, _, _ in if case .bool(false) = v { return true }; return false }
        t["true"] = { v, _, _ in if case .bool(true) = v { return true }; return false }
        t["integer"] = { v, _, _ in if case .int = v { return true }; return v.isBigInt }
        t["float"] = { v, _, _ in if case .float = v { return true }; return false }
        t["lower"] = { v, _, _ in
            let s = try v.str()
            return s.contains { $0.isCased } && !s.contains { $0.isUppercase }
        }
        t["upper"] = { v, _, _ in
            let s = try v.str()
            return s.contains { $0.isCased } && !s.contains { $0.isLowercase }
        }
        t["string"] = { v, _, _ in v.isString }
        t["mapping"] = { v, _, _ in if case .dict = v { return true }; return false }
        t["number"] = { v, _, _ in
            if case .object(let o) = v { return o is BigIntObject || o is ComplexObject }
            return v.isNumber
        }
        t["sequence"] = { v, _, _ in
            switch v {
            case .string, .markup, .list, .tuple, .dict: return true
            case .object(let o): return o is IterableObject
            default: return false
            }
        }
        t["iterable"] = { v, _, _ in
            switch v {
            case .string, .markup, .list, .tuple, .dict, .undefined: return true
            case .object(let o): return o is IterableObject
            default: return false
            }
        }
        t["callable"] = { v, _, _ in v.isCallable }
        t["sameas"] = { v, a, _ in
            guard let o = a.get(0, "other") else { return false }
            switch (v, o) {
            case (.list(let x), .list(let y)): return x === y
            case (.dict(let x), .dict(let y)): return x === y
            case (.object(let x), .object(let y)): return x === y
            case (.function(let x), .function(let y)): return x === y
            case (.none, .none): return true
            case (.bool(let x), .bool(let y)): return x == y
            case (.int(let x), .int(let y)): return x == y && x >= -5 && x <= 256
            case (.string(let x), .string(let y)): return x == y
            default: return false
            }
        }
        t["escaped"] = { v, _, _ in v.isMarkup }
        t["in"] = { v, a, _ in
            guard let seq = a.get(0, "seq") else { throw JinjaError.type("test_in() missing 1 required positional argument: 'seq'") }
            return try contains(seq, v)
        }
        func cmp(_ op: CmpOp) -> TestFunction {
            return { v, a, _ in
                guard let o = a.get(0, "other") else { throw JinjaError.type("missing argument") }
                return try compare(op, v, o)
            }
        }
        for n in ["==", "eq", "equalto"] { t[n] = cmp(.eq) }
        for n in ["!=", "ne"] { t[n] = cmp(.ne) }
        for n in [">", "gt", "greaterthan"] { t[n] = cmp(.gt) }
        for n in [">=", "ge"] { t[n] = cmp(.ge) }
        for n in ["<", "lt", "lessthan"] { t[n] = cmp(.lt) }
        for n in ["<=", "le"] { t[n] = cmp(.le) }
        return t
    }

    static func numInt(_ v: Value) -> Value? {
        switch v {
        case .int: return v
        case .bool(let b): return .int(b ? 1 : 0)
        case .undefined(let u) where u.kind != .strict: return nil
        default: return nil
        }
    }
}

/// Jinja2's default globals: range, dict, lipsum, cycler, joiner, namespace.
enum BuiltinGlobals {
    static var all: [String: Value] {
        var g: [String: Value] = [:]
        g["range"] = .function(Function("range") { a, c in
            func int(_ v: Value) throws -> Int {
                switch v {
                case .int(let i): return i
                case .bool(let b): return b ? 1 : 0
                case .undefined(let u): throw u.error()
                default: throw JinjaError.type("'\(v.typeName)' object cannot be interpreted as an integer")
                }
            }
            let p = try a.positional.map(int)
            var start = 0, stop = 0, step = 1
            switch p.count {
            case 1: stop = p[0]
            case 2: start = p[0]; stop = p[1]
            case 3: start = p[0]; stop = p[1]; step = p[2]
            default: throw JinjaError.type("range expected at least 1 argument, got \(p.count)")
            }
            if step == 0 { throw JinjaError.value("range() arg 3 must not be zero") }
            // computed in Double: Int arithmetic could overflow (and trap) on extreme bounds
            let span = step > 0 ? Double(stop) - Double(start) : Double(start) - Double(stop)
            let count = max(0, Int(min(1e12, (span / Double(step.magnitude)).rounded(.up))))
            if count > 10_000_000 || (c.environment.sandbox != .none && count > 100_000) {
                throw JinjaError(.overflowError, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
            }
            var items: [Value] = []
            items.reserveCapacity(count)
            var v = start
            for i in 0..<count {
                items.append(.int(v))
                if i + 1 < count { v &+= step }   // stays within [start, stop): cannot overflow
            }
            return .list(ListBox(items))
        })
        g["dict"] = .function(Function("dict") { a, _ in
            let d = DictBox()
            if let first = a.positional.first {
                switch first {
                case .dict(let o): for (k, v) in o.pairs { d[k] = v }
                default:
                    for item in try iterateValue(first) {
                        let kv = try iterateValue(item)
                        guard kv.count == 2 else { throw JinjaError.value("dictionary update sequence element has length \(kv.count); 2 is required") }
                        d[kv[0]] = kv[1]
                    }
                }
            }
            for (k, v) in a.keywords { d[.string(k)] = v }
            return .dict(d)
        })
        g["namespace"] = .function(Function("namespace") { a, _ in
            let d = DictBox()
            if let first = a.positional.first, case .dict(let o) = first { for (k, v) in o.pairs { d[k] = v } }
            for (k, v) in a.keywords { d[.string(k)] = v }
            return .object(NamespaceObject(d))
        })
        g["cycler"] = .function(Function("cycler") { a, _ in .object(CyclerObject(a.positional)) })
        g["joiner"] = .function(Function("joiner") { a, _ in
            .object(JoinerObject(try a.get(0, "sep")?.str() ?? ", "))
        })
        g["lipsum"] = .function(Function("lipsum") { a, _ in
            let n = Methods.argInt(a, 0, "n") ?? 5
            let html = try a.get(1, "html")?.truthy() ?? true
            let minW = Methods.argInt(a, 2, "min") ?? 20
            let maxW = Methods.argInt(a, 3, "max") ?? 100
            return lipsum(n: n, html: html, min: minW, max: maxW)
        })
        return g
    }

    static let lipsumWords = """
a ac accumsan ad adipiscing aenean aliquam aliquet amet ante aptent arcu at auctor augue bibendum blandit class commodo condimentum congue consectetuer consequat conubia convallis cras cubilia cum curabitur curae cursus dapibus diam dictum dictumst dignissim dis dolor donec dui duis egestas eget eleifend elementum elit enim erat eros est et etiam eu euismod facilisi facilisis fames faucibus felis fermentum feugiat fringilla fusce gravida habitant habitasse hac hendrerit hymenaeos iaculis id imperdiet in inceptos integer interdum ipsum justo lacinia lacus laoreet lectus leo libero ligula litora lobortis lorem luctus maecenas magna magnis malesuada massa mattis mauris metus mi molestie mollis montes morbi mus nam nascetur natoque nec neque netus nibh nisi nisl non nonummy nostra nulla nullam nunc odio orci ornare parturient pede pellentesque penatibus per pharetra phasellus placerat platea porta porttitor posuere potenti praesent pretium primis proin pulvinar purus quam quis quisque rhoncus ridiculus risus rutrum sagittis sapien scelerisque sed sem semper senectus sit sociis sociosqu sodales sollicitudin suscipit suspendisse taciti tellus tempor tempus tincidunt torquent tortor tristique turpis ullamcorper ultrices ultricies urna ut varius vehicula vel velit venenatis vestibulum vitae vivamus viverra volutpat vulputate
""".split(separator: " ").map(String.init)

    static func lipsum(n: Int, html: Bool, min: Int, max: Int) -> Value {
        var paragraphs: [String] = []
        for _ in 0..<Swift.max(0, n) {
            let count = Int.random(in: min...Swift.max(min, max))
            var words: [String] = []
            var nextCapital = true
            for i in 0..<count {
                var w = lipsumWords.randomElement() ?? "lorem"
                if nextCapital { w = w.prefix(1).uppercased() + w.dropFirst(); nextCapital = false }
                if i > 0 && i % 10 == 0 && i < count - 1 { w += ","; }
                words.append(w)
            }
            var p = words.joined(separator: " ")
            if !p.hasSuffix(".") { p += "." }
            paragraphs.append(p)
        }
        if html { return .markup(paragraphs.map { "<p>\(escapeHTML($0))</p>" }.joined(separator: "\n")) }
        return .string(paragraphs.joined(separator: "\n\n"))
    }
}
