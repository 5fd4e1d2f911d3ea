import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

@Suite struct RequisiteTests {
    let tree = Tree()

    func apply(_ text: String, _ extra: String...) throws -> (Value, ExecutionContext) {
        try tree.sls("t.sls", text)
        let ctx = try tree.context()
        return (try ctx.loader.call("state.apply", CallArguments.parse(["t"] + extra), context: ctx), ctx)
    }

    @Test func orderFollowsDefinitionThenRequisites() throws {
        defer { tree.remove() }
        let (result, _) = try apply("""
            third:
              test.nop:
                - require:
                  - test: second
            first:
              test.nop: []
            second:
              test.nop: []
            last:
              test.nop:
                - order: last
            zero:
              test.nop:
                - order: first
            """)
        #expect(result.runs.map { $0.ret["__id__"]?.stringValue ?? "" } == ["zero", "second", "third", "first", "last"])
    }

    @Test func watchRunsModWatchAndOnchanges() throws {
        defer { tree.remove() }
        let log = tree.target + "/log"
        let (result, _) = try apply("""
            changed:
              test.succeed_with_changes: []
            unchanged:
              test.succeed_without_changes: []
            on_change:
              cmd.wait:
                - name: echo watched >> \(log)
                - watch:
                  - test: changed
            no_change:
              cmd.wait:
                - name: echo never >> \(log)
                - watch:
                  - test: unchanged
            react:
              cmd.run:
                - name: echo onchanges >> \(log)
                - onchanges:
                  - test: changed
            skipped:
              cmd.run:
                - name: echo skipped >> \(log)
                - onchanges:
                  - test: unchanged
            """)
        #expect(tree.read(log) == "watched\nonchanges\n")
        #expect(result.ret("on_change")?["changes"]?["retcode"] == 0)
        #expect(result.ret("no_change")?["changes"] == [:])
        #expect(result.ret("skipped")?["comment"] == "State was not run because none of the onchanges reqs changed")
    }

    @Test func onfailAndFailhard() throws {
        defer { tree.remove() }
        let (result, _) = try apply("""
            broken:
              test.fail_without_changes: []
            rescue:
              test.succeed_with_changes:
                - onfail:
                  - test: broken
            fine:
              test.nop: []
            not_needed:
              test.succeed_with_changes:
                - onfail:
                  - test: fine
            """)
        #expect(result.ret("rescue")?["result"] == true)
        #expect(result.ret("rescue")?["changes"] != [:])
        #expect(result.ret("not_needed")?["comment"] == "State was not run because onfail req did not change")
        let (hard, _) = try apply("""
            a:
              test.fail_without_changes:
                - failhard: True
            b:
              test.nop: []
            """)
        #expect(hard.runs.count == 1)
    }

    @Test func requisiteInByNameAndPrereqAndUse() throws {
        defer { tree.remove() }
        let log = tree.target + "/log"
        let (result, _) = try apply("""
            the service:
              cmd.wait:
                - name: echo restart >> \(log)
            config:
              test.succeed_with_changes:
                - watch_in:
                  - cmd: echo restart >> \(log)
            before:
              cmd.run:
                - name: echo before >> \(log)
                - prereq:
                  - test: will_change
            will_change:
              test.succeed_with_changes: []
            quiet_before:
              cmd.run:
                - name: echo quiet >> \(log)
                - prereq:
                  - test: stays
            stays:
              test.succeed_without_changes: []
            template:
              file.managed:
                - name: \(tree.target)/a
                - contents: shared
                - mode: 640
            copy:
              file.managed:
                - name: \(tree.target)/b
                - use:
                  - file: template
            """)
        #expect(tree.read(log) == "restart\nbefore\n")
        #expect(result.ret("quiet_before")?["comment"] == "No changes detected")
        let beforeNum = result.ret("before")?["__run_num__"]?.intValue ?? 99
        let changeNum = result.ret("will_change")?["__run_num__"]?.intValue ?? -1
        #expect(beforeNum < changeNum)
        #expect(tree.read(tree.target + "/b") == "shared\n")
        let mode = try FileManager.default.attributesOfItem(atPath: tree.target + "/b")[.posixPermissions] as? Int
        #expect(mode == 0o640)
    }

