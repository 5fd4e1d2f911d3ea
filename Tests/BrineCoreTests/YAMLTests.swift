import Testing
@testable import BrineCore

@Suite struct YAMLTests {
    @Test func keepsMappingOrder() throws {
        let value = try YAML.decode("zeta: 1\nalpha: 2\nmid: 3\n")
        #expect(value.mapValue?.keys.elementsEqual(["zeta", "alpha", "mid"]) == true)
    }

    @Test func yaml11BooleansAndNull() throws {
        let value = try YAML.decode("a: yes\nb: No\nc: on\nd: OFF\ne: ~\nf:\ng: 'yes'\nh: True\n")
        #expect(value["a"] == .bool(true))
        #expect(value["b"] == .bool(false))
        #expect(value["c"] == .bool(true))
        #expect(value["d"] == .bool(false))
        #expect(value["e"] == .null)
        #expect(value["f"] == .null)
        #expect(value["g"] == .string("yes"))
        #expect(value["h"] == .bool(true))
    }

    @Test func leadingZeroIntegersReadAsSaltDoes() throws {
        let value = try YAML.decode("mode: 0644\nzero: 0\nhex: 0x1F\nbin: 0b101\nnine: 09\nquoted: '0644'\nneg: -012\n")
        #expect(value["mode"] == .int(644))
        #expect(value["zero"] == .int(0))
        #expect(value["hex"] == .int(31))
        #expect(value["bin"] == .int(5))
        #expect(value["nine"] == .string("09"))
        #expect(value["quoted"] == .string("0644"))
        #expect(value["neg"] == .int(-12))
    }

    @Test func numbersFollowPyYAML() throws {
        let value = try YAML.decode("f: 1.5\ng: 1e3\nh: 1.0e+3\ni: .5\nj: 1_000\nk: 1:30\nl: .inf\nm: 12.04\n")
        #expect(value["f"] == .float(1.5))
        #expect(value["g"] == .string("1e3"))
        #expect(value["h"] == .float(1000))
        #expect(value["i"] == .float(0.5))
        #expect(value["j"] == .int(1000))
        #expect(value["k"] == .int(90))
        #expect(value["l"] == .float(.infinity))
        #expect(value["m"] == .float(12.04))
    }

    @Test func duplicateKeyIsAnErrorWithTheLine() {
        let text = "first: 1\nsecond:\n  a: 1\n  a: 2\n"
        #expect {
            try YAML.decode(text, file: "dup.sls")
        } throws: { error in
            guard let error = error as? BrineError else { return false }
            return error.kind == .yaml && error.location?.file == "dup.sls" && error.location?.line == 3
                && error.message.contains("'a'")
        }
    }

    @Test func syntaxErrorNamesFileAndLine() {
        #expect {
            try YAML.decode("a: 1\nb: [1, 2\nc: 3\n", file: "bad.sls")
        } throws: { error in
            guard let error = error as? BrineError else { return false }
            return error.kind == .yaml && error.location?.file == "bad.sls" && (error.location?.line ?? 0) >= 2
        }
    }

    @Test func mergeKeysAndAnchors() throws {
        let value = try YAML.decode("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n")
        #expect(value["child"] == ["x": 1, "y": 3])
    }

    @Test func explicitTagsWin() throws {
        let value = try YAML.decode("a: !!str 0644\nb: !!int '12'\n")
        #expect(value["a"] == .string("0644"))
        #expect(value["b"] == .int(12))
    }

    @Test func encodeRoundTrips() throws {
        let original: Value = ["name": "web", "ports": [80, 443], "flags": ["enabled": true, "mode": "0644", "note": "yes"],
                               "empty": [:], "none": nil, "text": "a: b", "list": [["k": "v"], [1, 2]]]
        let text = YAML.encode(original)
        #expect(try YAML.decode(text) == original)
        #expect(text.contains("mode: '0644'"))
        #expect(text.contains("note: 'yes'"))
    }

    @Test func encodeBlockLayout() {
        let text = YAML.encode(["local": ["a": [1, 2], "b": "x"]])
        #expect(text == "local:\n  a:\n  - 1\n  - 2\n  b: x\n")
    }
}

@Suite struct JSONTests {
    @Test func encodesLikePythonWithIndent4() {
        let data: Value = ["local": ["b": [1, 2.5, true, nil], "a": [:], "c": [], "s": "x\"y"]]
        let expected = """
            {
                "local": {
                    "b": [
                        1,
                        2.5,
                        true,
                        null
                    ],
                    "a": {},
                    "c": [],
                    "s": "x\\"y"
                }
            }
            """
        #expect(JSON.encode(data) == expected)
        #expect(JSON.encode(["a": [1, 2]], indent: nil) == #"{"a": [1, 2]}"#)
    }

    @Test func decodeKeepsOrderAndTypes() throws {
        let value = try JSON.decode(#"{"z": 1, "a": 1.0, "m": true, "n": null, "s": "\u00e9\n", "l": [1, "x"]}"#)
        #expect(value.mapValue?.keys.elementsEqual(["z", "a", "m", "n", "s", "l"]) == true)
        #expect(value["z"] == .int(1))
        #expect(value["a"] == .float(1.0))
        #expect(value["m"] == .bool(true))
        #expect(value["n"] == .null)
        #expect(value["s"] == .string("é\n"))
    }

    @Test func decodeErrorHasLine() {
        #expect {
            try JSON.decode("{\n\"a\": 1,\n\"b\" 2\n}", file: "x.json")
        } throws: { error in
            (error as? BrineError)?.location?.line == 3
        }
    }

