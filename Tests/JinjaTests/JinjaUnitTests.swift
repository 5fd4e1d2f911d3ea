import Foundation
import XCTest
@testable import Jinja

/// Focused tests of the lexer, parser and evaluator beyond the conformance file.
final class JinjaUnitTests: XCTestCase {
    func render(_ source: String, _ context: [String: Value] = [:], configure: (Environment) -> Void = { _ in }) throws -> String {
        let env = Environment()
        configure(env)
        return try env.fromString(source).render(context)
    }

    func expectError(_ kind: JinjaErrorKind, _ source: String, _ context: [String: Value] = [:], line: Int? = nil,
                     configure: (Environment) -> Void = { _ in }, file: StaticString = #filePath, lineNo: UInt = #line) {
        do {
            let out = try render(source, context, configure: configure)
            XCTFail("expected \(kind), got output \(out)", file: file, line: lineNo)
        } catch let e as JinjaError {
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: lineNo)
            if let l = line { XCTAssertEqual(e.line, l, "\(e)", file: file, line: lineNo) }
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: lineNo)
        }
    }

    // MARK: whitespace control

    /// `%`-formatting's integer fast path and the general one, against
    /// Jinja2 3.1.6's output for the same template.
    func testPercentFormatIntegers() throws {
        let source = "{{ '%02d'|format(3) }}|{{ '%02d'|format(-3) }}|{{ '%+05d'|format(42) }}|{{ '%-5d|'|format(-7) }}|{{ '% d'|format(5) }}|{{ '%5d'|format(123456) }}|{{ '%d'|format(0) }}|{{ '%-+6d|'|format(9) }}|{{ '%05d'|format(-42) }}|{{ '%i %u'|format(7, 8) }}|{{ '%3s|%-4s|'|format('ab', 'é') }}|{{ '%d'|format(True) }}|{{ '%.3d'|format(5) }}|{{ 'x%%y%dz'|format(1) }}|{{ '%(a)s-%(b)03d'|format(a='q', b=4) }}|{{ '%d'|format(-9223372036854775807) }}"
        XCTAssertEqual(try render(source),
                       "03|-3|+0042|-7   || 5|123456|0|+9    ||-0042|7 8| ab|é   ||1|005|x%y1z|q-004|-9223372036854775807")
    }

    func testWhitespaceControl() throws {
        XCTAssertEqual(try render("a  {%- if true -%}  b  {%- endif -%}  c"), "abc")
        XCTAssertEqual(try render("a\n{{- 1 -}}\nb"), "a1b")
        XCTAssertEqual(try render("x\n{# c #}\ny"), "x\n\ny")
        XCTAssertEqual(try render("x\n{#- c -#}\ny"), "xy")
        XCTAssertEqual(try render("line\n"), "line")
        XCTAssertEqual(try render("line\n") { $0.keepTrailingNewline = true }, "line\n")
    }

    func testTrimAndLstripBlocks() throws {
        let src = "<ul>\n    {% for i in [1, 2] %}\n    <li>{{ i }}</li>\n    {% endfor %}\n</ul>"
        XCTAssertEqual(try render(src) { $0.trimBlocks = true; $0.lstripBlocks = true },
                       "<ul>\n    <li>1</li>\n    <li>2</li>\n</ul>")
        XCTAssertEqual(try render(src) { $0.trimBlocks = true },
                       "<ul>\n        <li>1</li>\n        <li>2</li>\n    </ul>")
        // `+` disables lstrip for one tag, `+%}` disables trim
        XCTAssertEqual(try render("  {%+ if true %}x{% endif %}") { $0.lstripBlocks = true }, "  x")
        XCTAssertEqual(try render("{% if true +%}\nx{% endif %}") { $0.trimBlocks = true }, "\nx")
    }

    func testRawAndLineStatements() throws {
        XCTAssertEqual(try render("{% raw %}{{ x }}{% endraw %}"), "{{ x }}")
        let src = "% for i in [1, 2]\n${i}\n% endfor\n## comment\ndone"
        XCTAssertEqual(try render(src) {
            $0.lineStatementPrefix = "%"; $0.lineCommentPrefix = "##"; $0.variableStartString = "${"; $0.variableEndString = "}"
        }, "1\n2\n\ndone")
    }

    // MARK: expressions and Python semantics

    func testArithmeticAndRepr() throws {
        XCTAssertEqual(try render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 1e16 }} {{ 0.1 + 0.2 }}"),
                       "3 -4 -2 1024 3.5 1e+16 0.30000000000000004")
        XCTAssertEqual(try render("{{ [1, 'a', none, true, 1.0] }} {{ {'a': (1,)} }} {{ 'it''s' }}"),
                       "[1, 'a', None, True, 1.0] {'a': (1,)} its")
        XCTAssertEqual(try render("{{ [\"it's\"] }}"), "[\"it's\"]")
        XCTAssertEqual(try render("{{ 2 ** 100 }}"), "1267650600228229401496703205376")
        XCTAssertEqual(try render("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'b' in 'abc' }} {{ 1 not in [1] }}"), "True False True False")
        XCTAssertEqual(try render("{{ 'abcdef'[::-2] }} {{ [1,2,3,4][-3:-1] }} {{ 'x' * 3 }} {{ [1] + [2] }}"), "fdb [2, 3] xxx [1, 2]")
        XCTAssertEqual(try render("{{ '%s=%05.1f %r' % ('a', 3.14159, 'q') }}"), "a=003.1 'q'")
        XCTAssertEqual(try render("{{ '{:>6}|{:,}|{name!r}'.format('ab', 1234567, name='n') }}"), "    ab|1,234,567|'n'")
    }

    func testStringListDictMethods() throws {
        XCTAssertEqual(try render("{{ ' a b  c '.split() }} {{ 'a,b,c'.rsplit(',', 1) }} {{ 'xxhixx'.strip('x') }}"),
                       "['a', 'b', 'c'] ['a,b', 'c'] hi")
        XCTAssertEqual(try render("{{ 'hello world'.title() }} {{ 'abc'.startswith(('x', 'a')) }} {{ 'a-b'.replace('-', '_') }}"),
                       "Hello World True a_b")
        let src = "{% set d = {'b': 1} %}{% do d.update({'a': 2}) %}{% set l = [] %}{% do l.append(d.pop('b')) %}{{ d }} {{ l }} {{ d.get('z', 'dflt') }} {{ d.setdefault('c', 3) }} {{ d.items()|list }}"
        XCTAssertEqual(try render(src) { $0.extensions = [.do] }, "{'a': 2} [1] dflt 3 [('a', 2), ('c', 3)]")
    }

    func testAttributeVersusItem() throws {
        let ctx: [String: Value] = ["d": .dict(["items": .int(1), "k": .string("v")])]
        XCTAssertEqual(try render("{{ d.k }} {{ d['items'] }} {{ d.items()|list|length }}", ctx), "v 1 2")
        XCTAssertEqual(try render("{{ d.missing }}|{{ d['missing'] is defined }}", ctx), "|False")
    }

    // MARK: statements

    func testLoopVariables() throws {
        let src = "{% for x in 'abc' %}{{ loop.index }}{{ loop.revindex0 }}{{ loop.first|int }}{{ loop.last|int }}{{ loop.cycle('-', '+') }}{{ loop.previtem|default('^') }}{% endfor %}"
        XCTAssertEqual(try render(src), "1210-^2100+a3001-b")
        XCTAssertEqual(try render("{% for a, b in [(1, 2), (3, 4)] if a > 1 %}{{ a + b }}{{ loop.length }}{% else %}none{% endfor %}"), "71")
        XCTAssertEqual(try render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty")
        XCTAssertEqual(try render("{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}") {
            $0.extensions = [.loopControls]
        }, "13")
        let tree: Value = .list([.dict(["n": .string("a"), "c": .list([.dict(["n": .string("b"), "c": .list([])])])])])
        XCTAssertEqual(try render("{% for i in t recursive %}{{ i.n }}{{ loop.depth }}[{{ loop(i.c) }}]{% endfor %}", ["t": tree]), "a1[b2[]]")
    }

    func testMacrosCallerAndNamespace() throws {
        let src = """
        {% macro field(name, value='', type='text') -%}
        <input name="{{ name }}" value="{{ value }}" type="{{ type }}"{{ kwargs|xmlattr }}>{{ varargs|join(',') }}
        {%- endmacro %}{{ field('user', 'x', 'text', 1, 2, id='u') }}
        {% macro wrap() %}[{{ caller(3) }}]{% endmacro %}{% call(n) wrap() %}{{ n * 2 }}{% endcall %}
        {% set ns = namespace(total=0) %}{% for i in range(4) %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}
        """
        XCTAssertEqual(try render(src), "<input name=\"user\" value=\"x\" type=\"text\" id=\"u\">1,2\n[6]\n6")
    }

    func testSetBlockFilterBlockWith() throws {
        XCTAssertEqual(try render("{% set x | upper %}hi {{ 'there' }}{% endset %}{{ x }}"), "HI THERE")
        XCTAssertEqual(try render("{% filter replace('a', 'o') %}banana{% endfilter %}"), "bonono")
        XCTAssertEqual(try render("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a is defined }}"), "3False")
    }

    func testInheritanceIncludeImport() throws {
        let env = Environment(loader: DictLoader([
            "base.html": "<{% block title %}Base{% endblock %}>{% block body required %}{% endblock %}",
            "child.html": "{% extends 'base.html' %}{% block title %}Child/{{ super() }}{% endblock %}{% block body %}{% include 'part.html' %}{% endblock %}",
            "part.html": "part:{{ who }}",
            "macros.html": "{% macro hello(n) %}Hello {{ n }}{% endmacro %}{% set answer = 42 %}",
        ]))
        XCTAssertEqual(try env.getTemplate("child.html").render(["who": .string("me")]), "<Child/Base>part:me")
        XCTAssertEqual(try env.fromString("{% from 'macros.html' import hello, answer %}{{ hello('x') }} {{ answer }}").render(), "Hello x 42")
        XCTAssertEqual(try env.fromString("{% import 'macros.html' as m %}{{ m.hello(m.answer) }}").render(), "Hello 42")
        XCTAssertEqual(try env.fromString("{% include ['missing.html', 'part.html'] %}|{% include 'nope' ignore missing %}").render(["who": .int(1)]), "part:1|")
        XCTAssertThrowsError(try env.getTemplate("base.html").render()) { e in
            XCTAssertEqual((e as? JinjaError)?.kind, .templateRuntimeError)
        }
    }

    func testAutoescape() throws {
        let ctx: [String: Value] = ["x": .string("<b>"), "s": .markup("<i>")]
        XCTAssertEqual(try render("{{ x }}{{ s }}{{ x|safe }}{{ x ~ s }}", ctx) { $0.autoescape = .enabled }, "&lt;b&gt;<i><b>&lt;b&gt;<i>")
        XCTAssertEqual(try render("{% autoescape true %}{{ x }}{% endautoescape %}{{ x }}", ctx), "&lt;b&gt;<b>")
    }

    // MARK: errors

    func testErrorKindsAndLines() {
        expectError(.templateSyntaxError, "line1\n{% if x %}\nno end", line: 3)
        expectError(.templateSyntaxError, "{% foo %}", line: 1)
        expectError(.undefinedError, "a\nb\n{{ x.y }}", line: 3)
        expectError(.undefinedError, "{{ x }}", configure: { $0.undefined = .strict })
        expectError(.typeError, "{{ 1 + 'a' }}")
        expectError(.zeroDivisionError, "\n{{ 1 // 0 }}", line: 2)
        expectError(.templateNotFound, "{% include 'nope.html' %}")
        expectError(.templateAssertionError, "{{ x|nosuchfilter }}")
        expectError(.templateSyntaxError, "{{ 'unterminated }}")
    }

    func testNoCrashOnHostileInput() {
        expectError(.templateSyntaxError, "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}")
        expectError(.templateSyntaxError, "{{ " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + " }}")
        expectError(.templateSyntaxError, "{{ " + String(repeating: "-", count: 5000) + "1 }}")
        expectError(.templateSyntaxError, "{{ " + String(repeating: "not ", count: 5000) + "1 }}")
        expectError(.templateSyntaxError, "{{ x" + String(repeating: ".a", count: 5000) + " }}")
        expectError(.templateSyntaxError, "{{ " + Array(repeating: "1", count: 5000).joined(separator: " + ") + " }}")
        expectError(.templateSyntaxError, String(repeating: "{% if true %}", count: 2000))
        expectError(.recursionError, "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        expectError(.recursionError, "{% for i in [1] recursive %}{{ loop([1]) }}{% endfor %}")
        for src in ["{{", "{%", "{#", "{{ a.", "{{ a[ }}", "{% for %}", "{% set %}", "{% macro m( %}", "{{ 1 if }}", "{% raw %}", "{% endfor %}", "{% block %}"] {
            XCTAssertThrowsError(try render(src), src)
        }
    }

    /// Deep macro recursion must end in RecursionError, not a stack
    /// overflow, even on a thread with a 512 KiB stack (Swift concurrency pool size).
    func testRecursionGuardOnSmallStack() {
        let done = expectation(description: "render")
        let box = ResultBox()
        let thread = Thread {
            do {
                _ = try Environment().fromString("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(10000) }}").render()
            } catch let e as JinjaError {
                box.kind = e.kind
            } catch {}
            // deep but legal nesting must not overflow a small stack either
            let deep = "{{ " + String(repeating: "(", count: 190) + "1" + String(repeating: ")", count: 190) + " }}"
            _ = try? Environment().fromString(deep).render()
            done.fulfill()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        wait(for: [done], timeout: 30)
        XCTAssertEqual(box.kind, .recursionError)
    }

    // MARK: host integration

    func testSaltStyleHostCallable() throws {
        let env = Environment()
        env.extensions = [.do, .loopControls]
        let pillar: Value = .dict(["a": .dict(["b": .dict(["x": .int(1), "y": .int(2)])])])
        let pillarGet = Function("pillar.get") { args, ctx in
            guard let key = args.get(0, "key")?.stringValue else { return .none }
            var cur = pillar
            for part in key.split(separator: ":") {
                guard case .dict(let d) = cur, let next = d[String(part)] else { return args.get(1, "default") ?? .string("") }
                cur = next
            }
            return cur
        }
        let salt: Value = .dict(["pillar.get": .function(pillarGet)])
        let src = "{% for x in salt['pillar.get']('a:b', {}).keys() %}{{ x }}={{ salt['pillar.get']('a:b:' ~ x) }};{% endfor %}{{ salt['pillar.get']('nope', 'dflt') }}"
        XCTAssertEqual(try env.fromString(src).render(["salt": salt]), "x=1;y=2;dflt")
    }

    func testHostFiltersTestsGlobals() throws {
        let env = Environment()
        env.filters["double"] = { v, _, _ in try binop(.mul, v, .int(2)) }
        env.tests["answer"] = { v, _, _ in valuesEqual(v, .int(42)) }
        env.globals["greeting"] = .string("hi")
        env.globals["add"] = .function(Function("add") { a, _ in try binop(.add, a.positional[0], a.positional[1]) })
        XCTAssertEqual(try env.fromString("{{ 21|double }} {{ 42 is answer }} {{ greeting }} {{ add(1, 2) }}").render(), "42 True hi 3")
    }

    /// A Salt-like `{% load_text as x %}…{% endload %}` and `{% import_text "f" as x %}`.
    struct TextTags: TagExtension {
        func parse(tag: String, parser: inout TagParser) throws -> ExtensionStatement {
            if tag == "import_text" {
                let nameExpr = try parser.parseExpression()
                try parser.expectKeyword("as")
                let target = try parser.expectName()
                return ExtensionStatement { rt in
                    let name = try rt.evaluate(nameExpr).str()
                    try rt.assign(target, .string(try rt.renderTemplate(name).uppercased()))
                }
            }
            try parser.expectKeyword("as")
            let target = try parser.expectName()
            let body = try parser.parseBody(until: ["endload"])
            return ExtensionStatement { rt in
                let text = try rt.render(body)
                try rt.assign(target, .list(text.split(separator: "\n").map { .string(String($0)) }))
            }
        }
    }

    func testTagExtension() throws {
        let env = Environment(loader: DictLoader(["f.txt": "from {{ src }}", "m.jinja": "{% load_text as lines %}a\nb{% endload %}"]))
        env.tagExtensions["load_text"] = TextTags()
        env.tagExtensions["import_text"] = TextTags()
        let t = try env.fromString("{% load_text as lines %}\none\ntwo\n{% endload %}{{ lines }} {% import_text 'f.txt' as f %}{{ f }}")
        XCTAssertEqual(try t.render(["src": .string("file")]), "['one', 'two'] FROM FILE")
        XCTAssertEqual(try env.fromString("{% from 'm.jinja' import lines %}{{ lines|length }}").render(), "2")
        XCTAssertThrowsError(try env.fromString("{% load_text lines %}{% endload %}"))
    }

    func testFileSystemLoaderCachesByModificationTime() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jinja-fs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("t.sls")
        try "v1 {{ x }}".write(to: file, atomically: true, encoding: .utf8)
        let env = Environment(loader: FileSystemLoader(searchPath: dir.path))
        let t1 = try env.getTemplate("t.sls")
        XCTAssertTrue(t1 === (try env.getTemplate("t.sls")), "cached while unchanged")
        XCTAssertEqual(try t1.render(["x": .int(1)]), "v1 1")
        try "v2 {{ x }}".write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(10)], ofItemAtPath: file.path)
        XCTAssertEqual(try env.getTemplate("t.sls").render(["x": .int(2)]), "v2 2")
        XCTAssertThrowsError(try env.getTemplate("../etc/passwd"))
    }

    func testImportWithoutContextIsRenderedOnce() throws {
        let counter = Counter()
        let env = Environment(loader: DictLoader(["map.jinja": "{% set cfg = {'pkg': tick()} %}"]))
        env.globals["tick"] = .function(Function("tick") { _, _ in counter.increment(); return .string("nginx") })
        let t = try env.fromString("{% from 'map.jinja' import cfg %}{{ cfg.pkg }}")
        for _ in 0..<5 { XCTAssertEqual(try t.render(), "nginx") }
        XCTAssertEqual(counter.value, 1)
    }
}

