import CYaml
import OrderedCollections

/// Builds one document's `Value` from libyaml's event stream: anchors and
/// aliases, `<<` merge keys (PyYAML's order: merged keys first, explicit keys
/// override in place), duplicate keys reported with the line of their first
/// occurrence, nesting bounded.
struct YAMLEventDecoder {
    let file: String
    static let maxDepth = 512

    /// A collection being built; `line` is where it starts (1-based).
    private enum Open {
        case sequence(items: [Value], anchor: String?, line: Int)
        case mapping(MappingBuilder, anchor: String?, line: Int)
    }

    private struct MappingBuilder {
        var result = OrderedDictionary<String, Value>()
        var merged = OrderedDictionary<String, Value>()
        /// The key read and waiting for its value (nil: the next value is a key).
        var pendingKey: (key: String, line: Int, isMerge: Bool)?
        /// The line of each key of `result`, by position (keys are only appended).
        var lines: [Int] = []
        var duplicates: [String] = []

        var value: Value {
            guard !merged.isEmpty else { return .map(result) }
            var out = merged
            for (k, v) in result { out[k] = v }
            return .map(out)
        }
    }

    private var stack: [Open] = []
    /// The tag of each open collection (`!!pairs`, `!!omap`…), beside `stack`.
    private var tags: [String?] = []
    private var anchors: [String: Value] = [:]
    private var root: Value?

    init(file: String) { self.file = file }

