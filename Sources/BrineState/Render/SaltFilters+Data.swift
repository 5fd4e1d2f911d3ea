import BrineCore
import BrineModules
import Foundation
import Jinja
import OrderedCollections

/// Salt's data filters (salt/utils/data.py, dictupdate.py, stringutils.py,
/// jinja.py and the serializer extension's itertools filters), each giving
/// what Salt 3008 prints for the same input (tests record Salt's answers).
extension SaltJinja {
    static let dataFilters: [String: Filter] = [
        "regex_escape": { value, _, _ in .string(pythonEscape(try string(value))) },
        "to_bytes": { value, _, _ in .object(PyBytes(Array(try string(value).utf8))) },
        "str_to_num": { value, _, _ in toNumber(value) },
        "to_num": { value, _, _ in toNumber(value) },
        "exactly_one_true": { value, _, c in .bool(try countTrue(value, c) == 1) },
        "exactly_n_true": { value, args, c in
            .bool(try countTrue(value, c) == (try int(arg(args, 0, "amount")) ?? 1))
        },
        "skip": { _, _, _ in .string("") },
        "is_iter": { value, _, _ in
            switch value {
            case .list, .tuple, .dict: return .bool(true)
            default: return .bool(false)
            }
        },
        "is_hex": { value, _, _ in
            guard case .string(let text) = value else { return .bool(false) }
            return .bool(pythonHex(text) != nil)
        },
        "contains_whitespace": { value, _, _ in .bool(try string(value).contains { $0.isWhitespace }) },
        "substring_in_list": { value, args, c in
            let needle = try string(value)
            let haystack = try items(arg(args, 0, "list_to_search") ?? .list([]), c)
            return .bool(try haystack.contains { try string($0).contains(needle) || needle.isEmpty })
        },
        "check_whitelist_blacklist": { value, args, c in
            .bool(try whitelistBlacklist(try string(value), whitelist: arg(args, 0, "whitelist"),
                                         blacklist: arg(args, 1, "blacklist"), c))
        },
        "human_to_bytes": { value, args, _ in
            .int(humanToBytes(try string(value), defaultUnit: try arg(args, 0, "default_unit").map(string) ?? "B",
                              metric: try arg(args, 1, "handle_metric")?.truthy() ?? false))
        },
        "to_snake_case": { value, _, _ in .string(snakeCase(try string(value))) },
        "to_camelcase": { value, args, _ in
            let words = try string(value).components(separatedBy: "_")
            let upper = try arg(args, 0, "uppercamel")?.truthy() ?? false
            let first = upper ? pythonCapitalize(words[0]) : words[0]
            return .string(first + words.dropFirst().map(pythonCapitalize).joined())
        },
        "compare_dicts": { value, args, _ in try compareDicts(old: value, new: arg(args, 0, "new") ?? .none) },
        "compare_lists": { value, args, c in try compareLists(old: value, new: arg(args, 0, "new") ?? .none, c) },
        // Python 2 leftovers in Salt: under Python 3 they turn strings into
        // bytes, which no SLS can use; Brine passes the data through.
        "json_decode_dict": { value, _, _ in value },
        "json_encode_dict": { value, _, _ in value },
        "json_decode_list": { value, _, _ in value },
        "json_encode_list": { value, _, _ in value },
        "json_query": { _, _, _ in
            throw JinjaError(.templateRuntimeError, "json_query is not available in Brine: it needs a JMESPath implementation, which Brine does not have yet")
        },
        "tojson": { value, args, _ in
            let indent = try int(arg(args, 0, "indent"))
            if let indent, !(0...1024).contains(indent) {
                throw JinjaError(.valueError, "tojson: indent \(indent) is out of range (0 to 1024)")
            }
            let sorted = sortedKeys(try PyJSON.data(value), try args.keyword("sort_keys")?.truthy() ?? false)
            let text = JSON.encode(sorted, indent: indent, asciiOnly: try args.keyword("ensure_ascii")?.truthy() ?? true)
            return .markup(text.replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
                .replacingOccurrences(of: "&", with: "\\u0026").replacingOccurrences(of: "'", with: "\\u0027"))
        },
        "mysql_to_dict": { value, args, c in try mysqlToDict(value, key: arg(args, 0, "key") ?? .none, c) },
        "method_call": { value, args, c in
            guard let name = args.positional.first ?? args.keyword("f_name") else {
                throw JinjaError(.typeError, "method_call() missing 1 required positional argument: 'f_name'")
            }
            let method = try c.filter("attr", value, Arguments([name]))
            if method.isUndefined { return .none }
            return try c.call(method, Arguments(Array(args.positional.dropFirst()),
                                                keywords: args.keywords.filter { $0.name != "f_name" }))
        },
        "avg": { value, _, c in
            switch value {
            case .int(let i): return .float(Double(i))
            case .float: return value
            default:
                let all = try items(value, c)
                guard !all.isEmpty else { throw JinjaError(.zeroDivisionError, "division by zero") }
                return .float(try all.reduce(0.0) { $0 + (try double($1)) } / Double(all.count))
            }
        },
        "min": { value, _, c in try extreme(value, c, largest: false) },
        "max": { value, _, c in try extreme(value, c, largest: true) },
        "flatten": { value, args, c in
            .list(ListBox(try flatten(try items(value, c), levels: try int(arg(args, 0, "levels")),
                                      keepNulls: try arg(args, 1, "preserve_nulls")?.truthy() ?? false, c, depth: 0)))
        },
        "sorted_ignorecase": { value, _, c in
            let all = try items(value, c)
            let keyed = try all.enumerated().map { (try string($0.element).lowercased(), $0.offset, $0.element) }
            return .list(ListBox(keyed.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)))
        },
        "to_entries": { value, _, _ in
            switch value {
            case .dict(let d): return .list(ListBox(d.pairs.map { .dict([(.string("key"), $0.0), (.string("value"), $0.1)]) }))
            case .list(let l):
                return .list(ListBox(l.items.enumerated().map { .dict([(.string("key"), .int($0.offset)), (.string("value"), $0.element)]) }))
            default: throw JinjaError(.templateRuntimeError, "Input data must be a dict or list")
            }
        },
        "from_entries": { value, _, c in
            let out = DictBox()
            for entry in try items(value, c) {
                guard case .dict(let fields) = entry else { continue }
                func field(_ name: String) -> Jinja.Value? {
                    fields.pairs.first { (try? string($0.0).lowercased()) == name }?.1
                }
                for name in ["key", "name"] {
                    if let key = field(name), try key.truthy() {
                        out[key] = field("value") ?? Jinja.Value.none
                        break
                    }
                }
            }
            return .dict(out)
        },
        "set_dict_key_value": { value, args, _ in
            try updateNested(value, args) { box, key, new in box[key] = new }
        },
        "update_dict_key_value": { value, args, _ in
            try updateNested(value, args) { box, key, new in
                if box[key].map({ $0.isNone }) ?? true { box[key] = .dict(DictBox()) }
                guard case .dict(let target)? = box[key] else {
                    throw JinjaError(.templateRuntimeError, "The last key contains a \(box[key]?.typeName ?? "None"), which cannot update.")
                }
                guard case .dict(let source) = new else {
                    throw JinjaError(.templateRuntimeError, "Cannot update dict with a \(new.typeName).")
                }
                for (k, v) in source.pairs { target[k] = v }
            }
        },
        "append_dict_key_value": { value, args, _ in
            try updateNested(value, args) { box, key, new in
                if box[key].map({ $0.isNone }) ?? true { box[key] = .list([]) }
                guard case .list(let target)? = box[key] else {
                    throw JinjaError(.templateRuntimeError, "The last key contains a \(box[key]?.typeName ?? "None"), which cannot append.")
                }
                target.items.append(new)
            }
        },
        "extend_dict_key_value": { value, args, c in
            try updateNested(value, args) { box, key, new in
                if box[key].map({ $0.isNone }) ?? true { box[key] = .list([]) }
                guard case .list(let target)? = box[key] else {
                    throw JinjaError(.templateRuntimeError, "The last key contains a \(box[key]?.typeName ?? "None"), which cannot extend.")
                }
                target.items += try items(new, c)
            }
        },
        "python": { value, _, c in
            .markup(try string(try c.filter("pprint", value)).trimmingCharacters(in: .whitespacesAndNewlines))
        },
        "xml": { value, _, _ in .markup(try XMLFilter.render(value)) },
        "dict_to_sls_yaml_params": { value, args, c in
            guard case .dict(let d) = value else { throw JinjaError(.attributeError, "'\(value.typeName)' object has no attribute 'items'") }
            let list = Jinja.Value.list(d.pairs.map { .dict([$0]) })
            let flow = arg(args, 0, "flow_style") ?? .bool(false)
            return try c.filter("yaml", list, Arguments([flow]))
        },
        "combinations": { value, args, c in
            let pool = try items(value, c), r = try int(arg(args, 0, "r")) ?? 0
            try checkSize(rows: choose(pool.count, r), width: r)
            return tuples(combinations(pool, r, repeats: false))
        },
        "combinations_with_replacement": { value, args, c in
            let pool = try items(value, c), r = try int(arg(args, 0, "r")) ?? 0
            try checkSize(rows: choose(pool.count + r - 1, r), width: r)
            return tuples(combinations(pool, r, repeats: true))
        },
        "permutations": { value, args, c in
            let all = try items(value, c)
            let r = try int(arg(args, 0, "r")) ?? all.count
            try checkSize(rows: r > all.count || r < 0 ? 0 : (0..<r).reduce(1.0) { $0 * Double(all.count - $1) }, width: r)
            return tuples(permutations(all, r))
        },
        "compress": { value, args, c in
            let selectors = try items(arg(args, 0, "selectors") ?? .list([]), c)
            return .list(ListBox(try zip(try items(value, c), selectors).filter { try $0.1.truthy() }.map(\.0)))
        },
        "product": { value, args, c in
            var pools = [try items(value, c)]
            for other in args.positional { pools.append(try items(other, c)) }
            let repeatCount = max(0, try int(args.keyword("repeat")) ?? 1)
            try checkSize(rows: pow(pools.reduce(1.0) { $0 * Double($1.count) }, Double(repeatCount)), width: pools.count * min(repeatCount, maximumWidth + 1))
            pools = Array(repeating: pools, count: repeatCount).flatMap { $0 }
            var result: [[Jinja.Value]] = [[]]
            for pool in pools { result = result.flatMap { prefix in pool.map { prefix + [$0] } } }
            return tuples(result)
        },
        "zip": { value, args, c in
            let lists = try [try items(value, c)] + args.positional.map { try items($0, c) }
            let count = lists.map(\.count).min() ?? 0
            return tuples((0..<count).map { i in lists.map { $0[i] } })
        },
        "zip_longest": { value, args, c in
            let lists = try [try items(value, c)] + args.positional.map { try items($0, c) }
            let fill = args.keyword("fillvalue") ?? .none
            let count = lists.map(\.count).max() ?? 0
            return tuples((0..<count).map { i in lists.map { i < $0.count ? $0[i] : fill } })
        },
    ]

    // MARK: - Helpers shared by the filters

    /// The items of a sequence, as Python's `iter()` would give them.
    static func items(_ value: Jinja.Value, _ c: CallContext) throws -> [Jinja.Value] {
        switch value {
        case .list(let l): return l.items
        case .tuple(let t): return t
        default:
            guard case .list(let l) = try c.filter("list", value) else { return [] }
            return l.items
        }
    }

    static func int(_ value: Jinja.Value?) throws -> Int? {
        switch value {
        case nil, .none?: return nil
        case .int(let i)?: return i
        case .bool(let b)?: return b ? 1 : 0
        case .float(let d)? where d.isFinite && d.magnitude < 9.2e18: return Int(d)
        case .string(let s)?: if let i = Int(s.trimmingCharacters(in: .whitespaces)) { return i }
        default: break
        }
        throw JinjaError(.typeError, "'\(value?.typeName ?? "None")' object cannot be interpreted as an integer")
    }

    static func double(_ value: Jinja.Value) throws -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .float(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: throw JinjaError(.typeError, "unsupported operand type(s) for +: 'int' and '\(value.typeName)'")
        }
    }

    static func tuples(_ rows: [[Jinja.Value]]) -> Jinja.Value { .list(ListBox(rows.map { .tuple($0) })) }

    /// Brine builds itertools' results as lists: their size is bounded.
    static let maximumRows = 1_000_000, maximumWidth = 4096

    static func checkSize(rows: Double, width: Int) throws {
        guard rows <= Double(maximumRows), width <= maximumWidth else {
            throw JinjaError(.valueError, "the result would hold more than \(maximumRows) tuples of up to \(maximumWidth) items")
        }
    }

    /// n choose r (or with repetition), as a Double to see past Int.
    static func choose(_ n: Int, _ r: Int) -> Double {
        guard r >= 0, r <= n else { return 0 }
        var result = 1.0
        for i in 0..<min(r, n - r) { result = result * Double(n - i) / Double(i + 1) }
        return result
    }

    /// Python's `re.escape`: only the characters special in patterns.
    static func pythonEscape(_ text: String) -> String {
        let special = Set("()[]{}?*+-|^$\\.&~# \t\n\r\u{0B}\u{0C}")
        var out = ""
        for ch in text {
            if special.contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// `int(text, 16)` as Python reads it: spaces around, a sign, `0x`,
    /// underscores between digits.
    static func pythonHex(_ text: String) -> Int? {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        if body.lowercased().hasPrefix("0x") { body = body.dropFirst(2); if body.first == "_" { body = body.dropFirst() } }
        guard !body.isEmpty, body.first != "_", body.last != "_", !body.contains("__") else { return nil }
        let digits = body.filter { $0 != "_" }
        guard !digits.isEmpty, digits.allSatisfy(\.isHexDigit), digits.allSatisfy(\.isASCII) else { return nil }
        return 0
    }

    /// Salt's `to_num`: `int()`, else `float()`, else the value unchanged.
    static func toNumber(_ value: Jinja.Value) -> Jinja.Value {
        switch value {
        case .int, .bool: return value
        case .float(let d): return d.isFinite && d.magnitude < 9.2e18 ? .int(Int(d)) : value
        case .string(let raw), .markup(let raw):
            let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            let plain = text.contains("_") && !text.hasPrefix("_") && !text.hasSuffix("_") && !text.contains("__")
                ? text.replacingOccurrences(of: "_", with: "") : text
            if let i = Int(plain.hasPrefix("+") ? String(plain.dropFirst()) : plain) { return .int(i) }
            let lowered = plain.lowercased()
            if ["inf", "+inf", "infinity", "+infinity"].contains(lowered) { return .float(.infinity) }
            if ["-inf", "-infinity"].contains(lowered) { return .float(-.infinity) }
            if ["nan", "+nan", "-nan"].contains(lowered) { return .float(.nan) }
            if plain.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }), let d = Double(plain) { return .float(d) }
            return value
        default: return value
        }
    }

    static func countTrue(_ value: Jinja.Value, _ c: CallContext) throws -> Int {
        try items(value, c).reduce(0) { $0 + (try $1.truthy() ? 1 : 0) }
    }

    static func pythonCapitalize(_ word: String) -> String {
        guard let first = word.first else { return word }
        return first.uppercased() + word.dropFirst().lowercased()
    }

    /// Salt's `camel_to_snake_case`: an underscore before a capital that
    /// follows a lowercase letter or starts a new lowercase word.
    static func snakeCase(_ text: String) -> String {
        let chars = Array(text)
        guard let first = chars.first else { return "" }
        var out = first.lowercased()
        for i in 1..<chars.count {
            let letter = chars[i]
            if letter.isUppercase && (chars[i - 1].isLowercase || (i != chars.count - 1 && chars[i + 1].isLowercase)) {
                out += "_"
            }
            out += letter.lowercased()
        }
        return out
    }

    static func humanToBytes(_ size: String, defaultUnit: String, metric: Bool) -> Int {
        HumanSize.bytes(size, defaultUnit: defaultUnit, metric: metric)
    }

    /// Salt's `expr_match`: a glob, or a regular expression matching all of it.
    static func expressionMatches(_ line: String, _ expression: String) -> Bool {
        if Glob.match(line, expression) { return true }
        guard let regex = try? PyRegex("\\A(?:\(expression))\\Z", flags: .int(0)) else { return false }
        return regex.regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
    }

    static func whitelistBlacklist(_ value: String, whitelist: Jinja.Value?, blacklist: Jinja.Value?,
                                   _ c: CallContext) throws -> Bool {
        func patterns(_ v: Jinja.Value?) throws -> [String] {
            guard let v, try v.truthy() else { return [] }
            if case .string(let s) = v { return [s] }
            return try items(v, c).map(string)
        }
        let white = try patterns(whitelist), black = try patterns(blacklist)
        let blackHit = black.contains { expressionMatches(value, $0) }
        let whiteHit = white.contains { expressionMatches(value, $0) }
        switch (white.isEmpty, black.isEmpty) {
        case (true, false): return !blackHit
        case (false, true): return whiteHit
        case (false, false): return !blackHit && whiteHit
        case (true, true): return true
        }
    }

    static func compareDicts(old: Jinja.Value, new: Jinja.Value) throws -> Jinja.Value {
        let oldDict: DictBox, newDict: DictBox
        switch (old, new) {
        case (.dict(let o), .dict(let n)): (oldDict, newDict) = (o, n)
        default: throw JinjaError(.typeError, "compare_dicts needs two dicts")
        }
        let out = DictBox()
        var keys = oldDict.keys
        for key in newDict.keys where !oldDict.contains(key) { keys.append(key) }
        for key in keys {
            switch (oldDict[key], newDict[key]) {
            case (nil, let added?): out[key] = .dict([(.string("old"), .string("")), (.string("new"), added)])
            case (let removed?, nil): out[key] = .dict([(.string("new"), .string("")), (.string("old"), removed)])
            case (let was?, let now?):
                if try !valuesEqual(was, now) { out[key] = .dict([(.string("old"), was), (.string("new"), now)]) }
            default: break
            }
        }
        return .dict(out)
    }

    static func compareLists(old: Jinja.Value, new: Jinja.Value, _ c: CallContext) throws -> Jinja.Value {
        let was = try items(old, c), now = try items(new, c)
        let out = DictBox()
        let added = try now.filter { item in try !was.contains { try valuesEqual($0, item) } }
        let removed = try was.filter { item in try !now.contains { try valuesEqual($0, item) } }
        if !added.isEmpty { out[.string("new")] = .list(ListBox(added)) }
        if !removed.isEmpty { out[.string("old")] = .list(ListBox(removed)) }
        return .dict(out)
    }

    static func valuesEqual(_ a: Jinja.Value, _ b: Jinja.Value) throws -> Bool {
        JinjaBridge.fromJinja(a) == JinjaBridge.fromJinja(b)
    }

    /// Salt's `mysql_to_dict`: rows of a MySQL table printout (a list of
    /// lines), keyed by the named column; numbers converted.
    static func mysqlToDict(_ value: Jinja.Value, key: Jinja.Value, _ c: CallContext) throws -> Jinja.Value {
        let out = DictBox()
        var headers = [""]
        for line in try items(value, c).map(string) where !line.isEmpty && !line.hasPrefix("+") {
            let columns = line.components(separatedBy: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard headers.count > 1 else { headers = columns; continue }
            let row = DictBox()
            for field in 1..<(headers.count - 1) where field < columns.count {
                row[.string(headers[field])] = toNumber(.string(columns[field]))
            }
            guard let id = row[key] else { throw JinjaError(.keyError, try key.repr()) }
            out[id] = .dict(row)
        }
        return .dict(out)
    }

    /// Python's `min`/`max` (Salt replaces Jinja's filters with them).
    static func extreme(_ value: Jinja.Value, _ c: CallContext, largest: Bool) throws -> Jinja.Value {
        let all = try items(value, c)
        guard var best = all.first else {
            throw JinjaError(.valueError, "\(largest ? "max" : "min")() arg is an empty sequence")
        }
        for item in all.dropFirst() where try c.test("lt", largest ? best : item, Arguments([largest ? item : best])) {
            best = item
        }
        return best
    }

    static func flatten(_ list: [Jinja.Value], levels: Int?, keepNulls: Bool, _ c: CallContext, depth: Int) throws -> [Jinja.Value] {
        guard depth < 256 else { throw JinjaError(.templateRuntimeError, "Reference cycle detected. Check input list.") }
        var out: [Jinja.Value] = []
        for element in list {
            if !keepNulls {
                if element.isNone { continue }
                if case .string(let s) = element, s == "None" || s == "null" { continue }
            }
            switch element {
            case .list, .tuple, .dict:
                if let levels, levels < 1 {
                    out.append(element)
                } else {
                    out += try flatten(try items(element, c), levels: levels.map { $0 - 1 }, keepNulls: keepNulls, c, depth: depth + 1)
                }
            default: out.append(element)
            }
        }
        return out
    }

    /// Salt's `_dict_rpartition` + the change: walks (creating dicts
    /// where missing) to the parent of the last key, then applies `change`
    /// to it. The input dict is changed in place and returned, as in Salt.
    static func updateNested(_ value: Jinja.Value, _ args: Jinja.Arguments,
                             _ change: (DictBox, Jinja.Value, Jinja.Value) throws -> Void) throws -> Jinja.Value {
        guard case .dict(let root) = value else { throw JinjaError(.typeError, "the input must be a dict") }
        let keys = try string(arg(args, 0, "keys") ?? .string(""))
        let new = arg(args, 1, "value") ?? .none
        let delimiter = try arg(args, 2, "delimiter").map(string) ?? ":"
        var parts = delimiter.isEmpty ? [keys] : keys.components(separatedBy: delimiter)
        let last = parts.removeLast()
        var pointer = root
        for part in parts {
            let key = Jinja.Value.string(part)
            if case .dict(let next)? = pointer[key] {
                pointer = next
            } else {
                let next = DictBox()
                pointer[key] = .dict(next)
                pointer = next
            }
        }
        try change(pointer, .string(last), new)
        return value
    }

    /// `itertools.combinations` / `combinations_with_replacement`, in order.
    static func combinations(_ pool: [Jinja.Value], _ r: Int, repeats: Bool) -> [[Jinja.Value]] {
        guard r >= 0, repeats ? (r == 0 || !pool.isEmpty) : r <= pool.count else { return [] }
        var out: [[Jinja.Value]] = []
        func walk(_ start: Int, _ chosen: [Jinja.Value]) {
            if chosen.count == r { out.append(chosen); return }
            guard start < pool.count else { return }
            for i in start..<pool.count { walk(repeats ? i : i + 1, chosen + [pool[i]]) }
        }
        walk(0, [])
        return out
    }

    /// `itertools.permutations`, in order.
    static func permutations(_ pool: [Jinja.Value], _ r: Int) -> [[Jinja.Value]] {
        guard r >= 0, r <= pool.count else { return [] }
        var out: [[Jinja.Value]] = []
        func walk(_ used: [Bool], _ chosen: [Jinja.Value]) {
            if chosen.count == r { out.append(chosen); return }
            for i in pool.indices where !used[i] {
                var next = used
                next[i] = true
                walk(next, chosen + [pool[i]])
            }
        }
        walk(Array(repeating: false, count: pool.count), [])
        return out
    }
}

