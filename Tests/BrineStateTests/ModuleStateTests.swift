import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// `module.run`/`module.wait` and `file.serialize`, answers recorded from
/// Salt 3008.4 on the same SLS (bench/compat/oracle.sh).
@Suite struct ModuleStateTests {
    let tree = Tree()

    func apply(_ text: String, _ extra: String...) throws -> Value {
        try tree.sls("m.sls", text)
        let ctx = try tree.context()
        return try ctx.loader.call("state.apply", CallArguments.parse(["m"] + extra), context: ctx)
    }

    /// The current syntax: several functions per state, a list's items
    /// positional and its one-key maps keyword; each return in `changes`,
    /// the comment Salt's, `name` the list of functions.
    @Test func runNewStyle() throws {
        defer { tree.remove() }
        let result = try apply("""
            many:
              module.run:
                - test.arg:
                  - one
                  - key: value
                - test.true:
                - cmd.run:
                  - echo hello
            failing:
              module.run:
                - test.false:
                - test.echo:
                  - ok
            missing:
              module.run:
                - nosuch.fun:
                - test.true:
            twice:
              module.run:
                - test.echo:first:
                  - a
                - test.echo:second:
                  - b
            """)
        let many = try #require(result["module_|-many_|-many_|-run"]?.mapValue)
        #expect(many["result"] == true)
        #expect(many["comment"] == "test.arg: Success, test.true: True, cmd.run: hello")
        #expect(many["name"] == ["test.arg", "test.true", "cmd.run"])
        #expect(many["changes"]?["test.arg"] == ["args": ["one"], "kwargs": ["key": "value"]])
        #expect(many["changes"]?["cmd.run"] == "hello")
        let failing = try #require(result["module_|-failing_|-failing_|-run"]?.mapValue)
        #expect(failing["result"] == false)
        #expect(failing["comment"] == "'test.false': False, test.echo: ok")
        let missing = try #require(result["module_|-missing_|-missing_|-run"]?.mapValue)
        #expect(missing["comment"] == "Unavailable function: nosuch.fun.")
        #expect(missing["result"] == false && missing["changes"] == [:])
        #expect(result["module_|-twice_|-twice_|-run"]?["changes"] == ["test.echo:first": "a", "test.echo:second": "b"])
    }

    /// The legacy syntax: `name` is the function, its arguments beside it,
    /// `args`/`kwargs` for `*args`/`**kwargs`, `m_`-prefixed hidden names.
    @Test func runLegacyStyle() throws {
        defer { tree.remove() }
        let result = try apply("""
            legacy:
              module.run:
                - name: test.arg
                - args: [x, y]
                - kwargs: {k: v}
            with_m_name:
              module.run:
                - name: cmd.run
                - cmd: echo from-legacy
            missing_argument:
              module.run:
                - name: cmd.run
            unknown:
              module.run:
                - name: nosuch.fun
            raising:
              module.run:
                - name: file.read
                - path: /nonexistent/brine-module-run
            """)
        let legacy = try #require(result["module_|-legacy_|-test.arg_|-run"]?.mapValue)
        #expect(legacy["comment"] == "Module function test.arg executed")
        #expect(legacy["changes"] == ["ret": ["args": ["x", "y"], "kwargs": ["k": "v"]]])
        #expect(legacy["name"] == "test.arg")
        #expect(result["module_|-with_m_name_|-cmd.run_|-run"]?["changes"] == ["ret": "from-legacy"])
        #expect(result["module_|-missing_argument_|-cmd.run_|-run"]?["comment"] == "The following arguments are missing: cmd")
        #expect(result["module_|-unknown_|-nosuch.fun_|-run"]?["comment"] == "Module function nosuch.fun is not available")
        let raising = try #require(result["module_|-raising_|-file.read_|-run"]?.mapValue)
        #expect(raising["result"] == false)
        #expect(raising["comment"]?.stringValue?.hasPrefix("Module function file.read threw an exception. Exception: ") == true)
    }