final class ResultBox: @unchecked Sendable { var kind: JinjaErrorKind? }

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// Concurrency: one Environment shared by many threads.
final class ConcurrencyTests: XCTestCase {
    func testConcurrentRendersShareCacheSafely() throws {
        let env = Environment(loader: DictLoader([
            "map.jinja": "{% set cfg = {'pkgs': ['a']} %}",
            "sls": "{% from 'map.jinja' import cfg %}{% do cfg.pkgs.append(n) %}{{ cfg.pkgs|join(',') }}",
        ]))
        env.extensions = [.do]
        let results = ResultsBox(count: 64)
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let out = try? env.getTemplate("sls").render(["n": .string("p\(i)")])
            results.set(i, out)
        }
        for i in 0..<64 {
            XCTAssertEqual(results.get(i), "a,p\(i)", "renders must not see each other's mutations")
        }
    }

    func testValueLiterals() throws {
        let ctx: [String: Value] = ["name": "web", "ports": [80, 443], "tls": true, "opt": nil, "cfg": ["b": 1, "a": 2.5]]
        XCTAssertEqual(try Environment().fromString("{{ name }} {{ ports }} {{ tls }} {{ opt }} {{ cfg }}").render(ctx),
                       "web [80, 443] True None {'b': 1, 'a': 2.5}")
    }
}