/// Python `bytes`, as Salt's `to_bytes` and `mac_str_to_bytes` return them:
/// printed as Python prints bytes (`b'abc'`).
final class PyBytes: JinjaObject {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var typeName: String { "bytes" }

    func str(_ ctx: CallContext?) throws -> String {
        let quote: Character = bytes.contains(UInt8(ascii: "'")) && !bytes.contains(UInt8(ascii: "\"")) ? "\"" : "'"
        var out = "b" + String(quote)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\t"): out += "\\t"
            case UInt8(ascii: "\n"): out += "\\n"
            case UInt8(ascii: "\r"): out += "\\r"
            case UInt8(ascii: "'") where quote == "'": out += "\\'"
            case 0x20..<0x7F: out.append(Character(UnicodeScalar(byte)))
            default: out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return out + String(quote)
    }
}

/// Template values as `json.dumps` takes them (Salt's `tojson` filter):
/// keys as JSON writes them (`true`, `null`, numbers), undefined values and
/// objects refused; BrineCore's JSON writer does the rest.
enum PyJSON {
    static func data(_ value: Jinja.Value, depth: Int = 0) throws -> BrineCore.Value {
        guard depth < 512 else { throw JinjaError(.valueError, "Circular reference detected") }
        switch value {
        case .none: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        case .string(let s), .markup(let s): return .string(s)
        case .list(let l): return .list(try l.items.map { try data($0, depth: depth + 1) })
        case .tuple(let t): return .list(try t.map { try data($0, depth: depth + 1) })
        case .dict(let d):
            var map = OrderedDictionary<String, BrineCore.Value>()
            for (k, v) in d.pairs { map[try key(k)] = try data(v, depth: depth + 1) }
            return .map(map)
        case .undefined(let u): throw u.error()
        default: throw JinjaError(.typeError, "Object of type \(value.typeName) is not JSON serializable")
        }
    }

