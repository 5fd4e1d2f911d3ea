import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// Bad input is reported with file and line, and nothing is applied.
@Suite struct ErrorTests {
    let tree = Tree()

    /// Applies `t` (a good file.managed plus whatever is wrong) and checks
    /// that the error mentions `expected` and that the file was not written.
    func refuses(_ text: String, _ expected: [String], extra: [String: String] = [:]) throws {
        try tree.sls("t.sls", "good:\n  file.managed:\n    - name: \(tree.target)/should-not-exist\n    - contents: x\n" + text)
        for (name, body) in extra { try tree.sls(name, body) }
        let ctx = try tree.context()
        let result = try ctx.loader.call("state.apply", CallArguments.parse(["t"]), context: ctx)
        let errors = result.errors.joined(separator: "\n")
        for piece in expected { #expect(errors.contains(piece), "\(errors)") }
        #expect(!FileManager.default.fileExists(atPath: tree.target + "/should-not-exist"))
        #expect(ctx.outcome.retcode != 0)
    }

    @Test func yamlError() throws {
        defer { tree.remove() }
        try refuses("bad:\n  test.nop:\n    - [unclosed\n", ["Rendering SLS 'base:t' failed", tree.salt + "/t.sls, line"])
    }

    @Test func jinjaError() throws {
        defer { tree.remove() }
        try refuses("{{ undefined_thing.attr }}\n", [tree.salt + "/t.sls, line 5", "undefined_thing"])
    }

    @Test func unknownStateFunction() throws {
        defer { tree.remove() }
        try refuses("x:\n  file.managedd:\n    - name: /tmp/x\n", [StateExecutionModule.partialRunNote, "State 'file.managedd' was not found in SLS 't'"])
    }

    /// Salt's way, asked for: the other states run; the unknown one fails
    /// with Salt's words and the shape of a state that never started; what
    /// requires it fails as a requisite, and was not run.
    @Test(arguments: [["partial=True"], []])
    func unknownStateFunctionPartial(_ extra: [String]) throws {
        defer { tree.remove() }
        try tree.sls("t.sls", "good:\n  file.managed:\n    - name: \(tree.target)/written\n    - contents: x\n"
                     + "x:\n  file.managedd: []\nafter:\n  test.nop:\n    - require:\n      - file: x\n")
        let ctx = try tree.context(options: extra.isEmpty ? ["partial_compile": true] : [:])
        let result = try ctx.loader.call("state.apply", CallArguments.parse(["t"] + extra), context: ctx)
        #expect(tree.read(tree.target + "/written") == "x\n")
        let missing = try #require(result["file_|-x_|-x_|-managedd"]?.mapValue)
        #expect(missing["comment"] == "State 'file.managedd' was not found in SLS 't'\nReason: 'file.managedd' is not available.\n")
        #expect(missing["result"] == false)
        #expect(missing["start_time"] == nil && missing["__sls__"] == nil)
        let after = try #require(result["test_|-after_|-after_|-nop"]?.mapValue)
        #expect(after["comment"] == "One or more requisite failed: t.x")
        #expect(after["__state_ran__"] == false)
        #expect(ctx.outcome.retcode == 2)
    }

    /// Salt shows the low data of a state whose function does not exist:
    /// only running it is refused.
    @Test func lowDataShowsUnknownFunctions() throws {
        defer { tree.remove() }
        try tree.sls("t.sls", "x:\n  file.managedd: []\n")
        let ctx = try tree.context()
        let low = try ctx.loader.call("state.show_low_sls", CallArguments.parse(["t"]), context: ctx)
        #expect(low.listValue?.first?["fun"] == "managedd")
    }

    /// A `_in` requisite is an extend in Salt, and a missing target is
    /// refused in Salt's words (once per target, bare IDs skipped).
    @Test func requisiteInToNothing() throws {
        defer { tree.remove() }
        try refuses("x:\n  test.nop:\n    - require_in:\n      - cmd: ghost\n      - ghost2\n",
                    ["Cannot extend ID 'ghost' in 'base:t'. It is not part of the high state.\nThis is likely due to a missing include"])
    }

    @Test func missingInclude() throws {
        defer { tree.remove() }
        try refuses("include:\n  - nothere\n", ["Specified SLS nothere in saltenv base is not available"])
    }

    @Test func unknownRequisite() throws {
        defer { tree.remove() }
        try refuses("x:\n  test.nop:\n    - require:\n      - cmd: ghost\n", ["Referenced state does not exist for requisite [require: (cmd: ghost)]"])
    }

    @Test func requisiteCycle() throws {
        defer { tree.remove() }
        try refuses("a:\n  test.nop:\n    - require:\n      - test: b\nb:\n  test.nop:\n    - require:\n      - test: a\n",
                    ["Recursive requisite found", "'a'", "'b'"])
    }

    @Test func duplicateIDAcrossFiles() throws {
        defer { tree.remove() }
        try refuses("include:\n  - other\n", ["Detected conflicting IDs", "The conflicting ID is 'good'"],
                    extra: ["other.sls": "good:\n  test.nop: []\n"])
    }

    @Test func duplicateKeyInOneFile() throws {
        defer { tree.remove() }
        try refuses("dup:\n  test.nop: []\ndup:\n  test.nop: []\n", ["found conflicting ID 'dup'", "t.sls, line"])
    }

    @Test func tooManyFunctions() throws {
        defer { tree.remove() }
        try refuses("x:\n  file.managed:\n    - name: /tmp/x\n  file.absent: []\ny:\n  file:\n    - managed\n    - absent\n",
                    ["ID 'x' in SLS 't' contains multiple state declarations of the same type",
                     "Too many functions declared in state 'y' in SLS 't'. Please choose one of the following: managed, absent"])
    }
}