final class ResultsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: String?) { lock.lock(); values[i] = v; lock.unlock() }
    func get(_ i: Int) -> String? { lock.lock(); defer { lock.unlock() }; return values[i] }
}

/// Random template fragments must never crash the engine (set
/// `JINJA_FUZZ=N` for a longer run).
final class FuzzTests: XCTestCase {
    struct LCG {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
    }

    func testRandomFragmentsDoNotCrash() {
        let pieces = ["{{", "}}", "{%", "%}", "{#", "#}", " if ", " for ", " in ", " endif ", " endfor ", " else ", "x", "y", "1", "0", "-",
                      "+", "*", "**", "//", "/", "%", "~", "(", ")", "[", "]", "{", "}", ",", ":", ".", "|", "'", "\"", "\n", " ",
                      "upper", "join", "default", "range(3)", "set", "=", "macro", "endmacro", "call", "endcall", "raw", "endraw",
                      "loop.index", "not", "and", "or", "is", "defined", "none", "[1, 2]", "{'a': 1}", "'s'", "x.y", "x[0]", "-}}", "{%-",
                      "block", "endblock", "extends", "include", "import", "from", "with", "endwith", "filter", "endfilter", "9" + String(repeating: "9", count: 30)]
        let n = Int(ProcessInfo.processInfo.environment["JINJA_FUZZ"] ?? "") ?? 3000
        var rng = LCG(state: 42)
        let env = Environment(loader: DictLoader(["a": "{{ x }}", "b": "{% extends 'a' %}"]))
        env.extensions = [.do, .loopControls]
        var rendered = 0
        for _ in 0..<n {
            var src = ""
            for _ in 0..<(1 + rng.next(25)) { src += pieces[rng.next(pieces.count)] }
            do {
                _ = try env.fromString(src).render(["x": ["y": 1], "y": [1, 2]])
                rendered += 1
            } catch is JinjaError {
                // expected for most random inputs
            } catch {
                XCTFail("non-Jinja error for \(src): \(error)")
            }
        }
        XCTAssertGreaterThan(rendered, 0)
    }