    mutating func decode(_ text: String) throws(BrineError) -> Value {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw BrineError(.yaml, "out of memory", at: SourceLocation(file: file)) }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBufferPointer { (buffer) throws(BrineError) -> Value in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            var documents = 0
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else { throw parserError(parser) }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return root ?? .null
                case YAML_DOCUMENT_START_EVENT:
                    documents += 1
                    if documents > 1 {
                        throw BrineError(.yaml, "expected a single document in the stream, but found another document",
                                         at: SourceLocation(file: file, line: line), hint: "remove the second '---' document or split the file")
                    }
                case YAML_SCALAR_EVENT:
                    let scalar = event.data.scalar
                    let value = string(scalar.value, Int(scalar.length))
                    let tag = scalar.tag.map { String(cString: $0) }
                    let plain = scalar.style == YAML_PLAIN_SCALAR_STYLE
                    let resolved = YAML.scalarValue(value, tag: tag, plain: plain)
                    try add(resolved, anchor: anchor(scalar.anchor), line: line, mergeKey: plain && value == "<<")
                case YAML_ALIAS_EVENT:
                    let name = anchor(event.data.alias.anchor) ?? ""
                    guard let value = anchors[name] else {
                        throw BrineError(.yaml, "found undefined alias '\(name)'", at: SourceLocation(file: file, line: line),
                                         hint: "define the anchor (&\(name)) before using it")
                    }
                    try add(value, anchor: nil, line: line, mergeKey: false)
                case YAML_SEQUENCE_START_EVENT:
                    let tag = event.data.sequence_start.tag.map { String(cString: $0) }
                    if tag == "tag:yaml.org,2002:omap" {
                        // Salt's loader builds !!omap as a mapping.
                        throw BrineError(.yaml, "expected a mapping node, but found sequence", at: SourceLocation(file: file, line: line),
                                         hint: "write the !!omap as a mapping: !!omap {a: 1, b: 2}")
                    }
                    try open(.sequence(items: [], anchor: anchor(event.data.sequence_start.anchor), line: line), tag: tag)
                case YAML_MAPPING_START_EVENT:
                    try open(.mapping(MappingBuilder(), anchor: anchor(event.data.mapping_start.anchor), line: line),
                             tag: event.data.mapping_start.tag.map { String(cString: $0) })
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    try close()
                default:
                    break
                }
            }
        }
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, _ length: Int) -> String {
        guard let pointer, length > 0 else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    private func anchor(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private mutating func open(_ collection: Open, tag: String?) throws(BrineError) {
        guard stack.count < Self.maxDepth else {
            let line: Int
            switch collection {
            case .sequence(_, _, let l), .mapping(_, _, let l): line = l
            }
            throw BrineError(.yaml, "nesting deeper than \(Self.maxDepth) levels", at: SourceLocation(file: file, line: line))
        }
        stack.append(collection)
        tags.append(tag)
    }

    private mutating func close() throws(BrineError) {
        guard let top = stack.popLast() else { return }
        let tag = tags.popLast() ?? nil
        switch top {
        case .sequence(var items, let anchor, let line):
            if tag == "tag:yaml.org,2002:pairs" {
                // `!!pairs [{k: 1}, {k: 2}]`: (key, value) pairs, duplicates kept.
                items = try items.map { (item) throws(BrineError) -> Value in
                    guard case .map(let pair) = item, pair.count == 1, let key = pair.keys.first, let value = pair.values.first else {
                        throw BrineError(.yaml, "expected a mapping of length 1 in a !!pairs sequence", at: SourceLocation(file: file, line: line))
                    }
                    return Value.list([.string(key), value])
                }
            }
            try add(.list(items), anchor: anchor, line: line, mergeKey: false)
        case .mapping(let builder, let anchor, let line):
            if let first = builder.duplicates.sorted().first {
                let all = Set(builder.duplicates).sorted().joined(separator: "', '")
                throw BrineError(.yaml, "found conflicting ID '\(all)': first defined on this line, then again in the same mapping",
                                 at: SourceLocation(file: file, line: builder.result.index(forKey: first).map { builder.lines[$0] }),
                                 hint: "rename or remove one of them")
            }
            try add(builder.value, anchor: anchor, line: line, mergeKey: false)
        }
    }

    /// A finished value: the document root, a sequence item, or a mapping's key or value.
    /// `mergeKey`: the value is the plain scalar `<<` (a merge key when it is a mapping key).
    private mutating func add(_ value: Value, anchor: String?, line: Int, mergeKey: Bool) throws(BrineError) {
        if let anchor { anchors[anchor] = value }
        guard let last = stack.indices.last else {
            root = value
            return
        }
        switch stack[last] {
        case .sequence(var items, let anchor, let start):
            stack[last] = .sequence(items: [], anchor: nil, line: 0)  // drop the reference: append in place
            items.append(value)
            stack[last] = .sequence(items: items, anchor: anchor, line: start)
        case .mapping(var builder, let anchor, let start):
            stack[last] = .sequence(items: [], anchor: nil, line: 0)
            defer { stack[last] = .mapping(builder, anchor: anchor, line: start) }
            guard let pending = builder.pendingKey else {
                // Salt's loader refuses what Python cannot hash.
                switch value {
                case .list, .map:
                    throw BrineError(.yaml, "while constructing a mapping, found unacceptable key: a sequence or mapping cannot be a key",
                                     at: SourceLocation(file: file, line: line),
                                     hint: "quote the key if it is text (a '{{ … }}' outside a string is a YAML mapping)")
                default: break
                }
                builder.pendingKey = (Self.keyString(value), line, mergeKey)
                return
            }
            builder.pendingKey = nil
            if pending.isMerge {
                for case .map(let m) in (value.listValue ?? [value]) {
                    for (k, v) in m where builder.merged[k] == nil { builder.merged[k] = v }
                }
                return
            }
            if builder.result.updateValue(value, forKey: pending.key) != nil {
                builder.duplicates.append(pending.key)
            } else {
                builder.lines.append(pending.line)
            }
        }
    }

    /// Map keys are strings in `Value`; scalars keep the text the user typed
    /// except booleans and null, which Python would print as `True`/`None`.
    static func keyString(_ value: Value) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .null: return "None"
        case let other: return other.pythonString
        }
    }

    /// libyaml's message, as Yams words it: "context, problem" at the problem's line.
    private func parserError(_ parser: yaml_parser_t) -> BrineError {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        if parser.error == YAML_READER_ERROR {
            return BrineError(.yaml, problem, at: SourceLocation(file: file))
        }
        let message = parser.context.map { String(cString: $0) + ", " + problem } ?? problem
        return BrineError(.yaml, message, at: SourceLocation(file: file, line: Int(parser.problem_mark.line) + 1),
                          hint: "check the indentation and quoting on that line")
    }
}
