import Foundation
import XCTest
@testable import Jinja

/// A realistic Salt-like template set (map.jinja with nested merges, a
/// ~400-line SLS with loops and macros, an nginx config template). The
/// output must equal what Python's Jinja2 3.1.6 produced (recorded under
/// Resources/bench/expected-*); with `JINJA_BENCH=N` it also times N renders.
final class BenchmarkTests: XCTestCase {
    static func benchDir() throws -> URL {
        TestResources.url("bench")
    }

    static func context() throws -> [String: Value] {
        let text = try String(contentsOf: benchDir().appendingPathComponent("context.json"), encoding: .utf8)
        guard case .dict(let d) = ConformanceTests.value(try JSONParser.parse(text)) else { return [:] }
        var out: [String: Value] = [:]
        for (k, v) in d.pairs { out[(try? k.str()) ?? ""] = v }
        return out
    }

    func makeEnvironment() throws -> Environment {
        let env = Environment(loader: FileSystemLoader(searchPath: try Self.benchDir().path))
        env.extensions = [.do, .loopControls]
        return env
    }

    func testMatchesPythonJinja2() throws {
        let env = try makeEnvironment()
        let ctx = try Self.context()
        for (name, expected) in [("states.sls", "expected-states.sls.txt"), ("config.conf.jinja", "expected-config.conf.txt")] {
            let want = try String(contentsOf: Self.benchDir().appendingPathComponent(expected), encoding: .utf8)
            XCTAssertEqual(try env.getTemplate(name).render(ctx), want, name)
        }
    }

    func testBenchmark() throws {
        guard let n = ProcessInfo.processInfo.environment["JINJA_BENCH"].flatMap(Int.init) else { return }
        let env = try makeEnvironment()
        let ctx = try Self.context()
        let names = ["states.sls", "config.conf.jinja"]
        for name in names { _ = try env.getTemplate(name).render(ctx) }
        let start = Date()
        for _ in 0..<n {
            for name in names { _ = try env.getTemplate(name).render(ctx) }
        }
        let dt = Date().timeIntervalSince(start)
        print(String(format: "swift jinja: %d iterations in %.3fs = %.1f sets/s", n, dt, Double(n) / dt))
    }
}

/// Development aid: with `JINJA_DIFF_IN=cases.jsonl JINJA_DIFF_OUT=out.jsonl`
/// renders each `{"source", "context"}` line and writes `{"output"}` or
/// `{"error"}` lines, for differential comparison with Python's Jinja2.
final class DifferentialTests: XCTestCase {
    func testDifferential() throws {
        let env = ProcessInfo.processInfo.environment
        guard let inPath = env["JINJA_DIFF_IN"], let outPath = env["JINJA_DIFF_OUT"] else { return }
        let lines = try String(contentsOfFile: inPath, encoding: .utf8).split(separator: "\n")
        var out = ""
        for line in lines {
            let c = try JSONParser.parse(String(line))
            let e = Environment()
            if case .object(let ts)? = c["templates"] {
                var d: [String: String] = [:]
                for (k, v) in ts { d[k] = v.string ?? "" }
                e.loader = DictLoader(d)
            }
            e.extensions = [.do, .loopControls]
            e.trimBlocks = c["trim_blocks"]?.bool ?? false
            e.lstripBlocks = c["lstrip_blocks"]?.bool ?? false
            if c["autoescape"]?.bool == true { e.autoescape = .enabled }
            var ctx: [(String, Value)] = []
            if case .object(let cs)? = c["context"] { ctx = cs.map { ($0.0, ConformanceTests.value($0.1)) } }
            do {
                let s = try e.fromString(c["source"]?.string ?? "").render(ordered: ctx)
                out += "{\"output\": " + (try jsonDumps(.string(s), indent: nil, sortKeys: false)) + "}\n"
            } catch let err as JinjaError {
                out += "{\"error\": \"\(err.kind.rawValue)\"}\n"
            }
        }
        try out.write(toFile: outPath, atomically: true, encoding: .utf8)
    }
}

/// Development aid: `JINJA_MICRO=/tmp/micro.json` times small templates
/// (name → source) over a 20,000-item loop and prints ns per iteration.
final class MicroBenchmarkTests: XCTestCase {
    func testMicro() throws {
        guard let path = ProcessInfo.processInfo.environment["JINJA_MICRO"] else { return }
        guard case .object(let cases) = try JSONParser.parse(try String(contentsOfFile: path, encoding: .utf8)) else { return }
        let env = Environment()
        let ctx: [String: Value] = ["r": .list((0..<20000).map { .int($0) }), "d": .dict(["a": .dict(["b": .int(1)])]), "s": .string("hello")]
        for (name, src) in cases {
            let t = try env.fromString(src.string ?? "")
            _ = try t.render(ctx)
            let start = Date()
            let reps = Int(ProcessInfo.processInfo.environment["JINJA_MICRO_REPS"] ?? "") ?? 5
            for _ in 0..<reps { _ = try t.render(ctx) }
            let ns = Date().timeIntervalSince(start) / Double(reps) / 20000 * 1e9
            print(String(format: "%-12@ swift  %7.1f ns/iter", name as NSString, ns))
        }
    }
}