    func testHugeResultsAreRefused() {
        for src in ["{{ 'x' * 10**12 }}", "{{ [1] * 10**12 }}", "{{ 'a'.center(10**12) }}", "{{ '%*d' % (10**12, 1) }}",
                    "{{ '{:>999999999999}'.format(1) }}", "{{ range(10**15)|length }}", "{{ 'a'|indent(10**12) }}", "{{ range(9223372036854775800, 9223372036854775807, 2)|list }}"] {
            do {
                let out = try Environment().fromString(src).render()
                XCTAssertLessThan(out.utf8.count, 1 << 20, src)
            } catch let e as JinjaError {
                XCTAssertTrue([.overflowError, .typeError].contains(e.kind), "\(src): \(e)")
            } catch {
                XCTFail("\(src): \(error)")
            }
        }
    }
}

final class HostErrorTests: XCTestCase {
    struct Boom: Error {}

    func testHostErrorsCarryLocation() {
        let env = Environment()
        env.globals["boom"] = .function(Function("boom") { _, _ in throw Boom() })
        XCTAssertThrowsError(try env.fromString("a\n{{ boom() }}", name: "t.sls").render()) { error in
            guard let e = error as? JinjaError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .hostError)
            XCTAssertEqual(e.line, 2)
            XCTAssertEqual(e.templateName, "t.sls")
            XCTAssertTrue(e.underlying is Boom)
        }
    }
}