    @Test func roundTrip() throws {
        let value: Value = ["a": [1, -2, 3.25, "x", nil, false], "b": ["c": "ü\t"]]
        #expect(try JSON.decode(JSON.encode(value)) == value)
        #expect(try JSON.decode(JSON.encode(value, indent: nil)) == value)
    }
}

@Suite struct MessagePackTests {
    @Test func roundTripsEveryKind() throws {
        let long = String(repeating: "x", count: 70_000)
        let value: Value = ["null": nil, "t": true, "f": false, "small": 5, "neg": -5, "neg8": -100, "i16": 300,
                            "i32": 70_000, "i64": 5_000_000_000, "min": .int(Int.min), "max": .int(Int.max),
                            "float": 1.25, "s": "héllo", "long": .string(long),
                            "list": .list((0..<20).map { .int($0) }), "map": ["k": ["nested": [1, "two"]]]]
        #expect(try MessagePack.decode(MessagePack.encode(value)) == value)
    }

    @Test func knownEncodings() {
        #expect(MessagePack.encode(nil) == [0xc0])
        #expect(MessagePack.encode(true) == [0xc3])
        #expect(MessagePack.encode(127) == [0x7f])
        #expect(MessagePack.encode(-1) == [0xff])
        #expect(MessagePack.encode(256) == [0xcd, 0x01, 0x00])
        #expect(MessagePack.encode("a") == [0xa1, 0x61])
        #expect(MessagePack.encode(["a": 1]) == [0x81, 0xa1, 0x61, 0x01])
    }

    @Test func hostileInputIsAnErrorNotACrash() {
        let cases: [[UInt8]] = [
            [], [0xdd, 0xff, 0xff, 0xff, 0xff], [0xdf, 0x7f, 0xff, 0xff, 0xff], [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61],
            [0xcb, 0x00], [0xc1], [0x91], [0xa5, 0x61], [0x81, 0xa1, 0x61],
            Array(repeating: 0x91, count: 10_000) + [0x01],
        ]
        for bytes in cases {
            #expect(throws: BrineError.self) { try MessagePack.decode(bytes) }
        }
        #expect(throws: BrineError.self) { try MessagePack.decode([0x01, 0x02]) }
    }
}

/// libyaml's events are built into values directly: errors keep their file and line.
@Suite struct YAMLEventDecoderTests {
    @Test func eventDecoderErrorsAndEdges() throws {
        func failure(_ text: String) -> BrineError? {
            do { _ = try YAML.decode(text, file: "e.sls"); return nil } catch { return error }
        }
        let alias = failure("a: 1\nb: *nowhere\n")
        #expect(alias?.message == "found undefined alias 'nowhere'" && alias?.location?.line == 2)
        let twoDocs = failure("a: 1\n---\nb: 2\n")
        #expect(twoDocs?.message.hasPrefix("expected a single document") == true && twoDocs?.location?.line == 2)
        let deep = failure(String(repeating: "[", count: 600) + String(repeating: "]", count: 600))
        #expect(deep?.message == "nesting deeper than 512 levels")
        let dups = failure("top:\n  b: 1\n  a: 1\n  b: 2\n  a: 2\n")
        #expect(dups?.message == "found conflicting ID 'a', 'b': first defined on this line, then again in the same mapping")
        #expect(dups?.location?.line == 3 && dups?.location?.file == "e.sls")
        let scanner = failure("a: 'open\n")
        #expect(scanner?.kind == .yaml && scanner?.location?.line != nil)
        // aliases as values and keys, anchors on collections, typed keys
        // (a complex key is refused, as Salt's loader refuses it)
        let value = try YAML.decode("k: &k name\nl: &l [1, 2]\n*k : aliased\ncopy: *l\nyes: t\n1: one\n~: n\n")
        #expect(value["name"] == "aliased")
        #expect(value["copy"] == [1, 2])
        #expect(failure("? [x, y]\n: complex\n")?.location?.line == 1)
        #expect(value["True"] == "t" && value["1"] == "one" && value["None"] == "n")
        #expect(try YAML.decode("") == .null && YAML.decode("# only a comment\n") == .null && YAML.decode("---\n") == .null)
        #expect(try YAML.decode("a:\n  - b\n  -\n  - 'c'\n")["a"] == ["b", .null, "c"])
    }
}

/// Salt's YAML loader refuses keys Python cannot hash (a `{{ … }}` left
/// unquoted reads as a mapping inside a mapping).
@Suite struct YAMLUnhashableKeyTests {
    @Test func collectionKeysRefused() {
        #expect(throws: BrineError.self) { try YAML.decode("{{ a }}: 1\n") }
        #expect(throws: BrineError.self) { try YAML.decode("? [1, 2]\n: x\n") }
        #expect((try? YAML.decode("'{{ a }}': 1\n")) == ["{{ a }}": 1])
    }
}

/// Explicit collection and scalar tags as Salt 3008's loader reads them
/// (recorded with bench/compat/oracle.sh).
@Suite struct YAMLTagTests {
    @Test func tagsAsSalt() throws {
        #expect(try YAML.decode("p: !!pairs [{k: 1}, {k: 2}]\n") == ["p": [["k", 1], ["k", 2]]])
        #expect(try YAML.decode("f: !!float 1\n") == ["f": .float(1)])
        #expect(try YAML.decode("o: !!omap {z: 1, a: 2}\n").mapValue?["o"]?.mapValue.map { Array($0.keys) } == ["z", "a"])
        #expect(throws: BrineError.self) { try YAML.decode("o: !!omap [{z: 1}, {a: 2}]\n") }
        #expect(throws: BrineError.self) { try YAML.decode("p: !!pairs [{k: 1, j: 2}]\n") }
    }
}
