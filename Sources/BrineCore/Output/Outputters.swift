/// How returns are printed: Salt's outputters by their `--out` names.
public enum Outputter: String, Sendable, CaseIterable {
    case nested, json, yaml, txt, quiet, raw, newline_values_only, highstate

    public struct Options: Sendable {
        public var colors: Colors = .none
        public var indent: Int? = 4
        /// Non-zero turns the nested outputter's keys red, as Salt does
        /// when a minion returned an error.
        public var retcode = 0

        public init(colors: Colors = .none, indent: Int? = 4, retcode: Int = 0) {
            self.colors = colors
            self.indent = indent
            self.retcode = retcode
        }
    }

    /// Renders `{id: return}` data. The `highstate` outputter lives with
    /// the state system; here it falls back to nested.
    public func render(_ data: Value, options: Options = Options()) -> String {
        switch self {
        case .nested, .highstate:
            return NestedOutput(colors: options.colors, retcode: options.retcode).render(data)
        case .json:
            return JSON.encode(data, indent: options.indent ?? nil)
        case .yaml:
            return YAML.encode(data).dropLast().description
        case .txt:
            return TextOutput.render(data)
        case .quiet:
            return ""
        case .raw:
            return data.pythonRepr
        case .newline_values_only:
            guard case .map(let m) = data else { return data.pythonString }
            return m.values.map(\.pythonString).joined(separator: "\n")
        }
    }
}

/// Salt's default `nested` outputter: keys in cyan, scalars in yellow,
/// strings in green, `----------` above nested mappings, `|_` for lists of
/// lists or mappings. Mapping keys are sorted, as Salt sorts plain dicts.
public struct NestedOutput: Sendable {
    public var colors: Colors
    public var retcode: Int

    public init(colors: Colors = .none, retcode: Int = 0) {
        self.colors = colors
        self.retcode = retcode
    }

    public func render(_ value: Value, indent: Int = 0) -> String {
        var out: [UInt8] = []
        display(value, indent: indent, prefix: "", into: &out)
        if out.last == UInt8(ascii: "\n") { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends one line (and its newline) as bytes: show_sls of a large tree
    /// prints a megabyte, where building each line as its own string, or
    /// appending piecewise to a String, showed in profiles.
    private func line(_ out: inout [UInt8], _ indent: Int, _ color: String, _ message: Substring,
                      prefix: String = "", suffix: String = "") {
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
        out.append(contentsOf: color.utf8)
        out.append(contentsOf: prefix.utf8)
        out.append(contentsOf: message.utf8)
        out.append(contentsOf: colors.endc.utf8)
        out.append(contentsOf: suffix.utf8)
        out.append(UInt8(ascii: "\n"))
    }

    func display(_ value: Value, indent: Int, prefix: String, into out: inout [UInt8]) {
        let keyColor = retcode != 0 ? colors.red : colors.cyan
        switch value {
        case .null, .bool, .int, .float:
            line(&out, indent, colors.lightYellow, Substring(value.pythonString), prefix: prefix)
        case .string(let s):
            var first = true
            for textLine in pythonSplitLines(s) {
                line(&out, indent, colors.green, textLine, prefix: first ? prefix : String(repeating: " ", count: prefix.count))
                first = false
            }
        case .list(let items):
            let color = retcode != 0 ? colors.red : colors.green
            for item in items {
                switch item {
                case .list, .map:
                    line(&out, indent, color, "|_")
                    let isMap = if case .map = item { true } else { false }
                    display(item, indent: indent + 2, prefix: isMap ? "" : "- ", into: &out)
                default:
                    display(item, indent: indent, prefix: "- ", into: &out)
                }
            }
        case .map(let map):
            if indent > 0 { line(&out, indent, keyColor, "----------") }
            for (key, child) in map.sorted(by: { $0.key < $1.key }) {
                line(&out, indent, keyColor, Substring(key), prefix: prefix, suffix: ":")
                display(child, indent: indent + 4, prefix: "", into: &out)
            }
        }
    }
}

/// Python's `str.splitlines()` for `\n`, `\r\n` and `\r`: no trailing
/// empty line, and an empty string gives no lines at all. (Scans bytes: the
/// separators are ASCII, and walking Characters costs grapheme breaking.)
func pythonSplitLines(_ s: String) -> [Substring] {
    var result: [Substring] = []
    let utf8 = s.utf8
    var start = utf8.startIndex
    var i = utf8.startIndex
    while i < utf8.endIndex {
        let c = utf8[i]
        if c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
            result.append(Substring(s.utf8[start..<i]))
            var next = utf8.index(after: i)
            if c == UInt8(ascii: "\r"), next < utf8.endIndex, utf8[next] == UInt8(ascii: "\n") { next = utf8.index(after: next) }
            start = next
            i = next
        } else {
            i = utf8.index(after: i)
        }
    }
    if start < utf8.endIndex { result.append(Substring(s.utf8[start...])) }
    return result
}

/// Salt's `txt` outputter: `id: value` per line of each value.
enum TextOutput {
    static func render(_ data: Value) -> String {
        guard case .map(let map) = data else { return data.pythonString + "\n" }
        var out = ""
        for (key, value) in map {
            if case .string(let s) = value {
                for line in pythonSplitLines(s) { out += "\(key): \(line)\n" }
            } else {
                out += "\(key): \(value.pythonString)\n"
            }
        }
        return out
    }
}
