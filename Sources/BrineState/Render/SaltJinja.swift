import BrineCore
import BrineModules
import Foundation
import Jinja

/// Salt's additions to Jinja: the serializer tags (`import_yaml`,
/// `load_yaml`, …, `profile`) and filters (`yaml`, `json`, `traverse`,
/// `regex_replace`, …) that real formulas use.
enum SaltJinja {
    static func install(into env: Jinja.Environment) {
        for table in [filters, dataFilters, networkFilters, systemFilters] {
            for (name, filter) in table { env.filters[name] = filter }
        }
        for (name, test) in tests { env.tests[name] = test }
        for (name, function) in globalFunctions { env.globals[name] = function }
        // One cache of parsed documents per environment (one compile): a
        // formula's defaults.yaml is imported by every file it renders.
        let parsed = ParsedDocuments()
        env.tagExtensions["import_yaml"] = ImportTag(format: .yaml, parsed: parsed)
        env.tagExtensions["import_json"] = ImportTag(format: .json, parsed: parsed)
        env.tagExtensions["import_text"] = ImportTag(format: .text, parsed: parsed)
        env.tagExtensions["load_yaml"] = LoadTag(format: .yaml, parsed: parsed)
        env.tagExtensions["load_json"] = LoadTag(format: .json, parsed: parsed)
        env.tagExtensions["load_text"] = LoadTag(format: .text, parsed: parsed)
        env.filters["load_yaml"] = { value, _, _ in try parsed.value(try string(value), .yaml, source: "<load_yaml>") }
        env.filters["load_json"] = { value, _, _ in try parsed.value(try string(value), .json, source: "<load_json>") }
        env.tagExtensions["profile"] = ProfileTag()
        env.globals["odict"] = .function(Function("odict") { args, _ in try orderedDict(args) })
    }

    /// Salt's `odict` global (Python's `OrderedDict`): `odict()`,
    /// `odict(mapping)`, `odict([(k, v), …])`, plus keyword entries.
    static func orderedDict(_ args: Jinja.Arguments) throws -> Jinja.Value {
        guard args.positional.count <= 1 else {
            throw JinjaError(.typeError, "expected at most 1 argument, got \(args.positional.count)")
        }
        let box = DictBox()
        box.keepsOrder = true
        switch args.positional.first {
        case nil, .none?: break
        case .dict(let source)?:
            for (key, value) in source.pairs { box[key] = value }
        case .list(let items)?:
            try addPairs(items.items, to: box)
        case .tuple(let items)?:
            try addPairs(items, to: box)
        case .some:
            throw JinjaError(.typeError, "odict() takes a mapping or a list of (key, value) pairs")
        }
        for (name, value) in args.keywords { box[.string(name)] = value }
        return .dict(box)
    }

    static func addPairs(_ items: [Jinja.Value], to box: DictBox) throws {
        for item in items {
            switch item {
            case .list(let pair) where pair.items.count == 2: box[pair.items[0]] = pair.items[1]
            case .tuple(let pair) where pair.count == 2: box[pair[0]] = pair[1]
            default: throw JinjaError(.valueError, "dictionary update sequence element has length other than 2")
            }
        }
    }

    enum Format { case yaml, json, text }

