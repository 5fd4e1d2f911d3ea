import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// `git.latest`, `git.cloned`, `git.config_set`/`config_unset` against real
/// repositories on disk (`git init`, a bare upstream, `file://` URLs); the
/// comments and changes are Salt 3008.4's for the same steps.
@Suite struct GitStateTests {
    let tree = Tree()
    var upstream: String { tree.root + "/up" }
    var url: String { "file://" + tree.root + "/up.git" }

    @discardableResult
    func sh(_ line: String) throws -> String {
        let result = try ProcessRunner.runBlocking(Command(["/bin/sh", "-c", line], cwd: tree.root,
                                                           environment: ["PATH": "/usr/bin:/bin", "HOME": tree.root]))
        #expect(result.retcode == 0, "\(line): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// An upstream with one commit and a tag, pushed to a bare repository.
    func makeUpstream() throws {
        try sh("git init -q -b main up && cd up && git config user.email t@t && git config user.name t && echo one > f "
               + "&& git add f && git commit -qm one && git tag v1 && cd .. && git clone -q --bare up up.git")
    }

    func commitUpstream(_ text: String) throws -> String {
        try sh("cd up && echo \(text) >> f && git commit -qam \(text) && git push -q ../up.git main && git rev-parse HEAD")
    }

    /// Applies the one state of `text` and returns its result.
    func apply(_ text: String, _ extra: String...) throws -> Value {
        try tree.applyStates("g", text, extra).first ?? .null
    }

    func latest(_ target: String, _ extra: String = "") -> String {
        "repo:\n  git.latest:\n    - name: \(url)\n    - target: \(tree.root)/\(target)\n" + extra
    }

    @Test func latestClonesUpdatesAndStaysUpToDate() throws {
        defer { tree.remove() }
        try makeUpstream()
        let first = try sh("git -C up rev-parse HEAD")
        let preview = try apply(latest("work"), "test=True")
        #expect(preview["comment"] == .string("Repository \(url) would be cloned to \(tree.root)/work"))
        #expect(preview["result"] == .null)
        let cloned = try apply(latest("work"))
        #expect(cloned["comment"] == .string("\(url) cloned to \(tree.root)/work"))
        #expect(cloned["changes"] == ["new": .string("\(url) => \(tree.root)/work"), "revision": ["old": .null, "new": .string(first)]])
        #expect(try apply(latest("work"))["comment"] == .string("Repository \(tree.root)/work is up-to-date"))
        let second = try commitUpstream("two")
        let wouldUpdate = try apply(latest("work"), "test=True")
        #expect(wouldUpdate["comment"] == .string("Remote 'origin' would be fetched. Repository would be updated from \(first.prefix(7)) to \(second.prefix(7))."))
        let updated = try apply(latest("work"))
        #expect(updated["comment"] == .string("\(url) was fetched, resulting in updated refs. Repository was fast-forwarded to remote HEAD (\(second.prefix(7)))."))
        #expect(updated["changes"]?["revision"] == ["old": .string(first), "new": .string(second)])
        #expect(try sh("git -C work rev-parse HEAD") == second)
    }

    @Test func latestRefusesUncommittedChangesUnlessForceReset() throws {
        defer { tree.remove() }
        try makeUpstream()
        _ = try apply(latest("work"))
        let before = try sh("git -C work rev-parse HEAD")
        try "dirty\n".write(toFile: tree.root + "/work/f", atomically: true, encoding: .utf8)
        let next = try commitUpstream("two")
        let refused = try apply(latest("work"))
        #expect(refused["result"] == false)
        #expect(refused["comment"] == .string("Repository would be updated from \(before.prefix(7)) to \(next.prefix(7)), but there are uncommitted "
                                              + "changes. Set 'force_reset' to True (or 'remote-changes') to force this update and discard these changes."))
        let forced = try apply(latest("work", "    - force_reset: True\n"))
        #expect(forced["comment"] == .string("\(url) was fetched, resulting in updated refs. Uncommitted changes were discarded. "
                                             + "Repository was fast-forwarded to remote HEAD (\(next.prefix(7)))."))
        #expect(tree.read(tree.root + "/work/f") == "one\ntwo\n")
    }

    @Test func latestDivergedNeedsForceReset() throws {
        defer { tree.remove() }
        try makeUpstream()
        _ = try apply(latest("work"))
        try sh("cd work && echo local >> f && git -c user.email=t@t -c user.name=t commit -qam local")
        let next = try commitUpstream("two")
        let refused = try apply(latest("work"))
        #expect(refused["comment"] == .string("Repository would be updated to \(next.prefix(7)), but this is not a fast-forward merge. "
                                              + "Set 'force_reset' to True to force this update.\n\nChanges already made: \(url) was fetched, resulting in updated refs"))
        let forced = try apply(latest("work", "    - force_reset: True\n"))
        #expect(forced["comment"] == .string("Repository was hard-reset to remote HEAD (\(next.prefix(7)))"))
        #expect(forced["changes"]?["forced update"] == true)
        #expect(try sh("git -C work rev-parse HEAD") == next)
    }

    @Test func latestAtATagAndIntoANonRepository() throws {
        defer { tree.remove() }
        try makeUpstream()
        let tagged = try sh("git -C up rev-parse v1")
        _ = try commitUpstream("two")
        let atTag = try apply(latest("tagged", "    - rev: v1\n"))
        #expect(atTag["comment"] == .string("\(url) cloned to \(tree.root)/tagged. Repository was reset to v1 (\(tagged.prefix(7))). Tracking branch was unset."))
        #expect(try apply(latest("tagged", "    - rev: v1\n"))["comment"] == .string("Repository \(tree.root)/tagged is up-to-date"))
        try FileManager.default.createDirectory(atPath: tree.root + "/plain", withIntermediateDirectories: true)
        try "x".write(toFile: tree.root + "/plain/x", atomically: true, encoding: .utf8)
        let refused = try apply(latest("plain"))
        #expect(refused["comment"] == .string("Target '\(tree.root)/plain' exists, is non-empty and is not a git repository. Set the "
                                              + "'force_clone' option to True to remove this directory's contents and proceed with cloning the remote repository"))
        #expect(try apply(latest("plain", "    - force_clone: True\n"))["result"] == true)
        #expect(FileManager.default.fileExists(atPath: tree.root + "/plain/.git") && !FileManager.default.fileExists(atPath: tree.root + "/plain/x"))
    }

    /// A changed `name` moves the remote's URL, said as Salt says it.
    @Test func latestFollowsAChangedURL() throws {
        defer { tree.remove() }
        try makeUpstream()
        try sh("git clone -q --bare up moved.git")
        _ = try apply(latest("work"))
        let moved = "file://" + tree.root + "/moved.git"
        let text = "repo:\n  git.latest:\n    - name: \(moved)\n    - target: \(tree.root)/work\n"
        #expect(try apply(text, "test=True")["comment"] == .string("Repository \(tree.root)/work is up-to-date\n\nChanges that would be made: "
                                                                   + "Remote 'origin' would be changed from \(url) to \(moved)"))
        #expect(try apply(text)["comment"] == .string("Repository \(tree.root)/work is up-to-date\n\nChanges made: "
                                                      + "Remote 'origin' changed from \(url) to \(moved)"))
        #expect(try sh("git -C work config --get remote.origin.url") == moved)
    }

    @Test func clonedAndConfig() throws {
        defer { tree.remove() }
        try makeUpstream()
        let cloned = try apply("c:\n  git.cloned:\n    - name: \(url)\n    - target: \(tree.root)/c\n")
        #expect(cloned["comment"] == .string("\(url) cloned to \(tree.root)/c"))
        #expect(try apply("c:\n  git.cloned:\n    - name: \(url)\n    - target: \(tree.root)/c\n")["comment"]
                == .string("Repository already exists at \(tree.root)/c"))
        let config = """
            cfg:
              git.config_set:
                - name: remote.origin.push
                - multivar: [refs/heads/a, refs/heads/b]
                - repo: \(tree.root)/c
            """
        let preview = try apply(config, "test=True")
        #expect(preview["comment"] == "'remote.origin.push' would be added as ['refs/heads/a', 'refs/heads/b']")
        #expect(preview["changes"] == ["old": .null, "new": ["refs/heads/a", "refs/heads/b"]])
        let set = try apply(config)
        #expect(set["comment"] == "'remote.origin.push' was added as ['refs/heads/a', 'refs/heads/b']")
        #expect(try sh("git -C c config --get-all remote.origin.push") == "refs/heads/a\nrefs/heads/b")
        #expect(try apply(config)["comment"] == "'remote.origin.push' is already set to ['refs/heads/a', 'refs/heads/b']")
        let unset = "u:\n  git.config_unset:\n    - name: remote.origin.push\n    - all: True\n    - repo: \(tree.root)/c\n"
        #expect(try apply(unset, "test=True")["comment"] == "1 key(s) would have value(s) unset")
        let removed = try apply(unset)
        #expect(removed["changes"] == ["remote.origin.push": ["refs/heads/a", "refs/heads/b"]])
        #expect(try apply(unset)["comment"] == "No matching keys are set")
        let noRepo = try apply("n:\n  git.config_set:\n    - name: user.name\n    - value: x\n")
        #expect(noRepo["comment"] == "Non-global config options require the 'repo' argument to be set")
    }
}