    static func key(_ value: Jinja.Value) throws -> String {
        switch value {
        case .string(let s), .markup(let s): return s
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d): return formatFloat(d)
        default: throw JinjaError(.typeError, "keys must be str, int, float, bool or None, not \(value.typeName)")
        }
    }
}

/// Salt's `xml` filter: ElementTree elements from a dict or list (dict
/// scalars become attributes, nested dicts and lists child elements),
/// printed by minidom's `toprettyxml(indent=" ")`.
enum XMLFilter {
    final class Element {
        let tag: String
        var attributes: [(String, String)] = []
        var text: String?
        var children: [Element] = []
        init(_ tag: String) { self.tag = tag }
    }

    static func render(_ value: Jinja.Value) throws -> String {
        guard let root = try build(try normalize(value), parent: nil, depth: 0) else {
            throw JinjaError(.templateRuntimeError, "Value is not a dict or list. Cannot render as XML")
        }
        var out = "<?xml version=\"1.0\" ?>\n"
        write(root, level: 0, into: &out)
        return out
    }

    /// Salt's `normalize_iter`: a dict's items; a list gives no pairs
    /// (Salt's code unpacks its strings, which only works by accident).
    static func normalize(_ value: Jinja.Value) throws -> [(String, Jinja.Value)] {
        switch value {
        case .list, .tuple: return []
        case .dict(let d): return try d.pairs.map { (try SaltJinja.string($0.0), $0.1) }
        default: throw JinjaError(.templateRuntimeError, "Value is not a dict or list. Cannot render as XML")
        }
    }

