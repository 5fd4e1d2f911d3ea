import BrineCore
import BrineModules
import Foundation
import Testing

@Suite struct FileTests {
    let dir = makeTempDir("file")

    @Test func existsReadWriteAppend() throws {
        let ctx = try makeContext()
        let path = dir + "/a.txt"
        #expect(try call(ctx, "file.file_exists", path) == false)
        #expect(try call(ctx, "file.write", path, "one", "two") == .string("Wrote 2 lines to \"\(path)\""))
        #expect(try call(ctx, "file.read", path) == "one\ntwo\n")
        try write("no newline", to: path)
        #expect(try call(ctx, "file.append", path, "three") == .string("Wrote 1 lines to \"\(path)\""))
        #expect(try call(ctx, "file.read", path) == "no newline\nthree\n")
        #expect(try call(ctx, "file.file_exists", path) == true)
        #expect(try call(ctx, "file.directory_exists", dir) == true)
        #expect(try call(ctx, "file.directory_exists", path) == false)
        #expect(try call(ctx, "file.contains", path, "three") == true)
        #expect(try call(ctx, "file.contains", path, "four") == false)
        #expect(throws: BrineError.self) { try call(ctx, "file.append", self.dir + "/missing", "x") }
        // No temporary files are left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("brine-") }
        #expect(leftovers.isEmpty)
    }

    @Test func replaceShowsDiffKeepsBackup() throws {
        let ctx = try makeContext()
        let path = dir + "/ssl.conf"
        try write("<VirtualHost>\n  SSLProtocol all -SSLv2\n</VirtualHost>\n", to: path)
        let diff = try callWith(ctx, "file.replace", [.string(path)],
                                ["pattern": "SSLProtocol all -SSLv2[ ]*$", "repl": "SSLProtocol all -SSLv2 -SSLv3"])
        #expect(diff == "--- \n+++ \n@@ -1,3 +1,3 @@\n <VirtualHost>\n-  SSLProtocol all -SSLv2\n+  SSLProtocol all -SSLv2 -SSLv3\n </VirtualHost>\n")
        #expect(try call(ctx, "file.read", path) == "<VirtualHost>\n  SSLProtocol all -SSLv2 -SSLv3\n</VirtualHost>\n")
        #expect(try call(ctx, "file.read", path + ".bak") == "<VirtualHost>\n  SSLProtocol all -SSLv2\n</VirtualHost>\n")
        // A second run finds nothing to change.
        let again = try callWith(ctx, "file.replace", [.string(path)],
                                 ["pattern": "SSLProtocol all -SSLv2[ ]*$", "repl": "SSLProtocol all -SSLv2 -SSLv3"])
        #expect(again == "")
    }

    @Test func replaceGroupsFlagsAndAppend() throws {
        let ctx = try makeContext()
        let path = dir + "/conf"
        try write("Port 22\nport 2222\n", to: path)
        let changed = try callWith(ctx, "file.replace", [.string(path)],
                                   ["pattern": "^(port) (\\d+)$", "repl": "\\g<1> 8\\2", "flags": ["IGNORECASE", "MULTILINE"],
                                    "show_changes": false, "backup": false])
        #expect(changed == true)
        #expect(try call(ctx, "file.read", path) == "Port 822\nport 82222\n")
        _ = try callWith(ctx, "file.replace", [.string(path)],
                         ["pattern": "^Listen .*$", "repl": "Listen 80", "append_if_not_found": true, "backup": false])
        #expect(try call(ctx, "file.read", path) == "Port 822\nport 82222\nListen 80\n")
        #expect(!FileManager.default.fileExists(atPath: path + ".bak"))
        #expect(try call(ctx, "file.search", path, "^Listen") == true)
        #expect(try call(ctx, "file.search", path, "^nothing") == false)
        #expect(throws: BrineError.self) { try call(ctx, "file.replace", self.dir + "/nope", "a", "b") }
        #expect(try call(ctx, "file.replace", dir + "/nope", "a", "b", "ignore_if_missing=True") == false)
    }

    @Test func directoriesModesOwnersLinks() throws {
        let ctx = try makeContext()
        let nested = dir + "/x/y/z"
        #expect(try call(ctx, "file.mkdir", nested, "mode=750") == true)
        #expect(try call(ctx, "file.get_mode", nested) == "0750")
        let path = nested + "/f"
        #expect(try call(ctx, "file.touch", path) == true)
        #expect(try call(ctx, "file.set_mode", path, "0600") == "0600")
        #expect(try call(ctx, "file.set_mode", path, "644") == "0644")
        let stats = try call(ctx, "file.stats", path, "hash_type=sha256")
        #expect(stats["mode"] == "0644")
        #expect(stats["type"] == "file")
        #expect(stats["size"] == 0)
        #expect(stats["sum"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(try call(ctx, "file.stats", nested)["type"] == "dir")
        #expect(throws: BrineError.self) { try call(ctx, "file.stats", self.dir + "/missing") }
        try write("hello\n", to: path)
        #expect(try call(ctx, "file.get_hash", path) == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
        #expect(try call(ctx, "file.get_hash", path, "form=md5") == "b1946ac92492d2347c6235b4d2611184")
        let link = dir + "/link"
        #expect(try call(ctx, "file.symlink", path, link) == true)
        #expect(try call(ctx, "file.readlink", link) == .string(path))
        #expect(throws: BrineError.self) { try call(ctx, "file.symlink", path, link) }
        if isRoot {
            #expect(try call(ctx, "file.chown", path, "nobody", "nogroup") == nil)
            #expect(try call(ctx, "file.get_user", path) == "nobody")
            #expect(try call(ctx, "file.get_group", path) == "nogroup")
        }
        #expect(throws: BrineError.self) { try call(ctx, "file.chown", path, "no-such-user-x", "root") }
    }

    @Test func copyRemoveAndPaths() throws {
        let ctx = try makeContext()
        let src = dir + "/src"
        _ = try call(ctx, "file.mkdir", src + "/sub")
        try write("a", to: src + "/sub/a")
        #expect(throws: BrineError.self) { try call(ctx, "file.copy", src, self.dir + "/dst") }
        #expect(try call(ctx, "file.copy", src, dir + "/dst", "recurse=True") == true)
        #expect(try call(ctx, "file.read", dir + "/dst/sub/a") == "a")
        #expect(try call(ctx, "file.copy", src + "/sub/a", dir + "/single") == true)
        #expect(try call(ctx, "file.remove", dir + "/dst") == true)
        #expect(try call(ctx, "file.remove", dir + "/dst") == false)
        #expect(throws: BrineError.self) { try call(ctx, "file.remove", "relative/path") }
        #expect(try call(ctx, "file.dirname", "/a/b/c.txt") == "/a/b")
        #expect(try call(ctx, "file.basename", "/a/b/c.txt") == "c.txt")
        #expect(try call(ctx, "file.join", "/a", "b", "c") == "/a/b/c")
        #expect(try call(ctx, "file.join", "/a", "/b") == "/b")
        #expect(try call(ctx, "file.user_to_uid", "root") == 0)
        #expect(try call(ctx, "file.gid_to_group", "0") == "root")
    }
}
