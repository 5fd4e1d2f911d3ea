import Foundation
import XCTest
@testable import Jinja

/// `{% import … with context %}` results reused across renders
/// (Runtime/ImportCache.swift): reused only when nothing they read changed,
/// and never observably different from executing the import again.
final class ImportCacheTests: XCTestCase {
    let map = """
        {% set defaults = {'pkg': 'nginx', 'settings': {'gzip': true, 'keepalive': 65}} %}
        {% macro merge(base, over) -%}
        {%- for k, v in over.items() -%}
        {%- if v is mapping and base.get(k) is mapping -%}{%- do merge(base[k], v) -%}
        {%- else -%}{%- do base.update({k: v}) -%}{%- endif -%}
        {%- endfor -%}
        {%- endmacro %}
        {% set nginx = {} %}
        {% do nginx.update(defaults) %}
        {% do merge(nginx, pillar.get('nginx', {})) %}
        """

    func environment(_ templates: [String: String]) -> Environment {
        let env = Environment(loader: DictLoader(templates))
        env.extensions = [.do]
        return env
    }

    func pillar(keepalive: Int) -> [String: Value] {
        ["pillar": .dict(["nginx": .dict(["settings": .dict(["keepalive": .int(keepalive)])])])]
    }

    func testSameContextIsReusedAndOutputUnchanged() throws {
        let env = environment(["map.jinja": map,
                               "sls": "{% from 'map.jinja' import nginx with context %}{{ nginx.pkg }} {{ nginx.settings.keepalive }}"])
        let ctx = pillar(keepalive: 30)
        // first sight, second sight (stored), then reused
        for _ in 0..<4 { XCTAssertEqual(try env.getTemplate("sls").render(ctx), "nginx 30") }
        XCTAssertEqual(try env.getTemplate("map.jinja").contextImportHits, 2)
    }

    func testContextsMadeAfreshForEachRenderAreNeverStored() throws {
        // a host converting its data for every render (new objects each time)
        let env = environment(["map.jinja": map,
                               "sls": "{% from 'map.jinja' import nginx with context %}{{ nginx.settings.keepalive }}"])
        for _ in 0..<3 { XCTAssertEqual(try env.getTemplate("sls").render(pillar(keepalive: 30)), "30") }
        XCTAssertFalse(try env.getTemplate("map.jinja").hasStoredContextImport)
        XCTAssertEqual(try env.getTemplate("map.jinja").contextImportHits, 0)
    }

