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
        var lines: [String] = []
        display(value, indent: indent, prefix: "", into: &lines)
        return lines.joined(separator: "\n")
    }

    private func line(_ indent: Int, _ color: String, _ message: String, prefix: String = "", suffix: String = "") -> String {
        String(repeating: " ", count: indent) + color + prefix + message + colors.endc + suffix
    }

    func display(_ value: Value, indent: Int, prefix: String, into lines: inout [String]) {
        let keyColor = retcode != 0 ? colors.red : colors.cyan
        switch value {
        case .null, .bool, .int, .float:
            lines.append(line(indent, colors.lightYellow, value.pythonString, prefix: prefix))
        case .string(let s):
            var first = true
            for textLine in pythonSplitLines(s) {
                let linePrefix = first ? prefix : String(repeating: " ", count: prefix.count)
                lines.append(line(indent, colors.green, String(textLine), prefix: linePrefix))
                first = false
            }
        case .list(let items):
            let color = retcode != 0 ? colors.red : colors.green
            for item in items {
                switch item {
                case .list, .map:
                    lines.append(line(indent, color, "|_"))
                    let isMap = if case .map = item { true } else { false }
                    display(item, indent: indent + 2, prefix: isMap ? "" : "- ", into: &lines)
                default:
                    display(item, indent: indent, prefix: "- ", into: &lines)
                }
            }
        case .map(let map):
            if indent > 0 { lines.append(line(indent, keyColor, "----------")) }
            for key in map.keys.sorted() {
                lines.append(line(indent, keyColor, key, prefix: prefix, suffix: ":"))
                display(map[key] ?? .null, indent: indent + 4, prefix: "", into: &lines)
            }
        }
    }
}

/// Python's `str.splitlines()` for `\n`, `\r\n` and `\r`: no trailing
/// empty line, and an empty string gives no lines at all.
func pythonSplitLines(_ s: String) -> [Substring] {
    var result: [Substring] = []
    var start = s.startIndex
    var i = s.startIndex
    while i < s.endIndex {
        let c = s[i]
        if c == "\n" || c == "\r" || c == "\r\n" {
            result.append(s[start..<i])
            start = s.index(after: i)
        }
        i = s.index(after: i)
    }
    if start < s.endIndex { result.append(s[start...]) }
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
