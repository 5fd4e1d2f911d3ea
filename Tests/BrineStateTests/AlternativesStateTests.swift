import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// `alternatives.install`/`set`/`auto`/`remove` with Debian's real
/// update-alternatives (a link group of the test's own, removed afterwards).
@Suite(.serialized) struct AlternativesStateTests {
    let tree = Tree()
    let group = "brine-test-\(getpid())"

    func apply(_ text: String, _ extra: String...) throws -> [Value] {
        try tree.applyStates("alt", text, extra)
    }

    @Test(.enabled(if: geteuid() == 0)) func installSetAutoRemove() throws {
        defer {
            tree.remove()
            _ = try? ProcessRunner.runBlocking(Command(["update-alternatives", "--remove-all", group]))
        }
        let one = tree.target + "/one", two = tree.target + "/two", link = tree.target + "/bin/tool"
        for path in [one, two] { try "#!/bin/sh\n".write(toFile: path, atomically: true, encoding: .utf8) }
        try FileManager.default.createDirectory(atPath: tree.target + "/bin", withIntermediateDirectories: true)
        let install = """
            first:
              alternatives.install:
                - name: \(group)
                - link: \(link)
                - path: \(one)
                - priority: 10
            second:
              alternatives.install:
                - name: \(group)
                - link: \(link)
                - path: \(two)
                - priority: 20
            """
        #expect(try apply(install, "test=True")[0]["comment"] == .string("Alternative will be set for \(group) to \(one) with priority 10"))
        let installed = try apply(install)
        #expect(installed[0]["comment"] == .string("Alternative for \(group) set to path \(one) with priority 10"))
        #expect(installed[1]["comment"] == .string("Alternative for \(group) set to path \(two) with priority 20"))
        #expect(installed[1]["changes"] == ["name": .string(group), "link": .string(link), "path": .string(two), "priority": 20])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/etc/alternatives/\(group)") == two)
        #expect(try apply(install)[0]["comment"] == .string("Alternative \(one) for \(group) is already registered"))
        let set = "pick:\n  alternatives.set:\n    - name: \(group)\n    - path: \(one)\n"
        #expect(try apply(set)[0]["changes"] == ["path": .string(one)])
        #expect(try apply(set)[0]["comment"] == .string("Alternative for \(group) already set to \(one)"))
        let auto = "back:\n  alternatives.auto:\n    - name: \(group)\n"
        #expect(try apply(auto, "test=True")[0]["comment"] == .string("\(group) will be put in auto mode"))
        _ = try apply(auto)
        #expect(try apply(auto)[0]["comment"] == .string("\(group) already in auto mode"))
        let remove = "drop:\n  alternatives.remove:\n    - name: \(group)\n    - path: \(two)\n"
        let removed = try apply(remove)
        #expect(removed[0]["comment"] == .string("Alternative for \(group) removed. Falling back to path \(one)"))
        #expect(try apply(remove)[0]["comment"] == .string("Alternative for \(group) is set to it's default path \(one)"))
    }
}
