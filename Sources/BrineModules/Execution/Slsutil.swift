import BrineCore
import Logging

/// Salt's `slsutil` and `defaults` helpers used from templates: recursive
/// dictionary merges with Salt's strategies.
public enum SlsutilModule: ExecutionModule {
    public static let name = "slsutil"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("merge", doc: "Merge obj_b into obj_a (strategy: smart/recurse/overwrite; merge_lists).",
                          [Parameter("obj_a"), Parameter("obj_b"), Parameter("strategy", default: "smart"),
                           Parameter("renderer", default: "yaml"), Parameter("merge_lists", default: false)]) { a, _ in
            merge(a["obj_a"], a["obj_b"], strategy: a.string("strategy") ?? "smart", lists: a.bool("merge_lists"))
        },
        ExecutionFunction("update", doc: "Recursively update dest with upd (returns the result).",
                          [Parameter("dest"), Parameter("upd"), Parameter("recursive_update", default: true),
                           Parameter("merge_lists", default: false)]) { a, _ in
            a.bool("recursive_update") ? a["dest"].merged(with: a["upd"], mergeLists: a.bool("merge_lists"))
                : shallow(a["dest"], a["upd"])
        },
        ExecutionFunction("boolstr", doc: "Return true= (default 'true') when value is truthy, else false= ('false').",
                          [Parameter("value"), Parameter("true", default: "true"), Parameter("false", default: "false")]) { a, _ in
            a["value"].isTruthy ? a["true"] : a["false"]
        },
        ExecutionFunction("serialize", doc: "Serialize data to text: serializer json or yaml.",
                          [Parameter("serializer"), Parameter("obj")], kwargs: true) { a, _ in
            switch a.string("serializer") {
            case "json": return .string(JSON.encode(a["obj"], indent: a.extraKeywords["indent"]?.intValue))
            case "yaml": return .string(String(YAML.encodeFlowLeaves(a["obj"]).dropLast()))
            case let other: throw BrineError(.arguments, "Serializer '\(other ?? "")' not found.", hint: "Brine serializes json and yaml")
            }
        },
        ExecutionFunction("deserialize", doc: "Parse text: serializer json or yaml.",
                          [Parameter("serializer"), Parameter("stream_or_string")], kwargs: true) { a, _ in
            let text = a.string("stream_or_string") ?? ""
            switch a.string("serializer") {
            case "json": return try JSON.decode(text, file: "<deserialize>")
            case "yaml": return try YAML.decode(text, file: "<deserialize>")
            case let other: throw BrineError(.arguments, "Serializer '\(other ?? "")' not found.", hint: "Brine deserializes json and yaml")
            }
        },
        ExecutionFunction("banner", doc: "Return a comment banner for managed files (Salt's layout).",
                          [Parameter("width", default: 72), Parameter("commentchar", default: "#"), Parameter("borderchar", default: "#"),
                           Parameter("blockstart", default: .null), Parameter("blockend", default: .null), Parameter("title", default: .null),
                           Parameter("text", default: .null), Parameter("newline", default: false)]) { a, _ in
            .string(try Banner(a).text)
        },
    ]

    static func merge(_ a: Value, _ b: Value, strategy: String, lists: Bool) -> Value {
        strategy == "overwrite" ? shallow(a, b) : a.merged(with: b, mergeLists: lists)
    }

    static func shallow(_ a: Value, _ b: Value) -> Value {
        guard case .map(var base) = a, case .map(let overlay) = b else { return b }
        for (k, v) in overlay { base[k] = v }
        return .map(base)
    }
}

/// Salt's `slsutil.banner`: a bordered comment block, the title centred
/// and the text wrapped as Python's `textwrap` wraps it.
struct Banner {
    let text: String

