import Foundation
import XCTest
@testable import Jinja

/// Runs every case recorded from Jinja2 3.1.6's own test suite
/// (Resources/jinja-cases.jsonl) and prints
/// `jinja-conformance: N passed, M failed`. Fails only for cases that are
/// not listed in `KnownDifferences`.
final class ConformanceTests: XCTestCase {
    struct Outcome { let id: String; let passed: Bool; let detail: String }

    static func loadCases() throws -> [JSON] {
        let url = TestResources.url("jinja-cases.jsonl")
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    static func value(_ j: JSON) -> Value {
        switch j {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .float(d)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(value))
        case .object(let pairs):
            if let t = j["__type__"]?.string {
                switch t {
                case "tuple": if case .array(let a)? = j["items"] { return .tuple(a.map(value)) }
                case "set", "frozenset": if case .array(let a)? = j["items"] { return .list(a.map(value)) }
                case "dict":
                    if case .array(let a)? = j["items"] {
                        return .dict(a.compactMap { p -> (Value, Value)? in
                            guard case .array(let kv) = p, kv.count == 2 else { return nil }
                            return (value(kv[0]), value(kv[1]))
                        })
                    }
                case "markup": return .markup(j["value"]?.string ?? "")
                case "range":
                    if case .int(let a)? = j["start"], case .int(let b)? = j["stop"], case .int(let s)? = j["step"] {
                        return .list(stride(from: a, to: b, by: s).map { .int($0) })
                    }
                case "float":
                    switch j["value"]?.string {
                    case "inf": return .float(.infinity)
                    case "-inf": return .float(-.infinity)
                    default: return .float(.nan)
                    }
                case "bytes": return .string(j["hex"]?.string ?? "")
                case "complex":
                    func num(_ j: JSON?) -> Double {
                        switch j { case .double(let d)?: return d; case .int(let i)?: return Double(i); default: return 0 }
                    }
                    return .object(ComplexObject(real: num(j["real"]), imag: num(j["imag"])))
                default: break
                }
            }
            return .dict(pairs.map { (.string($0.0), value($0.1)) })
        }
    }

    /// Native-mode results compared structurally with the recorded value.
    static func nativeEqual(_ v: Value, _ j: JSON) -> Bool {
        switch (v, j) {
        case (.none, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.float(let a), .double(let b)): return a == b
        case (.float(let a), .int(let b)): return a == Double(b)
        case (.string(let a), .string(let b)), (.markup(let a), .string(let b)): return a == b
        case (.list(let l), .array(let a)): return l.items.count == a.count && zip(l.items, a).allSatisfy { nativeEqual($0, $1) }
        case (.tuple(let t), .object):
            if j["__type__"]?.string == "tuple", case .array(let a)? = j["items"] {
                return t.count == a.count && zip(t, a).allSatisfy { nativeEqual($0, $1) }
            }
            return false
        case (.string(let s), .object):
            if j["__type__"]?.string == "bytes", let hex = j["hex"]?.string {
                return s.utf8.map { String(format: "%02x", $0) }.joined() == hex
            }
            return false
        case (.dict(let d), .object(let pairs)):
            return d.count == pairs.count && pairs.allSatisfy { k, jv in d[k].map { nativeEqual($0, jv) } ?? false }
        default: return false
        }
    }