    /// Salt's loader rule for template names: `./x` and `../x` are relative
    /// to the directory of the template that names them (Salt uses the
    /// `tpldir` of the template being loaded, the same directory in every
    /// tree we have seen); a name that climbs out of the file roots is not
    /// found. Other names are relative to the roots.
    @Sendable static func relativeName(_ name: String, parent: String?) throws -> String {
        guard let first = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first,
              first == "." || first == ".." else { return name }
        let base = parent.map(FileOps.dirname) ?? ""
        var parts: [Substring] = []
        for part in (base + "/" + name).split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { throw JinjaError(.templateNotFound, name, templateName: name) }
                parts.removeLast()
            default: parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    /// Documents already parsed in this compile, by format and text. Each
    /// answer is a fresh conversion of the stored data, so templates that
    /// change what they loaded share nothing.
    final class ParsedDocuments: @unchecked Sendable {
        private let lock = NSLock()
        private var documents: [Format: [String: BrineCore.Value]] = [:]
        private var storedBytes = 0
        static let limit = 32 << 20

        func value(_ text: String, _ format: Format, source: String) throws -> Jinja.Value {
            guard format != .text else { return .string(text) }
            lock.lock()
            let known = documents[format]?[text]
            lock.unlock()
            if let known { return JinjaBridge.toJinja(known) }
            let data = format == .yaml ? try YAML.decode(text, file: source) : try JSON.decode(text, file: source)
            lock.lock()
            if storedBytes + text.utf8.count <= Self.limit {
                documents[format, default: [:]][text] = data
                storedBytes += text.utf8.count
            }
            lock.unlock()
            return JinjaBridge.toJinja(data)
        }
    }

    static func string(_ value: Jinja.Value) throws -> String {
        if case .string(let s) = value { return s }
        if case .markup(let s) = value { return s }
        return try value.str()
    }

    typealias Filter = @Sendable (Jinja.Value, Jinja.Arguments, CallContext) throws -> Jinja.Value

    static func arg(_ args: Jinja.Arguments, _ index: Int, _ name: String) -> Jinja.Value? { args.get(index, name) }

    static func regexOptions(_ args: Jinja.Arguments, from index: Int) -> Int {
        var flags = 0
        if arg(args, index, "ignorecase").map({ JinjaBridge.fromJinja($0).isTruthy }) ?? false { flags |= 2 }
        if arg(args, index + 1, "multiline").map({ JinjaBridge.fromJinja($0).isTruthy }) ?? false { flags |= 8 }
        return flags
    }

    static let filters: [String: Filter] = [
        "yaml": { value, args, _ in
            let flow = arg(args, 0, "flow_style").map { JinjaBridge.fromJinja($0).isTruthy } ?? true
            // PyYAML's dumper sorts the keys of every plain dict it writes
            // (not of pillar's OrderedDicts); formulas round-trip data through
            // `| yaml | load_yaml`, so the order they later iterate in is that one.
            let data = JinjaBridge.fromJinjaSortingPlainDicts(value)
            guard !flow else { return .markup(YAML.encodeFlow(data)) }
            var block = YAML.encode(data)
            while block.utf8.last == UInt8(ascii: "\n") { block.removeLast() }
            return .markup(block)
        },
        "json": { value, args, _ in
            let indent = arg(args, 1, "indent").flatMap { JinjaBridge.fromJinja($0).intValue }
            return .markup(JSON.encode(sortedKeys(JinjaBridge.fromJinja(value), arg(args, 0, "sort_keys").map { JinjaBridge.fromJinja($0).isTruthy } ?? true), indent: indent))
        },
        "yaml_encode": { value, _, _ in
            // PyYAML's scalar representation; strings always double-quoted.
            switch value {
            case .string(let s), .markup(let s): return .string(pyYAMLDoubleQuoted(s))
            case .none: return .string("null")
            case .bool(let b): return .string(b ? "true" : "false")
            case .int(let i): return .string(String(i))
            case .float(let d):
                return .string(d.isNaN ? ".nan" : d.isInfinite ? (d < 0 ? "-.inf" : ".inf") : formatFloat(d))
            default:
                throw JinjaError(.typeError, "yaml_encode() only works with YAML scalar data; failed for <class '\(value.typeName)'>")
            }
        },
        "yaml_dquote": { value, _, _ in .string(pyYAMLDoubleQuoted(try string(value))) },
        "yaml_squote": { value, _, _ in .string("'" + (try string(value)).replacingOccurrences(of: "'", with: "''") + "'") },
        "load_text": { value, _, _ in .string(try string(value)) },
        "unique": { value, _, _ in
            var seen: [BrineCore.Value] = []
            for item in JinjaBridge.fromJinja(value).listValue ?? [] where !seen.contains(item) { seen.append(item) }
            return JinjaBridge.toJinja(.list(seen))
        },
        "traverse": { value, args, _ in
            let key = try string(arg(args, 0, "key") ?? .string(""))
            let delimiter = try arg(args, 2, "delimiter").map(string) ?? ":"
            if let found = JinjaBridge.fromJinja(value).traverse(key, delimiter: delimiter) { return JinjaBridge.toJinja(found) }
            return arg(args, 1, "default") ?? .none
        },
        "to_bool": { value, _, _ in
            switch JinjaBridge.fromJinja(value) {
            case .null: return .bool(false)
            case .bool(let b): return .bool(b)
            case .int(let i): return .bool(i > 0)
            case .string(let s): return .bool(["yes", "1", "true"].contains(s.lowercased()))
            // Python: other hashable values (floats) are False; containers
            // are True when not empty.
            case .list(let l): return .bool(!l.isEmpty)
            case .map(let m): return .bool(!m.isEmpty)
            default: return .bool(false)
            }
        },
        "to_num": { value, _, _ in
            let text = try string(value)
            if let i = Int(text) { return .int(i) }
            if let d = Double(text) { return .float(d) }
            return value
        },
        "regex_search": { value, args, _ in try regexGroups(value, args, anchored: false) },
        "regex_match": { value, args, _ in try regexGroups(value, args, anchored: true) },
        "regex_replace": { value, args, _ in
            let pattern = try string(arg(args, 0, "rgx") ?? .string(""))
            let replacement = try string(arg(args, 1, "val") ?? .string(""))
            let regex = try PyRegex(pattern, flags: .int(regexOptions(args, from: 2)))
            return .string(regex.substitute(in: try string(value), with: replacement).0)
        },
        "path_join": { value, args, _ in
            var parts = [try string(value)]
            for part in args.positional { parts.append(try string(part)) }
            return .string(FileOps.join(parts))
        },
        "sequence": { value, _, _ in
            switch value {
            case .list, .tuple, .dict: return value
            default: return .list(ListBox([value]))
            }
        },
        "is_list": { value, _, _ in
            if case .list = value { return .bool(true) }
            return .bool(false)
        },
        "quote": { value, _, _ in .string(Shlex.quote(try string(value))) },
        "md5": { value, _, _ in .string(try Hashing.hexDigest(Array((try string(value)).utf8), algorithm: "md5")) },
        "sha256": { value, _, _ in .string(try Hashing.hexDigest(Array((try string(value)).utf8), algorithm: "sha256")) },
        "sha512": { value, _, _ in .string(try Hashing.hexDigest(Array((try string(value)).utf8), algorithm: "sha512")) },
        "base64_encode": { value, _, _ in .string(Data((try string(value)).utf8).base64EncodedString()) },
        "base64_decode": { value, _, _ in
            guard let data = Data(base64Encoded: try string(value)) else { throw JinjaError(.valueError, "invalid base64 input") }
            return .string(String(decoding: data, as: UTF8.self))
        },
        "union": { value, args, _ in setOp(value, args) { a, b in a + b.filter { !a.contains($0) } } },
        "intersect": { value, args, _ in setOp(value, args) { a, b in a.filter { b.contains($0) } } },
        "difference": { value, args, _ in setOp(value, args) { a, b in a.filter { !b.contains($0) } } },
        "symmetric_difference": { value, args, _ in
            setOp(value, args) { a, b in a.filter { !b.contains($0) } + b.filter { !a.contains($0) } }
        },
    ]

    /// PyYAML's `write_double_quoted` without line folding and without
    /// `allow_unicode`: printable ASCII as is, the rest escaped.
    static func pyYAMLDoubleQuoted(_ text: String) -> String {
        let named: [UInt32: String] = [0: "0", 7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r", 27: "e",
                                       0x22: "\"", 0x5C: "\\", 0x85: "N", 0xA0: "_", 0x2028: "L", 0x2029: "P"]
        var out = "\""
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if let name = named[v] {
                out += "\\" + name
            } else if (0x20...0x7E).contains(v) {
                out.unicodeScalars.append(scalar)
            } else {
                let (prefix, width) = v <= 0xFF ? ("x", 2) : v <= 0xFFFF ? ("u", 4) : ("U", 8)
                let digits = String(v, radix: 16, uppercase: true)
                out += "\\" + prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits
            }
        }
        return out + "\""
    }

