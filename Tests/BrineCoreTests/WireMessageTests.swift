import Testing

@testable import BrineCore

/// Messages round-trip, and a type this build does not know is skipped by
/// `decodeKnown` (a newer master's message must not cut an older minion off).
@Suite struct WireMessageTests {
    static let everyKind: [WireMessage] = [
        .hello(id: "m1", grains: ["os": "Debian"]), .status("accepted"), .job(jid: "1", fun: "test.ping", arguments: CallArguments()),
        .jobReturn(jid: "1", id: "m1", value: true, retcode: 0), .returnAck(jid: "1"),
        .publish(target: "*", targetType: "glob", fun: "test.ping", arguments: CallArguments(), timeout: 5, batch: ""),
        .published(jid: "1", minions: ["m1"]), .done(jid: "1", notConnected: [], noResponse: ["m2"]), .failure("no"),
        .request(rid: 1, kind: "file", path: "salt://x", saltenv: "base"), .reply(rid: 1, data: .null),
    ]

    @Test func everyKindRoundTripsAndIsKnown() throws {
        for message in Self.everyKind {
            #expect(try WireMessage.decode(message.encoded()) == message)
            #expect(try WireMessage.decodeKnown(message.encoded()) == message)
        }
        #expect(Set(Self.everyKind.compactMap { $0.value["type"]?.stringValue }) == WireMessage.knownTypes)
    }

    @Test func unknownTypesAreSkippedMalformedOnesAreNot() throws {
        #expect(try WireMessage.decodeKnown(MessagePack.encode(["type": "from_the_future", "x": 1])) == nil)
        #expect(throws: BrineError.self) { try WireMessage.decode(MessagePack.encode(["type": "from_the_future"])) }
        #expect(throws: BrineError.self) { try WireMessage.decodeKnown(MessagePack.encode(["type": "job"])) }
    }
}
