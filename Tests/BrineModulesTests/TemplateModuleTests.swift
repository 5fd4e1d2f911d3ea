import BrineCore
import BrineModules
import Foundation
import Testing

/// slsutil, environ, random, hashutil and pkg.version_cmp answers, each
/// recorded from Salt 3008.4 on the same inputs (bench/compat/lines.sh).
@Suite struct TemplateModuleTests {
    @Test func slsutilSerializersAndBanner() throws {
        let ctx = try makeContext()
        let data: Value = ["b": [1, 2], "a": ["x": "y", "l": [["k": 1]]]]
        #expect(try callWith(ctx, "slsutil.serialize", ["yaml", data]) == "a:\n  l:\n  - {k: 1}\n  x: y\nb: [1, 2]")
        #expect(try callWith(ctx, "slsutil.serialize", ["json", ["b": [1, 2], "é": .null]]) == "{\"b\": [1, 2], \"é\": null}")
        #expect(try callWith(ctx, "slsutil.deserialize", ["yaml", "a: [1, 2]"]) == ["a": [1, 2]])
        #expect(try callWith(ctx, "slsutil.deserialize", ["json", "{\"z\": 1, \"a\": 2}"]).mapValue.map { Array($0.keys) } == ["z", "a"])
        #expect(try callWith(ctx, "slsutil.boolstr", [1]) == "true")
        #expect(try callWith(ctx, "slsutil.boolstr", [[], "y", "n"]) == "n")
        #expect(try callWith(ctx, "slsutil.banner", [], ["width": 40]) == """
            ########################################
            #                                      #
            #  THIS FILE IS MANAGED BY SALT - DO   #
            #               NOT EDIT               #
            #                                      #
            # The contents of this file are        #
            # managed by Salt. Any changes to this #
            # file may be overwritten              #
            # automatically and without warning.   #
            ########################################
            """)
        #expect(try callWith(ctx, "slsutil.banner", [], [
            "commentchar": "//", "borderchar": "-", "blockstart": "/*", "blockend": "*/", "title": "T",
            "text": "one two three four five six seven eight nine ten eleven twelve thirteen", "width": 30, "newline": true,
        ]) == """
            /*
            //--------------------------//
            //                          //
            //            T             //
            //                          //
            // one two three four five  //
            // six seven eight nine ten //
            // eleven twelve thirteen   //
            //--------------------------//
            */

            """)
    }

    @Test func environ() throws {
        let ctx = try makeContext()
        let home = ProcessInfo.processInfo.environment["HOME"] ?? ""
        #expect(try call(ctx, "environ.get", "HOME") == .string(home))
        #expect(try call(ctx, "environ.get", "NOPE_BRINE_X", "d") == "d")
        #expect(try call(ctx, "environ.has_value", "HOME") == true)
        #expect(try callWith(ctx, "environ.item", [["HOME", "NOPE_BRINE_X"]]) == ["HOME": .string(home), "NOPE_BRINE_X": ""])
    }

    /// Seeded answers are Salt's exact numbers (Python's Mersenne Twister).
    @Test func randomAsSalt() throws {
        let ctx = try makeContext()
        #expect(try callWith(ctx, "random.seed", [60, "web01"]) == 22)
        #expect(try callWith(ctx, "random.rand_int", [1, 100, 5]) == 80)
        #expect(try callWith(ctx, "random.rand_int", [1, 100, "abc"]) == 99)
        #expect(try callWith(ctx, "random.hash", ["x", "md5"]) == "9dd4e461268c8034f5c8564e155c67a6")
        #expect(try callWith(ctx, "random.str_encode", ["x"]) == "eA==")
        #expect(try callWith(ctx, "random.sample", [[1, 2, 3, 4], 2, "a"]) == [2, 4])
        #expect(try callWith(ctx, "random.shuffle", [[1, 2, 3, 4], "a"]) == [2, 4, 1, 3])
        // Ranges past 32 bits take two words, as CPython's getrandbits (python3's answers).
        #expect(try callWith(ctx, "random.rand_int", [1, 10_000_000_000, "x"]) == 7_004_179_924)
        #expect(try callWith(ctx, "random.seed", [5_000_000_000, "web01"]) == 1_523_098_701)
        #expect(try callWith(ctx, "random.rand_int", [0, .int(1 << 40), 12_345_678_901_234]) == 1_085_416_877_699)
        #expect(throws: BrineError.self) { try callWith(ctx, "random.rand_int", [.int(Int.min), .int(Int.max)]) }
        #expect(try callWith(ctx, "random.get_str", [12]).stringValue?.count == 12)
        #expect(try callWith(ctx, "random.get_str", [8], ["chars": "ab"]).stringValue?.allSatisfy { "ab".contains($0) } == true)
    }

    @Test func hashutil() throws {
        let ctx = try makeContext()
        #expect(try callWith(ctx, "hashutil.base64_b64encode", ["x"]) == "eA==")
        #expect(try callWith(ctx, "hashutil.base64_b64decode", ["eA=="]) == "x")
        #expect(try callWith(ctx, "hashutil.digest", ["x", "sha256"]) == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881")
        #expect(try callWith(ctx, "hashutil.hmac_compute", ["x", "k"]) == "c38edc8815c8489f64738978f44008f8596345545f0baa68ef6fcf5c53e57189")
        #expect(try callWith(ctx, "hashutil.hmac_signature", ["x", "k", "abc"]) == false)
        #expect(try callWith(ctx, "hashutil.base64_encodestring", [.string(String(repeating: "x", count: 60))])
            == .string(String(repeating: "eHh4", count: 19) + "\neHh4\n"))
    }

    /// dpkg's order: Salt gave -1 1 -1 0 -1 for these.
    @Test func debianVersionOrder() throws {
        let ctx = try makeContext()
        #expect(try call(ctx, "pkg.version_cmp", "1.0", "1.0-1") == -1)
        #expect(try callWith(ctx, "pkg.version_cmp", ["2:1.0", "1:9"]) == 1)
        #expect(try call(ctx, "pkg.version_cmp", "1.0~rc1", "1.0") == -1)
        #expect(try call(ctx, "pkg.version_cmp", "1.0", "1.0") == 0)
        #expect(try callWith(ctx, "pkg.version_cmp", ["1:1.0", "2.0"], ["ignore_epoch": true]) == -1)
        // Checked against dpkg itself on more shapes.
        for (a, b) in [("1.2.3", "1.2.10"), ("1.0a", "1.0"), ("1.0+b1", "1.0"), ("0.9~", "0.9"), ("1.0-1~bpo", "1.0-1"), ("10", "9")] {
            let dpkgSaysLess = (try? ProcessRunner().run(Command(["dpkg", "--compare-versions", a, "lt", b])).retcode) == 0
            #expect((DebianVersion.compare(a, b) < 0) == dpkgSaysLess, "\(a) vs \(b)")
        }
    }

    /// file.find, readdir and access over a real tree; Salt's answers for
    /// the same tree and calls.
    @Test func fileFind() throws {
        let ctx = try makeContext()
        let root = makeTempDir("find")
        defer { try? FileManager.default.removeItem(atPath: root) }
        for dir in ["a/b", "c"] { try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        for file in ["x.txt", "a/y.txt", "a/b/z.TXT", "c/w.conf"] { try Data().write(to: URL(fileURLWithPath: root + "/" + file)) }
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/x.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/broken", withDestinationPath: "/nonexistent-brine")
        func find(_ options: [String: Value]) throws -> [String] {
            try callWith(ctx, "file.find", [.string(root)], options).listValue?.map { $0.pythonString.replacingOccurrences(of: root, with: "R") } ?? []
        }
        #expect(try find([:]) == ["R", "R/a", "R/a/b", "R/a/b/z.TXT", "R/a/y.txt", "R/broken", "R/c", "R/c/w.conf", "R/link", "R/x.txt"])
        #expect(try find(["name": "*.txt"]) == ["R/a/y.txt", "R/x.txt"])
        #expect(try find(["iname": "*.txt"]) == ["R/a/b/z.TXT", "R/a/y.txt", "R/x.txt"])
        #expect(try find(["type": "d"]) == ["R", "R/a", "R/a/b", "R/c"])
        #expect(try find(["type": "l"]) == ["R/broken"])
        #expect(try find(["type": "f", "maxdepth": 1]) == ["R/link", "R/x.txt"])
        #expect(try find(["mindepth": 2, "print": "name"]) == ["b", "w.conf", "y.txt", "z.TXT"])
        #expect(try find(["regex": "a/"]) == [])
        #expect(try find(["name": "?.conf"]) == ["R/c/w.conf"])
        #expect(try callWith(ctx, "file.readdir", [.string(root + "/a")]).listValue?.map(\.pythonString).sorted() == [".", "..", "b", "y.txt"])
        #expect(try callWith(ctx, "file.access", [.string(root + "/x.txt"), "f"]) == true)
        #expect(try callWith(ctx, "file.access", [.string(root + "/nope"), "r"]) == false)
        #expect(throws: BrineError.self) { try callWith(ctx, "file.access", [.string(root), 4_294_967_296]) }
        #expect(throws: BrineError.self) { try callWith(ctx, "file.access", [.string(root), 7]) }
        #expect(try callWith(ctx, "file.find", [.string(root)], ["mtime": "+1d"]).stringValue?.hasPrefix("error:") == true)
    }

    /// grains.setval/append/delval write the config dir's grains file as
    /// Salt does (answers recorded from salt-call 3008.4).
    @Test func grainsWriters() throws {
        let ctx = try makeContext()
        let file = ctx.opts.configDir + "/grains"
        #expect(try callWith(ctx, "grains.setval", ["testgrain", ["a": 1]]) == ["testgrain": ["a": 1]])
        #expect(try callWith(ctx, "grains.setval", ["a:b", 1]) == ["a:b": 1])  // literal key, as Salt's setvals
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "a:b: 1\ntestgrain:\n  a: 1\n")
        _ = try callWith(ctx, "grains.setval", ["a:b", .null], ["destructive": true])
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "testgrain:\n  a: 1\n")
        #expect(try callWith(ctx, "grains.append", ["roles", "web"]) == ["roles": ["web"]])
        #expect(try callWith(ctx, "grains.append", ["roles", "web"]) == "The val web was already in the list roles")
        // A list's items are appended one by one; a nested key is written through its parent.
        #expect(try callWith(ctx, "grains.append", ["tags", ["db", "cache"]]) == ["tags": ["db", "cache"]])
        #expect(try callWith(ctx, "grains.append", ["app:tags", "x"]) == ["app": ["tags": ["x"]]])
        #expect(try callWith(ctx, "grains.append", ["os", "x"]) == "The key os is not a valid list")
        _ = try callWith(ctx, "grains.setvals", [["tags": .null, "app": .null]], ["destructive": true])
        #expect(try callWith(ctx, "grains.delval", ["testgrain"])
            == ["comment": "The key 'testgrain' exists but is a dict or a list. Use 'force=True' to overwrite.", "changes": [:], "result": false])
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "roles:\n- web\ntestgrain:\n  a: 1\n")
        _ = try callWith(ctx, "grains.delkey", ["testgrain"], ["force": true])
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "roles:\n- web\n")
        #expect(try callWith(ctx, "saltutil.running") == [])
        #expect(try callWith(ctx, "saltutil.sync_all")["modules"] == [])
        let hash = try callWith(ctx, "file.get_sum", [.string(file)]).stringValue ?? ""
        #expect(try callWith(ctx, "file.check_hash", [.string(file), .string("sha256=" + hash)]) == true)
        #expect(try callWith(ctx, "file.check_hash", [.string(file), "sha256:abc"]) == false)
        #expect(try callWith(ctx, "file.is_link", [.string(file)]) == false)
    }

    /// cp.get_file/get_dir/get_url as salt-call 3008.4 answered on the same tree.
    @Test func cpCopies() throws {
        let root = makeTempDir("cp"), out = makeTempDir("cp-out")
        defer { for dir in [root, out] { try? FileManager.default.removeItem(atPath: dir) } }
        for dir in ["d/sub"] { try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        for (file, text) in [("f.txt", "hello\n"), ("d/a", "a\n"), ("d/sub/b", "b\n")] { try text.write(toFile: root + "/" + file, atomically: true, encoding: .utf8) }
        let ctx = try makeContext(fileRoot: root)
        #expect(try callWith(ctx, "cp.get_file", ["salt://f.txt", .string(out + "/")]) == .string(out + "/f.txt"))
        #expect(try callWith(ctx, "cp.get_file", ["salt://f.txt", .string(out + "/new/x.txt")]) == false)
        #expect(try callWith(ctx, "cp.get_file", ["salt://f.txt", .string(out + "/new/x.txt")], ["makedirs": true]) == .string(out + "/new/x.txt"))
        #expect(try callWith(ctx, "cp.get_file", ["salt://nope", .string(out + "/n")]) == "")
        #expect(try callWith(ctx, "cp.get_dir", ["salt://d", .string(out + "/dd")]) == [.string(out + "/dd/d/a"), .string(out + "/dd/d/sub/b")])
        #expect(try String(contentsOfFile: out + "/dd/d/sub/b", encoding: .utf8) == "b\n")
        #expect(try callWith(ctx, "cp.get_url", ["file:///etc/hostname", .string(out + "/h")]) == "/etc/hostname")
        #expect(try callWith(ctx, "cp.get_url", ["salt://f.txt", .string(out + "/u.txt")]) == .string(out + "/u.txt"))
        #expect(try callWith(ctx, "cp.push", ["/etc/hostname"]) == false)
        #expect(throws: BrineError.self) { try callWith(ctx, "cp.get_dir", [.string(root + "/d"), .string(out + "/x")]) }
    }
}