/// Scopes referenced by macros, `self` and `super` form cycles; a finished
/// render must release them.
final class MemoryTests: XCTestCase {
    final class WeakScopes: @unchecked Sendable {
        weak var macroScope: Scope?
        weak var topScope: Scope?
    }

    func testRenderDoesNotLeakScopes() throws {
        let probe = WeakScopes()
        let env = Environment(loader: DictLoader(["base": "{% block b %}x{% endblock %}"]))
        env.globals["probe"] = .function(Function("probe") { _, ctx in
            probe.macroScope = ctx.frame.scope
            probe.topScope = ctx.frame.scope.parent
            return .string("")
        })
        let t = try env.fromString("{% extends 'base' %}{% macro m() %}{{ probe() }}{% endmacro %}{% block b %}{{ m() }}{{ super() }}{% endblock %}")
        XCTAssertEqual(try t.render(), "x")
        XCTAssertNil(probe.macroScope)
        XCTAssertNil(probe.topScope, "render scopes must be freed after rendering")
    }

}

extension JinjaUnitTests {
    /// Small dicts are searched linearly, large ones through a hash index:
    /// both follow Python's key equality, through growth and shrinking.
    func testDictBoxLookupBothWays() throws {
        let d = DictBox()
        d[.int(1)] = .string("one")
        d[.float(1.0)] = .string("uno")
        d[.bool(true)] = .string("yes")
        XCTAssertEqual(d.count, 1)
        XCTAssertEqual(d[.int(1)]?.stringValue, "yes")
        d[.markup("k")] = .int(0)
        XCTAssertEqual(d["k"].flatMap { if case .int(let i) = $0 { return i } else { return nil } }, 0)
        XCTAssertNil(d[.list(ListBox())])
        for i in 0..<20 { d["key\(i)"] = .int(i) }
        XCTAssertEqual(d.count, 22)
        XCTAssertEqual(d[.float(1.0)]?.stringValue, "yes")
        XCTAssertTrue(d.contains(.string("key19")) && d.contains(.markup("k")))
        for i in 0..<20 where i != 7 { d["key\(i)"] = nil }
        XCTAssertEqual(d.count, 3)
        XCTAssertEqual(d.keys.compactMap(\.stringValue), ["k", "key7"])
        XCTAssertTrue(d.contains(.bool(true)) && d.contains(.string("key7")) && !d.contains(.string("key8")))
        XCTAssertEqual(try render("{% set x = {} %}{% for i in range(12) %}{% do x.update({i: i * 2}) %}{% endfor %}"
            + "{{ x[11] }} {{ x[1.0] }} {{ x|length }} {{ x.pop(3) }} {{ 3 in x }} {{ x|length }}",
            configure: { $0.extensions = [.do] }), "22 2 12 6 False 11")
    }
}