    @Test func listenRunsAtTheEnd() throws {
        defer { tree.remove() }
        let log = tree.target + "/log"
        let (result, _) = try apply("""
            svc:
              cmd.wait:
                - name: echo listened >> \(log)
                - listen:
                  - test: change
            change:
              test.succeed_with_changes: []
            after:
              cmd.run:
                - name: echo after >> \(log)
            """)
        #expect(tree.read(log) == "after\nlistened\n")
        #expect(result.runs.last?.tag == "cmd_|-listener_svc_|-echo listened >> \(log)_|-mod_watch")
    }

    @Test func checksAndRetryAndNames() throws {
        defer { tree.remove() }
        let marker = tree.target + "/exists"
        try "x".write(toFile: marker, atomically: true, encoding: .utf8)
        let (result, _) = try apply("""
            guarded:
              cmd.run:
                - name: echo no
                - onlyif: 'false'
            created:
              cmd.run:
                - name: echo no
                - creates: \(marker)
            runs:
              cmd.run:
                - name: echo yes
                - onlyif:
                  - 'true'
                  - fun: file.file_exists
                    path: \(marker)
            files:
              file.touch:
                - names:
                  - \(tree.target)/n1
                  - \(tree.target)/n2
            flaky:
              cmd.run:
                - name: test -e \(tree.target)/n1
                - retry:
                    attempts: 3
                    interval: 0
            """)
        #expect(result.ret("guarded")?["comment"] == "onlyif condition is false")
        #expect(result.ret("created")?["comment"] == "All files in creates exist")
        #expect(result.ret("runs")?["changes"]?["stdout"] == "yes")
        #expect(result.runs.filter { $0.ret["__id__"] == "files" }.count == 2)
        #expect(result.ret("flaky")?["result"] == true)
    }

    @Test func includeExtendExclude() throws {
        defer { tree.remove() }
        try tree.sls("app/init.sls", "include:\n  - .config\n  - ..common\napp:\n  test.nop: []\n")
        try tree.sls("app/config.sls", "config:\n  file.managed:\n    - name: \(tree.target)/config\n    - contents: original\n")
        try tree.sls("common.sls", "common:\n  test.nop: []\ndropped:\n  test.nop: []\n")
        try tree.sls("site.sls", """
            include:
              - app
            extend:
              config:
                file:
                  - contents: extended
            exclude:
              - id: dropped
            """)
        let ctx = try tree.context()
        let result = try ctx.loader.call("state.sls", CallArguments.parse(["site"]), context: ctx)
        #expect(tree.read(tree.target + "/config") == "extended\n")
        #expect(result.ret("dropped") == nil)
        #expect(result.ret("common") != nil)
        // Includes come first, in order.
        #expect(result.runs.map { $0.ret["__id__"]?.stringValue ?? "" } == ["config", "common", "app"])
    }
}

@Suite struct ParallelTests {
    let tree = Tree()

    /// Three states marked parallel overlap (each waits until all three
    /// started: run one after another, the first would give up); the state
    /// that requires them waits for all three; run numbers follow the file.
    @Test func parallelStatesOverlapAndStayOrdered() throws {
        defer { tree.remove() }
        let t = tree.target
        try FileManager.default.createDirectory(atPath: t, withIntermediateDirectories: true)
        try """
            touch \(t)/started$1
            i=0
            until [ -e \(t)/started1 ] && [ -e \(t)/started2 ] && [ -e \(t)/started3 ]; do
              i=$((i + 1)); [ $i -gt 600 ] && { echo alone > \(t)/done$1; exit 0; }
              sleep 0.1
            done
            echo together > \(t)/done$1
            """.write(toFile: t + "/barrier.sh", atomically: true, encoding: .utf8)
        try tree.sls("p.sls", """
            {% for n in [1, 2, 3] %}
            sleep{{ n }}:
              cmd.run:
                - name: sh \(t)/barrier.sh {{ n }}
                - parallel: True
            {% endfor %}
            after:
              cmd.run:
                - name: cat \(t)/done1 \(t)/done2 \(t)/done3 > \(t)/all
                - require:
                  - cmd: sleep1
                  - cmd: sleep2
                  - cmd: sleep3
            """)
        let ctx = try tree.context()
        let result = try ctx.loader.call("state.apply", CallArguments.parse(["p"]), context: ctx)
        #expect(result.runs.map { $0.ret["__id__"]?.stringValue ?? "" } == ["sleep1", "sleep2", "sleep3", "after"])
        #expect(result.runs.allSatisfy { $0.ret["result"] == true })
        #expect(tree.read(t + "/all") == "together\ntogether\ntogether\n")
    }
}
