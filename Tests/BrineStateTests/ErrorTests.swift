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
        try refuses("x:\n  file.managedd:\n    - name: /tmp/x\n", ["State 'file.managedd' was not found in SLS 't'"])
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
