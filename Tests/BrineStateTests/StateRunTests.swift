import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// The reference demo (shared/reference/salt-cli-output.md) and the
/// structure of what a run returns.
@Suite struct StateRunTests {
    let tree = Tree()

    /// `state.template` and `state.template_str` apply a template's states:
    /// `__sls__` is the file's path, None for text (as Salt 3008 answers).
    @Test func templatesApplyTheirStates() throws {
        defer { tree.remove() }
        let ctx = try tree.context()
        let file = tree.root + "/t.sls"
        try tree.write(file, "made:\n  test.succeed_with_changes: []\n")
        let fromFile = try ctx.loader.call("state.template", CallArguments(positional: [.string(file)]), context: ctx)
        #expect(fromFile.ret("made")?["__sls__"] == .string(file) && fromFile.ret("made")?["result"] == true)
        let fromText = try ctx.loader.call("state.template_str", CallArguments(positional: ["x:\n  test.nop: []\n{{ 'y' }}:\n  test.fail_without_changes: []\n"]),
                                           context: ctx)
        #expect(fromText.ret("x")?["__sls__"] == .null && fromText.ret("y")?["result"] == false)
        let broken = try ctx.loader.call("state.template_str", CallArguments(positional: ["x: [1"]), context: ctx)
        #expect(broken.errors.first?.hasPrefix("Rendering template '<template-str>' failed") == true)
    }

    func demo() throws {
        try tree.pillar("top.sls", "base:\n  '*':\n    - bench\n")
        try tree.pillar("bench.sls", "bench:\n  target_dir: \(tree.target)/m001\n  greeting: hello from pillar\n")
        try tree.sls("demo.sls", """
            {% set t = pillar['bench']['target_dir'] %}
            demo_file:
              file.managed:
                - name: {{ t }}/demo.txt
                - makedirs: True
                - contents: |
                    hello {{ grains['id'] }}
                    greeting: {{ pillar['bench']['greeting'] }}

            demo_cmd:
              cmd.run:
                - name: echo hi > {{ t }}/demo.done
                - unless: test -e {{ t }}/demo.done
                - require:
                  - file: demo_file
            """)
        try tree.sls("demo_fail.sls", """
            will_fail:
              cmd.run:
                - name: 'false'

            needs_failed:
              cmd.run:
                - name: echo never
                - require:
                  - cmd: will_fail
            """)
    }

    @Test func demoAppliesThenIsClean() throws {
        defer { tree.remove() }
        try demo()
        let ctx = try tree.context()
        let first = try state(ctx, "apply", "demo")
        let path = tree.target + "/m001/demo.txt"
        #expect(tree.read(path) == "hello m001\ngreeting: hello from pillar\n")
        #expect(FileManager.default.fileExists(atPath: tree.target + "/m001/demo.done"))
        let file = try #require(first["file_|-demo_file_|-\(path)_|-managed"])
        #expect(file["comment"] == .string("File \(path) updated"))
        #expect(file["changes"] == ["diff": "New file"])
        #expect(file["__run_num__"] == 0)
        #expect(file["__sls__"] == "demo")
        #expect(file["__id__"] == "demo_file")
        #expect(file.mapValue?.keys.elementsEqual(["changes", "comment", "name", "result", "__sls__", "__run_num__", "start_time", "duration", "__id__"]) == true)
        let cmd = try #require(first.ret("demo_cmd"))
        #expect(cmd["comment"] == .string("Command \"echo hi > \(tree.target)/m001/demo.done\" run"))
        #expect(cmd["changes"]?["retcode"] == 0)
        #expect(cmd["__run_num__"] == 1)

        let second = try state(ctx, "apply", "demo")
        #expect(second.ret("demo_file")?["comment"] == .string("File \(path) is in the correct state"))
        #expect(second.ret("demo_file")?["changes"] == [:])
        #expect(second.ret("demo_cmd")?["comment"] == "unless condition is true")
        #expect(second.ret("demo_cmd")?["skip_watch"] == true)
        #expect(ctx.outcome.retcode == 0)
    }