    init(_ a: Arguments) throws {
        let width = a.int("width") ?? 72
        let comment = a.string("commentchar") ?? "#"
        let border = String((a.string("borderchar") ?? "#").prefix(1))
        let title = a.string("title") ?? "THIS FILE IS MANAGED BY SALT - DO NOT EDIT"
        let body = a.string("text") ?? "The contents of this file are managed by Salt. Any changes to this file may be overwritten automatically and without warning."
        let leftEdge = String(comment.reversed().drop { $0.isWhitespace }.reversed())
        let rightEdge = comment.trimmingCharacters(in: .whitespaces)
        let leftGutter = leftEdge + " ", rightGutter = " " + rightEdge
        let textWidth = width - leftGutter.count - rightGutter.count
        guard textWidth > 0 else { throw BrineError(.arguments, "Width is too small to render banner") }
        let borderLine = comment + String(repeating: border, count: max(0, width - leftEdge.count - rightEdge.count)) + rightEdge
        let spacerLine = comment + String(repeating: " ", count: max(0, width - comment.count * 2)) + comment
        var block: [String] = []
        if let start = a.string("blockstart") { block.append(start) }
        block += [borderLine, spacerLine]
        block += Banner.wrap(title, textWidth).map { leftGutter + Banner.center($0, textWidth) + rightGutter }
        block.append(spacerLine)
        block += Banner.wrap(body, textWidth).map { leftGutter + $0 + String(repeating: " ", count: max(0, textWidth - $0.count)) + rightGutter }
        block.append(borderLine)
        if let end = a.string("blockend") { block.append(end) }
        text = block.joined(separator: "\n") + (a.bool("newline") ? "\n" : "")
    }

    /// Greedy wrapping on whitespace; a word longer than a line is cut.
    static func wrap(_ text: String, _ width: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(whereSeparator: \.isWhitespace).map(String.init) {
            var word = word
            if current.isEmpty && word.count > width {
                while word.count > width { lines.append(String(word.prefix(width))); word = String(word.dropFirst(width)) }
            }
            if current.isEmpty { current = word } else if current.count + 1 + word.count <= width { current += " " + word } else {
                lines.append(current)
                current = word
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// Python's `str.center`.
    static func center(_ text: String, _ width: Int) -> String {
        let margin = width - text.count
        guard margin > 0 else { return text }
        let left = margin / 2 + (margin & width & 1)
        return String(repeating: " ", count: left) + text + String(repeating: " ", count: margin - left)
    }
}

public enum DefaultsModule: ExecutionModule {
    public static let name = "defaults"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("merge", doc: "Deep-merge src into dest (defaults.merge).",
                          [Parameter("dest"), Parameter("src"), Parameter("merge_lists", default: false),
                           Parameter("in_place", default: true)]) { a, _ in
            a["dest"].merged(with: a["src"], mergeLists: a.bool("merge_lists"))
        },
        ExecutionFunction("update", doc: "Update each item of a dict of dicts with defaults.",
                          [Parameter("dest"), Parameter("defaults"), Parameter("merge_lists", default: true),
                           Parameter("in_place", default: true)]) { a, _ in
            guard case .map(let items) = a["dest"] else { return a["dest"] }
            return .map(items.mapValues { a["defaults"].merged(with: $0, mergeLists: a.bool("merge_lists")) })
        },
        ExecutionFunction("deepcopy", doc: "Return a copy of the value.", [Parameter("source")]) { a, _ in a["source"] },
    ]
}

/// Salt's `log` module: templates write to the log, at Salt's levels
/// (shown on the console at `-l debug`, kept in `log_file` at
/// `log_level_logfile`).
public enum LogModule: ExecutionModule {
    public static let name = "log"
    static let logger = Logger.brine("brine.loaded.log")

    static func level(_ name: String) -> ExecutionFunction {
        ExecutionFunction(name, doc: "Log a message at \(name) level.", [Parameter("message")], varargs: true) { a, _ in
            let level = SaltLogLevel(name: name == "exception" ? "error" : name) ?? .warning
            // Salt formats the message with the extra arguments (`%s`).
            var message = a.string("message") ?? a["message"].pythonString
            for argument in a.extra {
                guard let range = message.range(of: "%s") else { break }
                message.replaceSubrange(range, with: argument.pythonString)
            }
            logger.log(level: level.loggerLevel, "\(message)")
            return .null
        }
    }

    public static let functions: [ExecutionFunction] = ["debug", "info", "warning", "error", "critical", "exception"].map(level)
}
