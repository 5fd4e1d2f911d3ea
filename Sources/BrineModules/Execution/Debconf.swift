import BrineCore
import Foundation
import OrderedCollections

/// Salt's `debconf` execution module: read answers with
/// debconf-get-selections, set them with debconf-set-selections (from a
/// temporary file, so values never appear on a command line).
public enum DebconfModule: ExecutionModule {
    public static let name = "debconf"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("get_selections", doc: "Every package's answers: {package: [[question, type, value], …]}.",
                          [Parameter("fetchempty", default: true)]) { a, ctx in
            .map(try selections(ctx, fetchEmpty: a.bool("fetchempty")).mapValues { .list($0.map { .list($0.map(Value.string)) }) })
        },
        ExecutionFunction("show", doc: "A package's answers as [[question, type, value], …], or None.", [Parameter("name")]) { a, ctx in
            guard let answers = try selections(ctx, fetchEmpty: true)[a.string("name") ?? ""] else { return .null }
            return .list(answers.map { .list($0.map(Value.string)) })
        },
        ExecutionFunction("set", doc: "Answer one question: debconf.set PACKAGE QUESTION TYPE VALUE.",
                          [Parameter("package"), Parameter("question"), Parameter("type"), Parameter("value")], varargs: true) { a, ctx in
            let value = ([a.string("value") ?? ""] + a.extra.map(\.pythonString)).joined(separator: " ")
            try setSelections("\(a.string("package") ?? "") \(a.string("question") ?? "") \(a.string("type") ?? "") \(value)", ctx)
            return true
        },
        ExecutionFunction("set_file", doc: "Load answers from a file (salt:// or a path) with debconf-set-selections.",
                          [Parameter("path"), Parameter("saltenv", default: "base")]) { a, ctx in
            let path = a.string("path") ?? ""
            let local = path.hasPrefix("salt://") ? try ctx.fileClient.cache(path, saltenv: a.string("saltenv") ?? ctx.saltenv) : path
            guard let local, FileOps.isFile(local) else { return false }
            _ = try run(["debconf-set-selections", local], ctx)
            return true
        },
    ]

    static func run(_ argv: [String], _ ctx: ExecutionContext) throws -> String {
        let result = try ctx.runner.run(Command(argv, environment: ProcessInfo.processInfo.environment.merging(["LC_ALL": "C"]) { _, new in new }))
        guard result.retcode == 0 else {
            throw BrineError(.execution, "\(argv[0]) failed: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))",
                             hint: argv[0] == "debconf-get-selections" ? "install debconf-utils" : nil)
        }
        return result.stdout
    }

    /// debconf-get-selections' lines: `package question type value`.
    static func selections(_ ctx: ExecutionContext, fetchEmpty: Bool) throws -> OrderedDictionary<String, [[String]]> {
        var found = OrderedDictionary<String, [[String]]>()
        for line in try run(["debconf-get-selections"], ctx).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(maxSplits: 3, whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 3 else { continue }
            let value = fields.count == 4 ? fields[3] : ""
            if fetchEmpty || !value.isEmpty { found[fields[0], default: []].append([fields[1], fields[2], value]) }
        }
        return found
    }

    static func setSelections(_ line: String, _ ctx: ExecutionContext) throws {
        _ = try FileOps.withScratchFile(Array(line.utf8)) { file in try run(["debconf-set-selections", file], ctx) }
    }
}
