import Testing

@testable import BrineCore

/// Issue 15 (3): targets are parsed once, with bounds, before any minion is
/// looked at; nothing in a target can overflow the stack or stall a thread.
@Suite struct TargetTests {
    @Test func deepNestingIsRefusedNotACrash() throws {
        let deep = String(repeating: "( ", count: 100_000) + "m1" + String(repeating: " )", count: 100_000)
        #expect(throws: BrineError.self) { try Target(deep, type: "compound") }
        let unbalanced = String(repeating: "(", count: 100_000) + "m1"
        #expect(throws: BrineError.self) { try Target(unbalanced, type: "compound") }
        let nots = String(repeating: "not ", count: 100_000) + "m1"
        #expect(throws: BrineError.self) { try Target(nots, type: "compound") }
        // Long flat expressions are fine: and/or chains do not nest.
        let flat = (0..<5000).map { "m\($0)" }.joined(separator: " or ")
        #expect(try Target(flat, type: "compound").matches(minionID: "m4999", grains: .emptyMap, pillar: .emptyMap))
        #expect(throws: BrineError.self) { try Target(String(repeating: "x", count: Target.maximumLength + 1), type: "glob") }
    }

    @Test func nodegroupsThatNameThemselvesAreRefused() {
        let groups: [String: Value] = ["a": "N@b or web*", "b": "N@a"]
        #expect(throws: BrineError.self) { try Target("a", type: "nodegroup", nodegroups: groups) }
        // Each naming the next twice: 2^40 terms if expanded, refused at the term budget.
        var doubling: [String: Value] = ["g40": "web*"]
        for level in 0..<40 { doubling["g\(level)"] = .string("N@g\(level + 1) or N@g\(level + 1)") }
        #expect(throws: BrineError.self) { try Target("g0", type: "nodegroup", nodegroups: doubling) }
    }

    @Test func catastrophicRegexesStopAtTheDeadline() throws {
        let id = String(repeating: "a", count: 40) + "b"
        let target = try Target("(a+)+$", type: "pcre")
        let started = ContinuousClock.now
        #expect(throws: BrineError.self) {
            try target.matches(minionID: id, grains: .emptyMap, pillar: .emptyMap, deadline: .now + .milliseconds(200))
        }
        // Without the deadline this match takes longer than the universe has left.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(try Target("a+b", type: "pcre").matches(minionID: id, grains: .emptyMap, pillar: .emptyMap))
    }

    @Test func compoundMatchesAsBefore() throws {
        let grains: Value = ["os": "Debian", "roles": ["web", "db"], "ipv4": ["127.0.0.1", "10.1.2.3"]]
        func matches(_ expression: String) throws -> Bool {
            try Target(expression, type: "compound").matches(minionID: "web01", grains: grains, pillar: ["app": ["tier": "front"]])
        }
        #expect(try matches("G@os:Debian and web*"))
        #expect(try matches("G@os:RedHat or L@x,web01"))
        #expect(try !matches("web* and not G@os:Debian"))
        #expect(try matches("( G@roles:db or G@roles:x ) and S@10.1.0.0/16"))
        #expect(try matches("I@app:tier:front and E@web\\d+"))
        #expect(try Target("I@app:tier:front", type: "compound").usesPillar)
        #expect(try !Target("G@os:Debian", type: "compound").usesPillar)
        // What needs grains says so (the publisher copies them only then): S@ matches the ipv4 grain.
        for expression in ["G@os:Debian", "S@10.1.0.0/16", "web* or I@app:tier:front", "not P@os:D.*"] {
            #expect(try Target(expression, type: "compound").usesMinionData, "\(expression)")
        }
        #expect(try !Target("web* or L@a,b or E@x.*", type: "compound").usesMinionData)
    }

    @Test func numbersFromRequestsAreBounded() throws {
        for bad in [Double.nan, .infinity, -.infinity, 1e300, -1] {
            #expect(throws: BrineError.self) { try BoundedNumber.int(bad, field: "maxTime", in: 1...86_400_000) }
            #expect(throws: BrineError.self) { try BoundedNumber.double(bad, field: "timeout", in: 0...1e6) }
        }
        #expect(try BoundedNumber.int(2.9, field: "x", in: 1...10) == 2)
        #expect(BoundedNumber.nanoseconds(.infinity) == 0 && BoundedNumber.nanoseconds(1e300) == 9_000_000_000_000_000_000)
    }

    @Test func logTextEscapesWhatCouldForgeALine() {
        #expect(LogText.escape("m1\n[master] minion evil connected") == "m1\\u{a}[master] minion evil connected")
        #expect(LogText.escape("a\u{202E}b\u{200B}c\0") == "a\\u{202e}b\\u{200b}c\\u{0}")
        #expect(LogText.escape(String(repeating: "x", count: 600)).hasSuffix("…(600 characters)"))
    }
}