    /// test=True runs nothing and says what would run; module.wait runs
    /// only when a watched state changed.
    @Test func testModeAndWait() throws {
        defer { tree.remove() }
        let marker = tree.target + "/ran"
        let text = """
            would:
              module.run:
                - cmd.run:
                  - touch \(marker)
                - test.true:
            changed:
              test.succeed_with_changes: []
            unchanged:
              test.succeed_without_changes: []
            fired:
              module.wait:
                - test.echo:
                  - fired
                - watch:
                  - test: changed
            quiet:
              module.wait:
                - test.echo:
                  - never
                - watch:
                  - test: unchanged
            """
        let preview = try apply(text, "test=True")
        #expect(preview["module_|-would_|-would_|-run"]?["comment"] == "Functions cmd.run, test.true to be executed.")
        #expect(preview["module_|-would_|-would_|-run"]?["result"] == .null)
        #expect(!FileManager.default.fileExists(atPath: marker))
        let result = try apply(text)
        #expect(FileManager.default.fileExists(atPath: marker))
        #expect(result["module_|-fired_|-fired_|-wait"]?["changes"] == ["test.echo": "fired"])
        #expect(result["module_|-quiet_|-quiet_|-wait"]?["changes"] == [:])
        #expect(result["module_|-quiet_|-quiet_|-wait"]?["comment"] == "")
    }

    /// Salt's serializers: yaml block style with keys sorted and non-ASCII
    /// escaped, json with indent 2 and keys sorted; merge_if_exists merges
    /// into the file's data and reports Salt's recursive diff.
    @Test func serialize() throws {
        defer { tree.remove() }
        try #"{"keep": {"inner": "old", "other": 3}, "x": 1}"#.write(toFile: tree.target + "/m.json", atomically: true, encoding: .utf8)
        let text = """
            yaml:
              file.serialize:
                - name: \(tree.target)/a.yaml
                - dataset:
                    zeta: 1
                    alpha: [1, {b: 2, a: 1}]
                    uni: "é"
            json:
              file.serialize:
                - name: \(tree.target)/a.json
                - serializer: json
                - dataset: {zeta: 1, alpha: [1, 2], uni: "é", none: null}
            merge:
              file.serialize:
                - name: \(tree.target)/m.json
                - formatter: json
                - merge_if_exists: True
                - dataset: {added: 1, keep: {inner: changed}}
            """
        let result = try apply(text)
        #expect(tree.read(tree.target + "/a.yaml") == "alpha:\n- 1\n- a: 1\n  b: 2\nuni: \"\\xE9\"\nzeta: 1\n")
        #expect(tree.read(tree.target + "/a.json") == "{\n  \"alpha\": [\n    1,\n    2\n  ],\n  \"none\": null,\n  \"uni\": \"é\",\n  \"zeta\": 1\n}\n")
        #expect(result["file_|-yaml_|-\(tree.target)/a.yaml_|-serialize"]?["comment"] == .string("File \(tree.target)/a.yaml updated"))
        let merge = try #require(result["file_|-merge_|-\(tree.target)/m.json_|-serialize"]?.mapValue)
        #expect(merge["changes"]?["diff"] == ["keep": ["inner": ["new": "changed", "old": "old"]], "added": ["new": 1, "old": "<_null_>"]])
        let merged = try JSON.decode(tree.read(tree.target + "/m.json") ?? "")
        #expect(merged == ["added": 1, "keep": ["inner": "changed", "other": 3], "x": 1])
        let again = try apply(text)
        #expect(again["file_|-merge_|-\(tree.target)/m.json_|-serialize"]?["comment"] == .string("The file \(tree.target)/m.json is in the correct state"))
        #expect(again["file_|-yaml_|-\(tree.target)/a.yaml_|-serialize"]?["changes"] == [:])
    }
}
