import BrineCore
import Testing

@testable import BrineMinion

/// `master` as Salt's users write it: a name, a list, `host:port` entries
/// (IPv6 in brackets); a bad entry is refused with what to write instead.
@Suite struct MasterListTests {
    func list(_ master: Value, port: Int = 4506, random: Bool = false) throws -> [String] {
        var opts = Config(role: .minion, options: [:], configDir: "/tmp")
        opts["master"] = master
        opts["master_port"] = .int(port)
        opts["random_master"] = .bool(random)
        return try MasterList(opts).addresses.map(\.description)
    }

    @Test func namesListsAndPorts() throws {
        #expect(try list("salt") == ["salt:4506"])
        #expect(try list("salt", port: 5506) == ["salt:5506"])
        #expect(try list(["salt1:4510", "10.0.0.2", "[::1]:4511", "[fe80::1]", "::1"])
            == ["salt1:4510", "10.0.0.2:4506", "[::1]:4511", "[fe80::1]:4506", "[::1]:4506"])
        #expect(Set(try list(["a", "b", "c"], random: true)) == ["a:4506", "b:4506", "c:4506"])
    }

    @Test func badEntriesAreExplained() {
        for (entry, words) in [("salt:0", "the port must be a number from 1 to 65535"), ("salt:http", "the port must be a number"),
                               ("[::1", "needs its ']'"), ("[::1]4506", "expected ':PORT'"), ("", "is empty")] {
            #expect(throws: BrineError.self) { try list(.list([.string(entry)])) }
            do { _ = try list(.list([.string(entry)])) } catch { #expect("\(error)".contains(words), "\(entry): \(error)") }
        }
        #expect(throws: BrineError.self) { try list(.list([])) }
    }
}