    static func makeEnvironment(_ c: JSON) -> Environment {
        let env = Environment()
        guard case .object(let opts)? = c["env_options"] else { return env }
        for (k, v) in opts {
            switch k {
            case "block_start_string": env.blockStartString = v.string ?? env.blockStartString
            case "block_end_string": env.blockEndString = v.string ?? env.blockEndString
            case "variable_start_string": env.variableStartString = v.string ?? env.variableStartString
            case "variable_end_string": env.variableEndString = v.string ?? env.variableEndString
            case "comment_start_string": env.commentStartString = v.string ?? env.commentStartString
            case "comment_end_string": env.commentEndString = v.string ?? env.commentEndString
            case "line_statement_prefix": env.lineStatementPrefix = v.string
            case "line_comment_prefix": env.lineCommentPrefix = v.string
            case "trim_blocks": env.trimBlocks = v.bool ?? false
            case "lstrip_blocks": env.lstripBlocks = v.bool ?? false
            case "keep_trailing_newline": env.keepTrailingNewline = v.bool ?? false
            case "newline_sequence": env.newlineSequence = v.string ?? "\n"
            case "undefined":
                switch v.string {
                case "StrictUndefined": env.undefined = .strict
                case "ChainableUndefined": env.undefined = .chainable
                case "DebugUndefined": env.undefined = .debug
                default: break
                }
            case "autoescape":
                if let b = v.bool { env.autoescape = b ? .enabled : .disabled }
                else if case .object = v {
                    let def = v["default"]?.bool ?? false
                    var byName: [String: Bool] = [:]
                    if case .object(let m)? = v["by_name"] { for (n, b) in m { byName[n] = b.bool ?? false } }
                    let table = byName
                    env.autoescape = .byName { name in name.flatMap { table[$0] } ?? def }
                }
            case "extensions":
                if case .array(let exts) = v {
                    for e in exts { if let s = e.string, let x = BuiltinExtension(rawValue: s) { env.extensions.insert(x) } }
                }
            case "environment":
                if v.string == "sandboxed" { env.sandbox = .sandboxed }
                if v.string == "immutable_sandboxed" { env.sandbox = .immutable }
            case "policies":
                if case .object(let ps) = v { for (pk, pv) in ps { env.policies[pk] = value(pv) } }
            default: break
            }
        }
        return env
    }

    static func run(_ c: JSON) -> Outcome {
        let id = c["id"]?.string ?? "?"
        let env = makeEnvironment(c)
        if case .object(let ts)? = c["templates"] {
            var d: [String: String] = [:]
            for (k, v) in ts { d[k] = v.string ?? "" }
            env.loader = DictLoader(d)
        }
        if case .object(let gs)? = c["globals"] { for (k, v) in gs { env.globals[k] = value(v) } }
        var ctx: [(String, Value)] = []
        if case .object(let cs)? = c["context"] { ctx = cs.map { ($0.0, value($0.1)) } }
        let native = c["env_options"]?["environment"]?.string == "native"
        do {
            let t: Template
            if let name = c["name"]?.string { t = try env.getTemplate(name) }
            else { t = try env.fromString(c["source"]?.string ?? "") }
            if native {
                let v = try t.renderNative(ordered: ctx)
                if let expected = c["output"] {
                    if c["output_is_native"]?.bool == true {
                        let ok = nativeEqual(v, expected)
                        return Outcome(id: id, passed: ok, detail: ok ? "" : "native got \(String(describing: try? v.repr()))")
                    }
                    let s = (try? v.str()) ?? ""
                    return Outcome(id: id, passed: s == expected.string, detail: "got \(pyRepr(s))")
                }
                return Outcome(id: id, passed: false, detail: "expected error \(c["error"]?.string ?? "")")
            }
            let out = try t.render(ordered: ctx)
            if let expected = c["output"]?.string {
                return Outcome(id: id, passed: out == expected, detail: "expected \(pyRepr(expected)) got \(pyRepr(out))")
            }
            return Outcome(id: id, passed: false, detail: "expected error \(c["error"]?.string ?? ""), got output \(pyRepr(out))")
        } catch let e as JinjaError {
            if let kind = c["error"]?.string {
                var detail = "expected \(kind) got \(e)"
                if case .int(let l)? = c["error_lineno"], e.line != l { detail += " [line \(String(describing: e.line)) vs \(l)]" }
                return Outcome(id: id, passed: kind == e.kind.rawValue, detail: detail)
            }
            return Outcome(id: id, passed: false, detail: "unexpected error \(e)")
        } catch {
            return Outcome(id: id, passed: false, detail: "unexpected non-Jinja error \(error)")
        }
    }

    func testConformance() throws {
        let cases = try Self.loadCases()
        let outcomes = cases.map(Self.run)
        let passed = outcomes.filter { $0.passed }.count
        print("jinja-conformance: \(passed) passed, \(outcomes.count - passed) failed")
        let verbose = ProcessInfo.processInfo.environment["JINJA_CONFORMANCE_VERBOSE"] == "1"
        if verbose {
            for o in outcomes where o.passed && o.detail.contains("[line") { print("LINE \(o.id): \(o.detail)") }
        }
        for o in outcomes where !o.passed {
            if verbose { print("FAIL \(o.id): \(o.detail)") }
            if KnownDifferences.cases[o.id] == nil {
                XCTFail("conformance case \(o.id) failed: \(o.detail)")
            }
        }
    }
}
