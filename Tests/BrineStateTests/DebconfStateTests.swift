import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// `debconf.set` against the machine's real debconf database (a question
/// set of a package name nobody has, purged afterwards), and
/// `test.check_pillar`; words as Salt 3008.4 gives them.
@Suite(.serialized) struct DebconfStateTests {
    let tree = Tree()
    let package = "brine-test-\(getpid())"

    func apply(_ text: String, _ extra: String...) throws -> Value {
        try tree.applyStates("d", text, extra).first ?? .null
    }

    func purge() throws {
        _ = try ProcessRunner.runBlocking(Command(["/bin/sh", "-c", "echo PURGE | debconf-communicate \(package)"]))
    }

    @Test func setAnswersOnce() throws {
        defer { tree.remove(); try? purge() }
        let text = """
            \(package):
              debconf.set:
                - data:
                    '\(package)/question': {type: string, value: 'hello world'}
                    '\(package)/flag': {type: boolean, value: True}
                    '\(package)/secret': {type: password, value: hunter2}
            """
        let preview = try apply(text, "test=True")
        #expect(preview["result"] == .null)
        #expect(preview["changes"]?["\(package)/secret"] == "New value: (password hidden)")
        let first = try apply(text)
        #expect(first["changes"] == ["\(package)/question": "hello world", "\(package)/flag": "true", "\(package)/secret": "(password hidden)"])
        #expect(first["comment"] == "")
        let selections = try ProcessRunner.runBlocking(Command(["debconf-get-selections"])).stdout
        #expect(selections.contains("\(package)\t\(package)/question\tstring\thello world"))
        #expect(selections.contains("\(package)\t\(package)/flag\tboolean\ttrue"))
        let second = try apply(text)
        #expect(second["comment"] == "All specified answers are already set" && second["changes"] == [:])
        let ctx = try tree.context()
        let shown = try ctx.loader.call("debconf.show", CallArguments.parse([package]), context: ctx)
        #expect(shown.listValue?.contains([.string("\(package)/flag"), "boolean", "true"]) == true)
    }

    /// Salt's check_pillar as documented (Salt 3008.4 itself checks the
    /// masked `**********` strings pillar.get now returns, so every type
    /// check but `string` fails there).
    @Test func checkPillar() throws {
        defer { tree.remove() }
        try tree.pillar("top.sls", "base:\n  '*':\n    - p\n")
        try tree.pillar("p.sls", "flag: True\nnum: 3\nname: web\nitems: [1, 2]\nnested:\n  inner: {a: 1}\n")
        let good = try apply("""
            ok:
              test.check_pillar:
                - present: [flag, 'nested:inner:a']
                - boolean: flag
                - integer: [num, flag]
                - string: name
                - listing: items
                - dictionary: nested
                - verbose: True
            """)
        #expect(good["result"] == true)
        #expect(good["comment"] == .string("Those keys passed the check:\n- flag (<class 'int'>)\n- nested:inner:a (None)\n- num (<class 'int'>)\n"
                + "- name ((<class 'str'>,))\n- items (<class 'list'>)\n- nested (<class 'dict'>)\n"))
        let bad = try apply("bad:\n  test.check_pillar:\n    - present: missing\n    - integer: name\n    - string: [num, nothere]\n    - dictionary: items\n")
        #expect(bad["result"] == false)
        #expect(bad["comment"] == .string("Pillar key \"missing\" is missing.\nPillar key \"name\" is not <class 'int'>.\nPillar key \"num\" is not (<class 'str'>,).\n"
                + "Pillar key \"nothere\" is missing.\nPillar key \"items\" is not <class 'dict'>.\n"))
    }
}