    static func setOp(_ value: Jinja.Value, _ args: Jinja.Arguments,
                      _ op: ([BrineCore.Value], [BrineCore.Value]) -> [BrineCore.Value]) -> Jinja.Value
    {
        let a = JinjaBridge.fromJinja(value).listValue ?? []
        let b = arg(args, 0, "rhs").map { JinjaBridge.fromJinja($0).listValue ?? [] } ?? []
        var unique: [BrineCore.Value] = []
        for item in op(a, b) where !unique.contains(item) { unique.append(item) }
        return JinjaBridge.toJinja(.list(unique))
    }

    static func regexGroups(_ value: Jinja.Value, _ args: Jinja.Arguments, anchored: Bool) throws -> Jinja.Value {
        let text = try string(value)
        let pattern = try string(arg(args, 0, "rgx") ?? .string(""))
        let regex = try PyRegex(pattern, flags: .int(regexOptions(args, from: 1)))
        let range = NSRange(text.startIndex..., in: text)
        guard let match = regex.regex.firstMatch(in: text, options: anchored ? [.anchored] : [], range: range) else { return .none }
        let source = text as NSString
        // Without groups Salt returns the whole match, as a 1-tuple.
        guard match.numberOfRanges > 1 else { return .tuple([.string((text as NSString).substring(with: match.range))]) }
        var groups: [Jinja.Value] = []
        for i in 1..<match.numberOfRanges {
            let r = match.range(at: i)
            groups.append(r.location == NSNotFound ? .none : .string(source.substring(with: r)))
        }
        return .tuple(groups)
    }

