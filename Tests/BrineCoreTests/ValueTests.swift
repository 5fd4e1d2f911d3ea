import Testing
@testable import BrineCore

@Suite struct ValueTests {
    @Test func traverseMapsAndLists() {
        let data: Value = ["apache": ["sites": ["example.org": ["port": 80]]], "list": ["a", "b", ["k": "v"]]]
        #expect(data.traverse("apache:sites:example.org:port") == 80)
        #expect(data.traverse("list:1") == "b")
        #expect(data.traverse("list:k") == "v")
        #expect(data.traverse("apache:nope") == nil)
        #expect(data.traverse("apache/sites", delimiter: "/")?.mapValue?.count == 1)
    }

    @Test func mergeIsRecursive() {
        let base: Value = ["a": ["x": 1, "y": [1]], "b": 1]
        let overlay: Value = ["a": ["y": [2], "z": 3], "c": 4]
        #expect(base.merged(with: overlay) == ["a": ["x": 1, "y": [2], "z": 3], "b": 1, "c": 4])
        #expect(base.merged(with: overlay, mergeLists: true)["a"]?["y"] == [1, 2])
    }

    @Test func pythonText() {
        #expect(Value.list(["a", 1, true, nil, 1.5]).pythonRepr == "['a', 1, True, None, 1.5]")
        #expect(Value.map(["k": "it's"]).pythonRepr == #"{'k': "it's"}"#)
        #expect(Value.float(3).pythonString == "3.0")
        #expect(Value.float(1e20).pythonString == "1e+20")
        #expect(Value.float(0.0001).pythonString == "0.0001")
    }

    @Test func flags() {
        #expect(Value.string("True").asFlag)
        #expect(Value.string("yes").asFlag)
        #expect(!Value.string("False").asFlag)
        #expect(!Value.int(0).asFlag)
    }
}

@Suite struct CallArgumentsTests {
    @Test func keywordsAndYamlTyping() {
        let parsed = CallArguments.parse(["1", "True", "[a, b]", "hello world", "x=0644", "y=None", "z={a: 1}",
                                          "a==b", "k=v=w", "1x=2", "a:b", "#c", "1_000", "{not: closed"])
        #expect(parsed.positional == [1, true, ["a", "b"], "hello world", "a==b", "1x=2", "a:b", "#c", "1_000", "{not: closed"])
        #expect(parsed.keyword == ["x": 644, "y": nil, "z": ["a": 1], "k": "v=w"])
    }
}

@Suite struct GlobTests {
    @Test func fnmatchSemantics() {
        #expect(Glob.match("web01", "web*"))
        #expect(Glob.match("web01", "web0?"))
        #expect(Glob.match("m002", "m00[1-3]"))
        #expect(!Glob.match("m004", "m00[1-3]"))
        #expect(Glob.match("m004", "m00[!1-3]"))
        #expect(Glob.match("anything", "*"))
        #expect(!Glob.match("db1", "web*"))
        #expect(Glob.match("a[b", "a[b"))
        #expect(Glob.match("", "*"))
        #expect(!Glob.match("Web", "web"))
    }
}

@Suite struct MatcherTests {
    let matcher = Matcher(minionID: "web01", grains: ["os": "Debian", "roles": ["web", "db"], "ipv4": ["127.0.0.1", "10.1.2.3"]],
                          pillar: ["role": "frontend"], nodegroups: ["webs": "web*"])

    @Test func simpleTypes() throws {
        #expect(try matcher.matches("web*", type: "glob"))
        #expect(try matcher.matches("web\\d+", type: "pcre"))
        #expect(try matcher.matches("db1,web01", type: "list"))
        #expect(try matcher.matches("os:Deb*", type: "grain"))
        #expect(try matcher.matches("roles:db", type: "grain"))
        #expect(try !matcher.matches("os:RedHat", type: "grain"))
        #expect(try matcher.matches("role:front.*", type: "pillar_pcre"))
        #expect(try matcher.matches("10.1.0.0/16", type: "ipcidr"))
        #expect(try !matcher.matches("192.168.0.0/16", type: "ipcidr"))
        #expect(try matcher.matches("webs", type: "nodegroup"))
    }

    @Test func compound() throws {
        #expect(try matcher.compound("G@os:Debian and web*"))
        #expect(try matcher.compound("G@os:RedHat or L@x,web01"))
        #expect(try !matcher.compound("web* and not G@os:Debian"))
        #expect(try matcher.compound("( E@db.* or I@role:frontend ) and S@127.0.0.0/8"))
        #expect(try matcher.compound("N@webs"))
        #expect(throws: BrineError.self) { try matcher.compound("web* and") }
        #expect(throws: BrineError.self) { try matcher.matches("x", type: "bogus") }
    }
}

@Suite struct DiffTests {
    @Test func matchesPythonDifflib() {
        let old = "line1\nSSLProtocol all -SSLv2\nline3\nline4\nline5\nline6\nline7\nline8\nend\n"
        let new = "line1\nSSLProtocol all -SSLv2 -SSLv3\nline3\nline4\nline5\nline6\nline7\nline8\nEND\n"
        // Produced by Python 3.11: ''.join(difflib.unified_diff(a, b))
        let expected = "--- \n+++ \n@@ -1,9 +1,9 @@\n line1\n-SSLProtocol all -SSLv2\n+SSLProtocol all -SSLv2 -SSLv3\n line3\n line4\n line5\n line6\n line7\n line8\n-end\n+END\n"
        #expect(Diff.unified(old, new) == expected)
        #expect(Diff.unified("same\n", "same\n") == "")
    }

    @Test func hunksThatOpenWithDeletions() {
        // Python 3.11 difflib: "@@ -1,3 +1 @@" and "@@ -1,2 +1,3 @@"
        #expect(Diff.unified("\nThe programs\nthe exact\n", "Configured by brine on jessie1")
            == "--- \n+++ \n@@ -1,3 +1 @@\n-\n-The programs\n-the exact\n+Configured by brine on jessie1\n\\ No newline at end of file\n")
        #expect(Diff.unified("x\ny\n", "a\nb\ny\n") == "--- \n+++ \n@@ -1,2 +1,3 @@\n-x\n+a\n+b\n y\n")
    }

    @Test func separateHunks() {
        let old = (1...20).map { "l\($0)\n" }.joined()
        let new = old.replacingOccurrences(of: "l2\n", with: "L2\n").replacingOccurrences(of: "l18\n", with: "")
        let expected = "--- \n+++ \n@@ -1,5 +1,5 @@\n l1\n-l2\n+L2\n l3\n l4\n l5\n@@ -15,6 +15,5 @@\n l15\n l16\n l17\n-l18\n l19\n l20\n"
        #expect(Diff.unified(old, new) == expected)
    }
}
