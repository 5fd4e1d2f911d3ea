import BrineCore
import Foundation
import Testing

/// `brine call --local state.*` as a user runs it: Salt's highstate
/// output, its flags, and exit codes.
@Suite struct StateCLITests {
    let root = tempDir()

    func setUp() throws {
        try FileManager.default.createDirectory(atPath: root + "/states", withIntermediateDirectories: true)
        try """
            ok:
              test.succeed_without_changes: []
            changed:
              file.managed:
                - name: \(root)/out.txt
                - contents: hello
            """.write(toFile: root + "/states/web.sls", atomically: true, encoding: .utf8)
        try "broken:\n  test.fail_without_changes: []\n".write(toFile: root + "/states/bad.sls", atomically: true, encoding: .utf8)
        try "x:\n  file.managed:\n    - name: \(root)/never\n    - bogus: [\n".write(toFile: root + "/states/syntax.sls", atomically: true, encoding: .utf8)
    }

    func call(_ words: [String]) throws -> Run {
        try brine(["call", "--local", "-c", root + "/etc", "--file-root", root + "/states"] + words)
    }

    @Test func outputsAndFlags() throws {
        try setUp()
        let full = try call(["state.apply", "web"])
        #expect(full.code == 0)
        #expect(full.stdout.hasPrefix("local:\n----------\n          ID: ok\n    Function: test.succeed_without_changes\n      Result: True\n     Comment: Success!\n"))
        #expect(full.stdout.contains("Succeeded: 2 (changed=1)\nFailed:    0\n"))
        let quietClean = try call(["state.apply", "web", "--state-verbose=False"])
        #expect(!quietClean.stdout.contains("ID: ok"))
        #expect(quietClean.stdout.contains("Succeeded: 2\n"))
        let terse = try call(["state.apply", "web", "--state-output=terse"])
        #expect(terse.stdout.contains("  Name: ok - Function: test.succeed_without_changes - Result: Clean - Started: "))
        let json = try call(["state.apply", "web", "--out=json"])
        let data = try JSON.decode(json.stdout)
        #expect(data["local"]?["test_|-ok_|-ok_|-succeed_without_changes"]?["result"] == true)
        let preview = try call(["state.apply", "web", "test=True", "pillar={x: 1}"])
        #expect(preview.code == 0)
    }

    @Test func failuresExitNonZero() throws {
        try setUp()
        let failed = try call(["state.apply", "bad"])
        #expect(failed.code == 1)
        #expect(failed.stdout.contains("Failed:    1"))
        let syntax = try call(["state.apply", "syntax"])
        #expect(syntax.code == 1)
        #expect(syntax.stdout.contains("local:\n    Data failed to compile:\n----------\n    Rendering SLS 'base:syntax' failed: \(root)/states/syntax.sls, line"))
        #expect(!FileManager.default.fileExists(atPath: root + "/never"))
        let missing = try call(["state.apply", "nothere"])
        #expect(missing.code == 1)
        // Salt 3008's words for a missing top-level SLS (an include gets "Specified SLS … is not available").
        #expect(missing.stdout.contains("No matching sls found for 'nothere' in env 'base'"))
    }

    /// cmd's shell is Salt's default: `$SHELL`, else /bin/sh (bashisms
    /// in a bash user's states behave as under Salt).
    @Test func cmdShellFollowsSHELL() throws {
        try setUp()
        let bash = try brine(["call", "--local", "-c", root + "/etc", "cmd.run", "echo $0 ${BASH_VERSION:+bash}"], environment: ["SHELL": "/bin/bash"])
        #expect(bash.stdout == "local:\n    /bin/bash bash\n")
        let sh = try brine(["call", "--local", "-c", root + "/etc", "cmd.run", "echo $0 ${BASH_VERSION:+bash}"], environment: ["SHELL": "/bin/sh"])
        #expect(sh.stdout == "local:\n    /bin/sh\n")
    }

    /// A state naming a function Brine lacks: refused whole, said first;
    /// `--partial` runs the others as Salt does, the unknown one printed as
    /// Salt prints a state that never started (no Started/Duration).
    @Test func partialRuns() throws {
        try setUp()
        try "x:\n  test.nosuch: []\ny:\n  file.managed:\n    - name: \(root)/partial\n    - contents: p\n"
            .write(toFile: root + "/states/typo.sls", atomically: true, encoding: .utf8)
        let refused = try call(["state.apply", "typo"])
        #expect(refused.code == 1)
        #expect(refused.stdout.hasPrefix("local:\n    Data failed to compile:\n----------\n    Brine applies nothing when"))
        #expect(!FileManager.default.fileExists(atPath: root + "/partial"))
        let partial = try call(["--partial", "state.apply", "typo"])
        #expect(partial.code == 1)
        #expect(partial.stdout.contains("          ID: x\n    Function: test.nosuch\n      Result: False\n"
            + "     Comment: State 'test.nosuch' was not found in SLS 'typo'\n              Reason: 'test.nosuch' is not available.\n"
            + "     Changes:   \n----------\n"))
        #expect(FileManager.default.fileExists(atPath: root + "/partial"))
    }
}
