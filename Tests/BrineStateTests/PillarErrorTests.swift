import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// A pillar SLS that does not render: Salt leaves it out, names it under
/// `_errors`, and refuses state runs with its own words (answers recorded
/// from Salt 3008 on the same tree with bench/compat/oracle.sh).
@Suite struct PillarErrorTests {
    let tree = Tree()

    func setUp() throws {
        try tree.pillar("top.sls", "base:\n  '*':\n    - bad\n    - good\n")
        try tree.pillar("bad.sls", "a: {{ undefined_thing.x }}\n")
        try tree.pillar("good.sls", "g: 1\n")
        try tree.sls("x.sls", "x:\n  test.nop: []\n")
    }

    @Test func pillarShowsErrorsAndKeepsTheRest() throws {
        defer { tree.remove() }
        try setUp()
        let ctx = try tree.context()
        let pillar = try ctx.loader.call("pillar.items", CallArguments(keyword: ["unmask": true]), context: ctx)
        #expect(pillar["_errors"] == ["Rendering SLS 'bad' failed. Please see master log for details."])
        #expect(pillar["g"] == 1)
    }

    @Test func stateRunsRefuse() throws {
        defer { tree.remove() }
        try setUp()
        let ctx = try tree.context()
        let applied = try state(ctx, "apply", "x")
        #expect(applied == ["Pillar failed to render with the following messages:",
                            "Rendering SLS 'bad' failed. Please see master log for details."])
        #expect(ctx.outcome.retcode != 0)
        #expect(throws: BrineError.self) { try state(ctx, "show_sls", "x") }
        do {
            _ = try state(ctx, "show_sls", "x")
        } catch let error as BrineError {
            #expect(error.description.contains("Pillar failed to render. Additional info follows:\n\n- Rendering SLS 'bad' failed. Please see master log for details."))
        }
        let forced = try tree.context()
        #expect(try state(forced, "apply", "x", "force=True").runs.count == 1)
    }
}
