// Standalone driver for bench/jinja/run.sh: the same loop as JinjaTests.BenchmarkTests.testBenchmark
// (same templates, context, environment), built as an ordinary release executable, i.e.
// without -enable-testing, the way the Jinja module is built into brine. Usage:
// jinjadriver RESOURCE_DIR N. Checks the output against Jinja2's first. See below for
// the --each mode of bench/jinja/micro.sh.
import Foundation
import Jinja

func value(_ j: JSON) -> Value {
    switch j {
    case .null: return .none
    case .bool(let b): return .bool(b)
    case .int(let i): return .int(i)
    case .double(let d): return .float(d)
    case .string(let s): return .string(s)
    case .array(let a): return .list(a.map(value))
    case .object(let pairs): return .dict(pairs.map { (Value.string($0.0), value($0.1)) })
    }
}
func context(_ dir: String) throws -> [String: Value] {
    guard case .object(let top) = try JSONParser.parse(String(contentsOfFile: dir + "/context.json", encoding: .utf8)) else { exit(1) }
    var ctx: [String: Value] = [:]
    for (k, v) in top { ctx[k] = value(v) }
    return ctx
}

// bench/jinja/micro.sh: jinjadriver --each MICRODIR RESOURCE_DIR N OUTDIR NAME... renders each
// template N times, writes its output to OUTDIR/swift-NAME and prints "NAME µs-per-render".
if CommandLine.arguments.count > 5 && CommandLine.arguments[1] == "--each" {
    let a = CommandLine.arguments
    let env = Environment(loader: FileSystemLoader(searchPath: [a[2], a[3]]))
    env.extensions = [.do, .loopControls]
    let ctx = try context(a[3])
    let n = Int(a[4]) ?? 1000
    for name in a[6...] {
        try env.getTemplate(name).render(ctx).write(toFile: a[5] + "/swift-" + name, atomically: true, encoding: .utf8)
        let start = Date()
        for _ in 0..<n { _ = try env.getTemplate(name).render(ctx) }
        print(String(format: "%@ %.2f", name, Date().timeIntervalSince(start) / Double(n) * 1e6))
    }
    exit(0)
}

let dir = CommandLine.arguments[1]
let n = Int(CommandLine.arguments[2]) ?? 1000
let ctx = try context(dir)
let env = Environment(loader: FileSystemLoader(searchPath: dir))
env.extensions = [.do, .loopControls]
let names = ["states.sls", "config.conf.jinja"]
for (name, exp) in zip(names, ["expected-states.sls.txt", "expected-config.conf.txt"]) {
    guard try env.getTemplate(name).render(ctx) == String(contentsOfFile: dir + "/" + exp, encoding: .utf8) else {
        print("output of \(name) differs from Jinja2's"); exit(1)
    }
}
let start = Date()
for _ in 0..<n { for name in names { _ = try env.getTemplate(name).render(ctx) } }
let dt = Date().timeIntervalSince(start)
print(String(format: "swift jinja (no testable): %d iterations in %.3fs = %.1f sets/s", n, dt, Double(n) / dt))
