/// Jinja2's default globals: range, dict, lipsum, cycler, joiner, namespace.
enum BuiltinGlobals {
    static var all: [String: Value] {
        var g: [String: Value] = [:]
        g["range"] = .function(Function("range", pure: true) { a, c in
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
        g["dict"] = .function(Function("dict", pure: true) { a, _ in
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
        g["namespace"] = .function(Function("namespace", pure: true) { a, _ in
            let d = DictBox()
            if let first = a.positional.first, case .dict(let o) = first { for (k, v) in o.pairs { d[k] = v } }
            for (k, v) in a.keywords { d[.string(k)] = v }
            return .object(NamespaceObject(d))
        })
        g["cycler"] = .function(Function("cycler", pure: true) { a, _ in .object(CyclerObject(a.positional)) })
        g["joiner"] = .function(Function("joiner", pure: true) { a, _ in
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