    @Test func testModeChangesNothing() throws {
        defer { tree.remove() }
        try demo()
        let ctx = try tree.context()
        let preview = try state(ctx, "apply", "demo", "test=True")
        #expect(preview.ret("demo_file")?["result"] == .null)
        #expect(preview.ret("demo_file")?["comment"] == .string("The file \(tree.target)/m001/demo.txt is set to be changed"))
        #expect(preview.ret("demo_cmd")?["result"] == .null)
        #expect(!FileManager.default.fileExists(atPath: tree.target + "/m001"))
    }

    @Test func failureAndRequisiteFailure() throws {
        defer { tree.remove() }
        try demo()
        let ctx = try tree.context()
        let result = try state(ctx, "apply", "demo_fail")
        #expect(result.ret("will_fail")?["result"] == false)
        #expect(result.ret("will_fail")?["comment"] == "Command \"false\" run")
        #expect(result.ret("needs_failed")?["result"] == false)
        #expect(result.ret("needs_failed")?["comment"] == "One or more requisite failed: demo_fail.will_fail")
        #expect(ctx.outcome.retcode == 2)
    }

    @Test func highstateOutputMatchesSalt() throws {
        defer { tree.remove() }
        try demo()
        let ctx = try tree.context()
        let result = try state(ctx, "apply", "demo_fail")
        var text = HighstateOutput().render(["m001": result])
        // Times and pids vary; everything else is Salt's layout to the character.
        text = text.replacingOccurrences(of: #"Started: [0-9:.]+"#, with: "Started: T", options: .regularExpression)
            .replacingOccurrences(of: #"Duration: [0-9.]+ ms"#, with: "Duration: D ms", options: .regularExpression)
            .replacingOccurrences(of: #"run time: +[0-9.]+ (ms|s)"#, with: "run time: R", options: .regularExpression)
            .replacingOccurrences(of: #"\n {18}[0-9]+\n {14}retcode"#, with: "\n                  PID\n              retcode", options: .regularExpression)
        let expected = """
            m001:
            ----------
                      ID: will_fail
                Function: cmd.run
                    Name: false
                  Result: False
                 Comment: Command "false" run
                 Started: T
                Duration: D ms
                 Changes:   
                          ----------
                          pid:
                              PID
                          retcode:
                              1
                          stderr:
                          stdout:
            ----------
                      ID: needs_failed
                Function: cmd.run
                    Name: echo never
                  Result: False
                 Comment: One or more requisite failed: demo_fail.will_fail
                 Started: T
                Duration: D ms
                 Changes:   

            Summary for m001
            ------------
            Succeeded: 0 (changed=1)
            Failed:    2
            ------------
            Total states run:     2
            Total run time: R
            """
        #expect(text == expected)
        let terse = HighstateOutput(stateOutput: "terse").render(["m001": result])
        #expect(terse.contains("  Name: false - Function: cmd.run - Result: Failed - Started: "))
    }

    @Test func showFunctions() throws {
        defer { tree.remove() }
        try demo()
        try tree.sls("top.sls", "base:\n  '*':\n    - demo\n  'other':\n    - demo_fail\n")
        let ctx = try tree.context()
        let high = try state(ctx, "show_sls", "demo")
        #expect(high["demo_file"]?["__sls__"] == "demo")
        #expect(high["demo_file"]?["file"]?.listValue?.dropLast().last == "managed")
        #expect(high["demo_file"]?["file"]?.listValue?.contains(["order": 10000]) == true)
        #expect(high["demo_cmd"]?["cmd"]?.listValue?.contains(["order": 10001]) == true)
        #expect(try state(ctx, "show_top") == ["base": ["demo"]])
        let low = try state(ctx, "show_lowstate").listValue ?? []
        #expect(low.count == 2)
        #expect(low.first?["state"] == "file")
        #expect(low.first?["fun"] == "managed")
        #expect(low.first?["__id__"] == "demo_file")
        let applied = try state(ctx, "highstate")
        #expect(applied.runs.count == 2)
        let single = try state(ctx, "single", "file.touch", "name=\(tree.target)/single")
        #expect(single.runs.first?.ret["result"] == true)
        #expect(FileManager.default.fileExists(atPath: tree.target + "/single"))
        let one = try state(ctx, "sls_id", "demo_file", "demo")
        #expect(one.runs.count == 1)
    }
}
