import BrineCore
import Foundation
import OrderedCollections

/// Salt's `aptpkg` selection functions: dpkg's selections read and set,
/// holds placed and lifted (`pkg.hold`/`unhold`), as Salt 3008 answers.
extension PkgModule {
    static let holdFunctions: [ExecutionFunction] = [
        ExecutionFunction("get_selections", doc: "dpkg's selections by state ({hold: [...], install: [...]}); pattern and state narrow it.",
                          [Parameter("pattern", default: .null), Parameter("state", default: .null)]) { a, ctx in
            let found = try selections(a.string("pattern"), ctx)
            if let state = a.string("state") { return .map([state: .list((found[state] ?? []).map(Value.string))]) }
            return .map(found.mapValues { .list($0.map(Value.string)) })
        },
        ExecutionFunction("hold", doc: "Hold packages (name, pkgs or sources) with dpkg --set-selections.",
                          [Parameter("name", default: .null), Parameter("pkgs", default: .null), Parameter("sources", default: .null)],
                          kwargs: true) { a, ctx in
            .map(try setHold(true, targets: try holdTargets(a), ctx))
        },
        ExecutionFunction("unhold", doc: "Lift the hold of packages (name, pkgs or sources).",
                          [Parameter("name", default: .null), Parameter("pkgs", default: .null), Parameter("sources", default: .null)],
                          kwargs: true) { a, ctx in
            .map(try setHold(false, targets: try holdTargets(a), ctx))
        },
    ]

    static func holdTargets(_ a: Arguments) throws -> [String] {
        if a["name"].isNull && a["pkgs"].isNull && a["sources"].isNull {
            throw BrineError(.arguments, "One of name, pkgs, or sources must be specified.")
        }
        if !a["pkgs"].isNull && !a["sources"].isNull { throw BrineError(.arguments, "Only one of pkgs or sources can be specified.") }
        // An empty list is no list (Python's falsy `pkgs`): the name is the target.
        let listed = a["pkgs"].listValue.flatMap { $0.isEmpty ? nil : $0 } ?? a["sources"].listValue.flatMap { $0.isEmpty ? nil : $0 }
        guard let listed else { return [a["name"].pythonString] }
        return listed.map { $0.mapValue?.keys.first ?? $0.pythonString }
    }

    /// `dpkg --get-selections [pattern]`, grouped by selection state.
    static func selections(_ pattern: String?, _ ctx: ExecutionContext) throws -> OrderedDictionary<String, [String]> {
        let result = try ctx.runner.run(Command(["dpkg", "--get-selections", pattern ?? "*"], environment: env()))
        var found = OrderedDictionary<String, [String]>()
        for line in result.stdout.split(separator: "\n") {
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard words.count == 2 else { continue }
            found[words[1], default: []].append(words[0])
        }
        return found
    }

    /// Salt's `hold`/`unhold`: per package {name, changes, result, comment}.
    static func setHold(_ hold: Bool, targets: [String], _ ctx: ExecutionContext) throws -> OrderedDictionary<String, Value> {
        var answers = OrderedDictionary<String, Value>()
        for target in targets {
            let current = try selections(target, ctx)
            // dpkg names multi-arch packages `name:arch`: the query matched the target, any hold is its hold.
            let held = !(current["hold"] ?? []).isEmpty
            var answer: OrderedDictionary<String, Value> = ["name": .string(target), "changes": .emptyMap, "result": false, "comment": ""]
            if !hold && current.isEmpty {
                answer["comment"] = .string("Package \(target) does not have a state.")
            } else if held == hold {
                answer["result"] = true
                answer["comment"] = .string(hold ? "Package \(target) is already set to be held." : "Package \(target) is already set not to be held.")
            } else if ctx.opts.bool("test") {
                answer["result"] = .null
                answer["comment"] = .string(hold ? "Package \(target) is set to be held." : "Package \(target) is set not to be held.")
            } else {
                let old = current.first { $0.value.contains(target) }?.key
                let new = hold ? "hold" : "install"
                let result = try ctx.runner.run(Command(["dpkg", "--set-selections"], environment: env(), stdin: "\(target) \(new)\n"))
                guard result.retcode == 0 else {
                    answer["comment"] = .string("dpkg --set-selections failed for \(target): \(CmdModule.rstrip(result.stderr))")
                    answers[target] = .map(answer)
                    continue
                }
                answer["changes"] = ["old": old.map(Value.string) ?? .null, "new": .string(new)]
                answer["result"] = true
                answer["comment"] = .string(hold ? "Package \(target) is now being held." : "Package \(target) is no longer being held.")
            }
            answers[target] = .map(answer)
        }
        return answers
    }
}