    func testChangedContextIsImportedAgain() throws {
        let env = environment(["map.jinja": map,
                               "sls": "{% from 'map.jinja' import nginx with context %}{{ nginx.settings.keepalive }}"])
        let ctx = pillar(keepalive: 30)
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "30")
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "30")
        XCTAssertTrue(try env.getTemplate("map.jinja").hasStoredContextImport)
        // the same objects, changed in place (nested): counters catch it
        guard case .dict(let p)? = ctx["pillar"], case .dict(let n)? = p["nginx"], case .dict(let s)? = n["settings"] else {
            return XCTFail("context shape")
        }
        s["keepalive"] = .int(99)
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "99")
        // a new context object with other values
        XCTAssertEqual(try env.getTemplate("sls").render(pillar(keepalive: 10)), "10")
        XCTAssertEqual(try env.getTemplate("map.jinja").contextImportHits, 0)
    }

    func testImporterChangesDoNotLeakIntoLaterRenders() throws {
        let env = environment(["map.jinja": map,
                               "sls": "{% from 'map.jinja' import nginx with context %}{{ nginx.pkg }}{% do nginx.update({'pkg': 'changed'}) %}{% do nginx.settings.update({'gzip': false}) %} {{ nginx.settings.gzip }}"])
        let ctx = pillar(keepalive: 30)
        for _ in 0..<4 { XCTAssertEqual(try env.getTemplate("sls").render(ctx), "nginx False") }
        XCTAssertEqual(try env.getTemplate("map.jinja").contextImportHits, 2)
    }

    func testTemplateMutatingContextBeforeImportIsSeen() throws {
        let env = environment(["map.jinja": map,
                               "sls": "{% do pillar.nginx.settings.update({'keepalive': n}) %}{% from 'map.jinja' import nginx with context %}{{ nginx.settings.keepalive }}"])
        let ctx = pillar(keepalive: 30)
        for n in [1, 2, 2, 3] {
            var c = ctx
            c["n"] = .int(n)
            XCTAssertEqual(try env.getTemplate("sls").render(c), "\(n)")
        }
    }

    func testImportThatChangesItsInputsIsNotStored() throws {
        let env = environment(["map.jinja": "{% do pillar.update({'count': pillar.count + 1}) %}{% set seen = pillar.count %}",
                               "sls": "{% from 'map.jinja' import seen with context %}{{ seen }}"])
        let ctx: [String: Value] = ["pillar": .dict(["count": .int(0)])]
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "1")
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "2")
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "3")
        XCTAssertEqual(try env.getTemplate("map.jinja").contextImportHits, 0)
    }

    func testImpureHostFunctionsAreCalledEveryTime() throws {
        let env = environment(["map.jinja": "{% set stamp = tick() %}",
                               "sls": "{% from 'map.jinja' import stamp with context %}{{ stamp }}"])
        let counter = Counter()
        env.globals["tick"] = .function(Function("tick") { _, _ in .int({ counter.increment(); return counter.value }()) })
        XCTAssertEqual(try env.getTemplate("sls").render([:]), "1")
        XCTAssertEqual(try env.getTemplate("sls").render([:]), "2")
        // an impure host filter too
        env.filters["bump"] = { v, _, _ in .int({ counter.increment(); return counter.value }()) }
        let t = try env.fromString("{% from 'f.jinja' import x with context %}{{ x }}")
        env.loader = DictLoader(["f.jinja": "{% set x = 0|bump %}"])
        XCTAssertEqual(try t.render([:]), "3")
        XCTAssertEqual(try t.render([:]), "4")
    }

    func testExportSharingContextKeepsIdentity() throws {
        // `nginx` is pillar's own dict: importer changes must reach pillar, as in Jinja2
        let env = environment(["map.jinja": "{% set nginx = pillar.nginx %}",
                               "sls": "{% from 'map.jinja' import nginx with context %}{% do nginx.update({'seen': nginx.get('seen', 0) + 1}) %}{{ pillar.nginx.seen }}"])
        let ctx: [String: Value] = ["pillar": .dict(["nginx": .dict([:])])]
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "1")
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "2")
        XCTAssertEqual(try env.getTemplate("map.jinja").contextImportHits, 0)
    }

    func testWholeModuleImportWithMacroIsNotStored() throws {
        // exported macros close over the importer's scope: never reused
        let env = environment(["map.jinja": map,
                               "sls": "{% import 'map.jinja' as m with context %}{{ m.nginx.pkg }}"])
        let ctx = pillar(keepalive: 30)
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "nginx")
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "nginx")
        XCTAssertEqual(try env.getTemplate("map.jinja").contextImportHits, 0)
    }

    func testNestedIncludesAreNotCached() throws {
        let env = environment(["map.jinja": "{% include 'part' %}{% set v = pillar.v %}", "part": "",
                               "sls": "{% from 'map.jinja' import v with context %}{{ v }}"])
        let ctx: [String: Value] = ["pillar": .dict(["v": .int(1)])]
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "1")
        XCTAssertEqual(try env.getTemplate("sls").render(ctx), "1")
        XCTAssertFalse(try env.getTemplate("map.jinja").importProfile.cacheable)
        XCTAssertEqual(try env.getTemplate("map.jinja").contextImportHits, 0)
    }

    func testLocalVariablesOfTheImporterAreInputs() throws {
        let env = environment(["map.jinja": "{% set v = base ~ '!' %}",
                               "sls": "{% set base = name %}{% from 'map.jinja' import v with context %}{{ v }}"])
        XCTAssertEqual(try env.getTemplate("sls").render(["name": "a"]), "a!")
        for _ in 0..<3 { XCTAssertEqual(try env.getTemplate("sls").render(["name": "b"]), "b!") }
        XCTAssertEqual(try env.getTemplate("map.jinja").contextImportHits, 1)
    }

    func testErrorsAreNotCached() throws {
        let env = environment(["map.jinja": "{% set v = 1 // pillar.d %}",
                               "sls": "{% from 'map.jinja' import v with context %}{{ v }}"])
        XCTAssertThrowsError(try env.getTemplate("sls").render(["pillar": .dict(["d": .int(0)])]))
        XCTAssertEqual(try env.getTemplate("sls").render(["pillar": .dict(["d": .int(1)])]), "1")
    }
}

/// An environment and its cached templates refer to each other; clearing
/// the cache is what lets them go (hosts making one environment per job).
final class EnvironmentLifetimeTests: XCTestCase {
    func testClearCacheReleasesTheEnvironmentAndItsTemplates() throws {
        weak var environment: Environment?
        weak var template: Template?
        do {
            let env = Environment(loader: DictLoader([
                "a": "{% import 'b' as b %}{% from 'b' import x with context %}{{ b.m() }}{{ x }}",
                "b": "{% set x = 1 %}{% macro m() %}m{% endmacro %}",
            ]))
            environment = env
            XCTAssertEqual(try env.getTemplate("a").render(), "m1")
            template = try env.getTemplate("b")
            env.clearCache()
        }
        XCTAssertNil(template)
        XCTAssertNil(environment)
    }
}

/// Variable names are compared by a fingerprint (length and first bytes)
/// before their text: names sharing a prefix, and long ones, stay distinct.
final class VariableNameTests: XCTestCase {
    func testNamesSharingPrefixesAndLongNamesStayDistinct() throws {
        let long = String(repeating: "x", count: 256)  // 257-byte names: a length that wraps in 8 bits
        let ctx: [String: Value] = [
            "abcdefg": 1, "abcdefgh": 2, "abcdefgi": 3, long + "a": 4, long + "b": 5, "a": 6, "b": 7,
        ]
        let source = "{{ abcdefg }}{{ abcdefgh }}{{ abcdefgi }}{{ \(long)a }}{{ \(long)b }}{{ a }}{{ b }}"
        XCTAssertEqual(try Environment().fromString(source).render(ctx), "1234567")
    }
}
