import Foundation
import XCTest
@testable import Jinja

/// A realistic Salt-like template set (map.jinja with nested merges, a
/// ~400-line SLS with loops and macros, an nginx config template). The
/// output must equal what Python's Jinja2 3.1.6 produced (recorded under
/// Resources/bench/expected-*); with `JINJA_BENCH=N` it also times N renders.
final class BenchmarkTests: XCTestCase {
    static func benchDir() throws -> URL {
        guard let url = Bundle.module.url(forResource: "bench", withExtension: nil, subdirectory: "Resources") else {
            throw JSONParser.Failure(message: "bench resources missing")
        }
        return url
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
