import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// file.tidied and file.decode on real files; answers are Salt 3008.4's
/// for the same tree.
@Suite struct FileTidiedDecodeTests {
    let tree = Tree()

    @Test func tidiedRemovesOldMatchesDeepestFirst() throws {
        defer { tree.remove() }
        let d = tree.target
        #expect(try runShell("""
            mkdir -p \(d)/sub/deeper \(d)/keep && echo old > \(d)/old.log && touch -a -d '10 days ago' \(d)/old.log && \
            head -c 5000 /dev/zero > \(d)/big.bin && echo x > \(d)/sub/deeper/older.log && touch -a -d '20 days ago' \(d)/sub/deeper/older.log && \
            echo k > \(d)/keep/old.keep && touch -a -d '30 days ago' \(d)/keep/old.keep && ln -s old.log \(d)/link.log && echo new > \(d)/new.log
            """).code == 0)
        let states = """
            \(d):
              file.tidied:
                - age: 5
                - size: 1M
                - matches: ['.*\\.log$']
                - exclude: ['link']
            \(d)/sub:
              file.tidied:
                - size: 4K
                - rmdirs: True
                - age: 1000
            """
        let preview = try tree.applyStates("t", states, ["test=True"])
        #expect(preview[0]["comment"] == .string("\(d) is set for tidy") && preview[0]["result"] == .null)
        let done = try tree.applyStates("t", states)
        #expect(done[0]["changes"] == ["removed": [.string("\(d)/sub/deeper/older.log"), .string("\(d)/old.log")]], "\(done)")
        #expect(done[0]["comment"] == .string("Removed 2 files or directories from directory \(d)"))
        #expect(done[1]["comment"] == .string("Nothing to remove from directory \(d)/sub"))
        let left = try runShell("cd \(d) && find . | sort").output
        #expect(left == ".\n./big.bin\n./keep\n./keep/old.keep\n./link.log\n./new.log\n./sub\n./sub/deeper\n", "\(left)")
    }

    @Test func decodeWritesOnlyWhatDiffers() throws {
        defer { tree.remove() }
        let file = tree.target + "/decoded.txt"
        let state = "\(file):\n  file.decode:\n    - encoded_data: aGVsbG8gd29ybGQK\n"
        #expect(try tree.applyStates("d", state, ["test=True"])[0]["comment"] == "File is set to be updated.")
        let written = try tree.applyStates("d", state)
        #expect(written[0]["changes"] == ["old": .null, "new": "6f5902ac237024bdd0c176cb93063dc4"] && written[0]["comment"] == "File was updated.")
        #expect(tree.read(file) == "hello world\n")
        #expect(try tree.applyStates("d", state)[0]["comment"] == "File is in the correct state.")
        try tree.write(file, "changed\n")
        let replaced = try tree.applyStates("d", state)
        #expect(replaced[0]["changes"]?["new"] == "6f5902ac237024bdd0c176cb93063dc4" && replaced[0]["changes"]?["old"] != .null)
    }
}
