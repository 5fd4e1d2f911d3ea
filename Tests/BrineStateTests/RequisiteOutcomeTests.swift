import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// Requisites on failed and changed states, with and without test=True:
/// the results and comments Salt 3008 gave for this tree (recorded with
/// bench/compat/oracle.sh).
@Suite struct RequisiteOutcomeTests {
    let tree = Tree()

    static let sls = """
        fails:
          test.fail_with_changes: []
        fails_nochange:
          test.fail_without_changes: []
        oc:
          test.succeed_with_changes:
            - onchanges:
              - test: fails
        oc2:
          test.succeed_with_changes:
            - onchanges:
              - test: fails_nochange
        rq:
          test.succeed_with_changes:
            - require:
              - test: fails
        of:
          test.succeed_with_changes:
            - onfail:
              - test: fails
        wt:
          test.succeed_with_changes:
            - watch:
              - test: fails
        """

    func outcomes(_ words: String...) throws -> [String: (Bool?, String)] {
        try tree.sls("t.sls", Self.sls)
        let ctx = try tree.context()
        let result = try ctx.loader.call("state.sls", CallArguments.parse(["t"] + words), context: ctx)
        var found: [String: (Bool?, String)] = [:]
        for (_, ret) in result.runs {
            let value = ret["result"] ?? .null
            found[ret["__id__"]?.pythonString ?? ""] = (value.isNull ? nil : value.asFlag, ret["comment"]?.pythonString ?? "")
        }
        return found
    }

    @Test func applied() throws {
        defer { tree.remove() }
        let got = try outcomes()
        let notRun = "State was not run because none of the onchanges reqs changed"
        #expect(got["oc"]! == (true, notRun))
        #expect(got["oc2"]! == (true, notRun))
        #expect(got["rq"]! == (false, "One or more requisite failed: t.fails"))
        #expect(got["of"]! == (true, "Success!"))
        #expect(got["wt"]! == (false, "One or more requisite failed: t.fails"))
        #expect(got["fails_nochange"]! == (false, "Failure!"))
    }

    @Test func testMode() throws {
        defer { tree.remove() }
        let got = try outcomes("test=True")
        let wouldChange = "If we weren't testing, this would be successful with changes"
        #expect(got["fails"]! == (nil, "If we weren't testing, this would be failed with changes"))
        #expect(got["fails_nochange"]! == (false, "If we weren't testing, this would be a failure!"))
        #expect(got["oc"]! == (nil, wouldChange))
        #expect(got["oc2"]! == (true, "State was not run because none of the onchanges reqs changed"))
        #expect(got["rq"]! == (nil, wouldChange))
        #expect(got["of"]! == (nil, wouldChange))
        #expect(got["wt"]! == (nil, wouldChange))
    }

    /// `listen` runs the listener's mod_watch at the end only when its own
    /// `unless`/`onlyif` let it (Salt 3008's answer for this tree, recorded
    /// with oracle.sh).
    @Test func listenHonoursChecks() throws {
        defer { tree.remove() }
        try tree.sls("l.sls", """
            changer:
              test.succeed_with_changes: []
            skipped:
              cmd.run:
                - name: echo one
                - unless: /bin/true
                - listen:
                  - test: changer
            runs:
              cmd.run:
                - name: echo two
                - listen:
                  - test: changer
            """)
        let ctx = try tree.context()
        let result = try ctx.loader.call("state.sls", CallArguments.parse(["l"]), context: ctx)
        let skipped = result["cmd_|-listener_skipped_|-echo one_|-mod_watch"]
        #expect(skipped?["comment"] == "unless condition is true" && skipped?["changes"] == [:] && skipped?["result"] == true)
        #expect(result["cmd_|-listener_runs_|-echo two_|-mod_watch"]?["comment"] == "Command \"echo two\" run")
    }

    /// A requisite holding `*`, `?`, `[` or `]` matches as a glob, as in
    /// Salt 3008 (`watch: - test: 'r-*'`); an `_in` form does not (Salt
    /// refuses it: "Cannot extend ID 'oth[e]r'").
    @Test func globRequisites() throws {
        defer { tree.remove() }
        try tree.sls("g.sls", """
            r-one:
              test.succeed_with_changes: []
            r-two:
              test.succeed_without_changes: []
            other:
              test.nop: []
            w:
              test.succeed_without_changes:
                - watch:
                  - test: 'r-*'
            x:
              test.nop:
                - require:
                  - test: 'r-?wo'
            """)
        let ctx = try tree.context()
        let result = try state(ctx, "sls", "g")
        #expect(ctx.outcome.retcode == 0, "\(result)")
        #expect(result.runs.map { $0.ret["__id__"] } == ["r-one", "r-two", "other", "w", "x"])
        // The watch fired: test.mod_watch answers as Salt's.
        #expect(result.ret("w")?["comment"] == "Watch statement fired.")
        #expect(result.ret("w")?["changes"] == ["Requisites with changes": ["test: r-one"]])
        try tree.sls("h.sls", "other:\n  test.nop: []\ny:\n  test.nop:\n    - require_in:\n      - test: 'oth[e]r'\n")
        #expect(try state(ctx, "sls", "h").errors.count == 1)
    }
}
