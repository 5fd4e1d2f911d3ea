import BrineCore
import Foundation
import OrderedCollections

/// Salt's `pkg.held`/`pkg.unheld` on APT (holds are dpkg selections).
extension PkgState {
    static let holdFunctions: [StateFunction] = [
        StateFunction("held", doc: "Hold packages at their version (pkgs; replace: lift every other hold).",
                      .optional("version", "pkgs") + [Parameter("replace", default: false)]) { call in
            try held(call)
        },
        StateFunction("unheld", doc: "Lift the hold of packages (pkgs; all: every hold).",
                      .optional("version", "pkgs") + [Parameter("all", default: false)]) { call in
            try unheld(call)
        },
    ]

    /// The package names a state names (`name`, or each of `pkgs`).
    static func holdNames(_ call: StateCall) -> [String]? {
        guard case .list(let items) = call["pkgs"] else { return call["pkgs"].isNull ? [call.name] : nil }
        return items.map { $0.mapValue?.keys.first ?? $0.pythonString }
    }

    static func currentHolds(_ call: StateCall) throws -> [String] {
        try PkgModule.selections(nil, call.context)["hold"] ?? []
    }

    /// One hold or unhold through the execution module, its answer kept.
    static func change(_ hold: Bool, _ package: String, _ call: StateCall) throws -> (ok: Bool, answer: Value) {
        let answers = try PkgModule.setHold(hold, targets: [package], call.context)
        let answer = answers[package] ?? .emptyMap
        return (answer["result"] == .bool(true), answer)
    }

    /// Lifts the holds of `names` (under test, says which it would lift).
    static func lift(_ names: [String], _ call: StateCall, into ret: inout StateResult, said: inout [String]) throws {
        for name in names {
            if call.test {
                said.append("The following package would be unheld: \(name)")
                continue
            }
            let (ok, answer) = try change(false, name, call)
            if !ok { ret.result = false }
            if let comment = answer["comment"]?.stringValue, !comment.isEmpty { said.append(comment) }
            ret.changes[name] = answer
        }
    }

    static func held(_ call: StateCall) throws -> StateResult {
        guard let names = holdNames(call), !(names.isEmpty && !call.bool("replace")) else {
            return StateResult(name: call.name, comment: "No packages to be held provided")
        }
        let locks = try currentHolds(call)
        var ret = StateResult(name: call.name)
        var said: [String] = []
        for name in names where !locks.contains(name) {
            if call.test {
                said.append("The following package would be held: \(name)")
                continue
            }
            let (ok, answer) = try change(true, name, call)
            if !ok { ret.result = false }
            said.append(ok ? "Package \(name) is now being held" : "Package \(name) was not held")
            ret.changes[name] = answer
        }
        if call.bool("replace") { try lift(locks.filter { !names.contains($0) }, call, into: &ret, said: &said) }
        ret.comment = said.joined(separator: "\n")
        if ret.changes.isEmpty && ret.comment.isEmpty { ret.comment = "No changes made" }
        return ret
    }

    static func unheld(_ call: StateCall) throws -> StateResult {
        guard let names = holdNames(call), !(names.isEmpty && !call.bool("all")) else {
            return StateResult(name: call.name, comment: "No packages to be unheld provided")
        }
        var ret = StateResult(name: call.name)
        var said: [String] = []
        try lift(try currentHolds(call).filter { call.bool("all") || names.contains($0) }, call, into: &ret, said: &said)
        ret.comment = said.joined(separator: "\n")
        if ret.changes.isEmpty && ret.comment.isEmpty { ret.comment = "No changes made" }
        return ret
    }
}