    static func sortedKeys(_ value: BrineCore.Value, _ sort: Bool) -> BrineCore.Value {
        guard sort else { return value }
        switch value {
        case .map(let m):
            var out = BrineCore.Value.emptyMap.mapValue ?? [:]
            for key in m.keys.sorted() { out[key] = sortedKeys(m[key] ?? .null, true) }
            return .map(out)
        case .list(let l): return .list(l.map { sortedKeys($0, true) })
        default: return value
        }
    }

    // MARK: - Tags

    /// `{% import_yaml "defaults.yaml" as defaults %}`: render the named
    /// template, then parse it.
    struct ImportTag: TagExtension {
        let format: Format
        let parsed: ParsedDocuments
        func parse(tag: String, parser: inout TagParser) throws -> ExtensionStatement {
            let source = try parser.parseExpression()
            try parser.expectKeyword("as")
            let target = try parser.expectName()
            _ = parser.skipKeyword("with") ? parser.skipKeyword("context") : (parser.skipKeyword("without") && parser.skipKeyword("context"))
            let format = self.format, parsed = self.parsed
            return ExtensionStatement { runtime in
                let name = try SaltJinja.string(try runtime.evaluate(source))
                let text = try runtime.renderTemplate(name)
                try runtime.assign(target, try parsed.value(text, format, source: name))
            }
        }
    }

    /// `{% load_yaml as data %}…{% endload %}`.
    struct LoadTag: TagExtension {
        let format: Format
        let parsed: ParsedDocuments
        func parse(tag: String, parser: inout TagParser) throws -> ExtensionStatement {
            try parser.expectKeyword("as")
            let target = try parser.expectName()
            let body = try parser.parseBody(until: ["endload"])
            let format = self.format, parsed = self.parsed
            return ExtensionStatement { runtime in
                let text = try runtime.render(body)
                try runtime.assign(target, try parsed.value(text, format, source: tag))
            }
        }
    }

    /// `{% profile as 'label' %}…{% endprofile %}`: renders the body (timing
    /// is logged by Salt; Brine just renders it).
    struct ProfileTag: TagExtension {
        func parse(tag: String, parser: inout TagParser) throws -> ExtensionStatement {
            try parser.expectKeyword("as")
            _ = try parser.parseExpression()
            let body = try parser.parseBody(until: ["endprofile"])
            return ExtensionStatement { runtime in
                runtime.write(try runtime.render(body))
            }
        }
    }
}