    /// Salt's `recurse_tree`: a list repeats its tag for each item; dict
    /// scalars become attributes and nested dicts or lists children. It
    /// returns the last element it made.
    static func build(_ entries: [(String, Jinja.Value)], parent: Element?, depth: Int) throws -> Element? {
        guard depth < 256 else { throw JinjaError(.templateRuntimeError, "XML nested too deeply") }
        var made: Element? = nil
        for (tag, attrs) in entries {
            if case .list(let l) = attrs {
                for item in l.items { _ = try build([(tag, item)], parent: parent, depth: depth + 1) }
            } else {
                let element = Element(tag)
                parent?.children.append(element)
                made = element
            }
            guard let element = made else { continue }
            switch attrs {
            case .string(let s), .markup(let s): element.text = s; continue
            case .int, .bool, .float: element.text = try attrs.str(); continue
            case .dict(let d):
                element.attributes = try d.pairs.compactMap { key, value in
                    switch value {
                    case .dict, .list: return nil
                    default: return (try SaltJinja.string(key), try value.str())
                    }
                }
            default: break
            }
            for (childTag, child) in try normalize(attrs) {
                switch child {
                case .dict, .list: _ = try build([(childTag, child)], parent: element, depth: depth + 1)
                default: continue
                }
            }
        }
        return made
    }

    static func write(_ element: Element, level: Int, into out: inout String) {
        let pad = String(repeating: " ", count: level)
        out += pad + "<" + element.tag
        for (name, value) in element.attributes { out += " \(name)=\"\(escape(value, attribute: true))\"" }
        if element.children.isEmpty && element.text == nil {
            out += "/>\n"
        } else if element.children.isEmpty, let text = element.text {
            out += ">" + escape(text, attribute: false) + "</\(element.tag)>\n"
        } else {
            out += ">\n"
            if let text = element.text { out += pad + " " + escape(text, attribute: false) + "\n" }
            for child in element.children { write(child, level: level + 1, into: &out) }
            out += pad + "</\(element.tag)>\n"
        }
    }

    static func escape(_ text: String, attribute: Bool) -> String {
        var out = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        if attribute { out = out.replacingOccurrences(of: "\"", with: "&quot;") }
        return out
    }
}
