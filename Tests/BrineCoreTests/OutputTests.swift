import Testing
@testable import BrineCore

/// Expected texts are Salt 3008.4's, from shared/reference/salt-cli-output.md.
@Suite struct OutputTests {
    @Test func nestedPing() {
        #expect(Outputter.nested.render(["m001": true]) == "m001:\n    True")
    }

    /// Multi-line strings split as Python's splitlines (\n, \r\n, \r), continuation
    /// lines indented under a list prefix, an empty string prints no line.
    @Test func nestedMultilineStrings() {
        #expect(Outputter.nested.render(["m": "a\r\nb\rc\n"]) == "m:\n    a\n    b\n    c")
        #expect(Outputter.nested.render(["m": ["x\ny", "é"]]) == "m:\n    - x\n      y\n    - é")
        #expect(Outputter.nested.render(["m": "", "n": 1]) == "m:\nn:\n    1")
    }

    @Test func nestedSortsKeysLikeSalt() {
        let data: Value = ["m001": ["osrelease": "12", "id": "m001", "os": "Debian"]]
        #expect(Outputter.nested.render(data) == "m001:\n    ----------\n    id:\n        m001\n    os:\n        Debian\n    osrelease:\n        12")
    }

    @Test func nestedRunAllLayout() {
        let data: Value = ["local": ["pid": 4450, "retcode": 1, "stderr": "", "stdout": "a\nb", "list": ["x", ["k": 1], [1]]]]
        let expected = """
            local:
                ----------
                list:
                    - x
                    |_
                      ----------
                      k:
                          1
                    |_
                      - 1
                pid:
                    4450
                retcode:
                    1
                stderr:
                stdout:
                    a
                    b
            """
        #expect(Outputter.nested.render(data) == expected)
    }

    @Test func nestedColours() {
        let out = Outputter.nested.render(["m001": true], options: .init(colors: .on))
        #expect(out == "\u{1B}[0;36mm001\u{1B}[0;0m:\n    \u{1B}[0;1;33mTrue\u{1B}[0;0m")
        let hi = Outputter.nested.render(["m001": "hi"], options: .init(colors: .on))
        #expect(hi == "\u{1B}[0;36mm001\u{1B}[0;0m:\n    \u{1B}[0;32mhi\u{1B}[0;0m")
    }

    @Test func txtAndJsonAndYaml() {
        #expect(Outputter.txt.render(["m001": true]) == "m001: True\n")
        #expect(Outputter.txt.render(["m001": "a\nb"]) == "m001: a\nm001: b\n")
        #expect(Outputter.json.render(["m001": true]) == "{\n    \"m001\": true\n}")
        #expect(Outputter.yaml.render(["local": true]) == "local: true")
        #expect(Outputter.quiet.render(["local": true]) == "")
    }
}
