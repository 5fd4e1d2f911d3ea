import BrineCore
@testable import BrineModules
import Foundation
import Testing

/// What the session's new readers make of broken or hostile text (client
/// output, engine frames, requirement lines, grant statements): an answer,
/// never a trap. Inputs come from a fixed seed, as HostileInputTests' do.
@Suite struct ParserHostileInputTests {
    /// A small deterministic generator (no dependence on the run).
    struct Seeded {
        var state: UInt64
        mutating func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        mutating func bytes(_ count: Int, from alphabet: [UInt8]) -> [UInt8] { (0..<count).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] } }
    }

    @Test func brokenTextGetsAnAnswer() {
        var random = Seeded(state: 17)
        let xmlish = Array("<>/=\"' &;#x0123456789abcfield name=xsi:nil\"true\"rowresultset\n\t".utf8)
        let sqlish = Array("`'\"(),.@*; \\-_aZ9\n".utf8)
        let versionish = Array("0123456789.!+-_vabcrdevpostpreview*~=<>, []".utf8)
        for round in 0..<400 {
            let length = Int(random.next() % 300)
            _ = MySQLXML.resultSets(String(decoding: random.bytes(length, from: xmlish), as: UTF8.self))
            _ = CSVReader.records(String(decoding: random.bytes(length, from: Array("\",\n\r ab".utf8)), as: UTF8.self))
            let grant = String(decoding: random.bytes(length % 120, from: sqlish), as: UTF8.self)
            _ = GrantLexer.tokens(grant)
            _ = MySQLModule.grantTokens("GRANT " + grant)
            _ = try? MySQLModule.generateGrant(grant, grant, account: "A", grantOption: round % 2 == 0, escape: true)
            let requirement = String(decoding: random.bytes(length % 60, from: versionish), as: UTF8.self)
            if let parsed = PEP440.requirement(requirement) { _ = PEP440.satisfies(requirement, parsed.specifiers) }
            _ = PEP440.satisfies(requirement, [("~=", requirement), ("==", requirement + ".*"), (">", requirement)])
            // engine frames with sizes that lie
            var frames = random.bytes(length, from: Array(0...255))
            if frames.count >= 8 { frames[0] = UInt8(random.next() % 3) }
            _ = DockerEngine.demultiplexed(frames)
            _ = MySQLConnection.failure(String(decoding: random.bytes(length % 80, from: Array("ERROR 123 (HY000) at line: ".utf8)), as: UTF8.self))
        }
        // the cases written out
        #expect(MySQLXML.resultSets("<resultset><row><field name=\"a\">1</field><field name=\"b\" broken") == [.init(columns: ["a", "b"], rows: [["1", nil]])])
        #expect(DockerEngine.demultiplexed([1, 0, 0, 0, 255, 255, 255, 255, 65]) == ("\u{1}\0\0\0\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}A", ""))
        #expect(GrantLexer.tokens("GRANT `unterminated") == ["GRANT", "`unterminated"])
        #expect(PEP440.requirement("9999999999999999999999==1") != nil && !PEP440.satisfies("1", [("==", "99999999999999999999")]))
        #expect(MySQLConnection.failure("ERROR 99999999999999999999999 (x): too big").message == "too big")
    }
}
