import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// `pkg.held`/`unheld` and `pkg.hold`/`unhold` on the machine's real dpkg
/// selections (git, which scripts/setup installs; put back afterwards);
/// answers as Salt 3008.4 gives them on the same steps.
@Suite(.serialized) struct PkgHoldStateTests {
    let tree = Tree()

    func selection(_ package: String) throws -> String {
        let out = try ProcessRunner.runBlocking(Command(["dpkg", "--get-selections", package])).stdout
        return out.split(whereSeparator: \.isWhitespace).last.map(String.init) ?? ""
    }

    @Test(.enabled(if: geteuid() == 0 && FileManager.default.fileExists(atPath: "/usr/bin/git"))) func holdAndUnhold() throws {
        defer {
            tree.remove()
            _ = try? ProcessRunner.runBlocking(Command(["dpkg", "--set-selections"], stdin: "git install\n"))
        }
        let hold = "hold-git:\n  pkg.held:\n    - name: git\n"
        #expect(try tree.applyStates("p", hold, ["test=True"])[0]["comment"] == "The following package would be held: git")
        #expect(try selection("git") == "install")
        let held = try tree.applyStates("p", hold)[0]
        #expect(held["comment"] == "Package git is now being held")
        #expect(held["changes"] == ["git": ["name": "git", "changes": ["old": "install", "new": "hold"], "result": true,
                                            "comment": "Package git is now being held."]])
        #expect(try selection("git") == "hold")
        #expect(try tree.applyStates("p", hold)[0]["comment"] == "No changes made")
        let unhold = "unhold:\n  pkg.unheld:\n    - name: x\n    - pkgs: [git]\n"
        #expect(try tree.applyStates("p", unhold)[0]["comment"] == "Package git is no longer being held.")
        #expect(try selection("git") == "install")
        let ctx = try tree.context()
        let answer = try ctx.loader.call("pkg.unhold", CallArguments.parse(["git"]), context: ctx)
        #expect(answer["git"]?["comment"] == "Package git is already set not to be held.")
    }
}
