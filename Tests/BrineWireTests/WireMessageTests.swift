import BrineCore
import BrineWire
import Testing

/// Every message of every direction round-trips; a type this build does not
/// know is skipped by `decodeKnown` (a newer master's message must not cut
/// an older minion off), a malformed one is an error; and a message of one
/// direction is not read as another's.
@Suite struct WireMessageTests {
    static let minion: [MinionMessage] = [
        .hello(id: "m1", grains: ["os": "Debian"]), .jobReturn(JobReturn(jid: "1", id: "m1", value: true, retcode: 0)),
        .fileRequest(FileRequest(rid: 1, kind: .file, path: "salt://x")), .fileRequest(FileRequest(rid: 2, kind: .hash, path: "salt://x")),
        .fileRequest(FileRequest(rid: 3, kind: .list, saltenv: "dev")), .fileRequest(FileRequest(rid: 4, kind: .pillar)),
        .fileRequest(FileRequest(rid: 5, kind: .pillarRefresh)), .fileRequest(FileRequest(rid: 6, kind: .unknown("mine"))),
    ]
    static let master: [MasterMessage] = [
        .admission(.accepted), .admission(.denied), .job(.init(jid: "1", fun: "test.ping", arguments: CallArguments(positional: [1], keyword: ["a": "b"]))),
        .returnAck(jid: "1"), .reply(rid: 1, data: .null),
    ]
    static let events: [JobEvent] = [
        .published(jid: "1", minions: ["m1"]), .returned(JobReturn(jid: "1", id: "m1", value: ["x": 1], retcode: 2)),
        .done(jid: "1", notConnected: [], noResponse: ["m2"]), .refused(Refusal(.notAuthorised, "no")), .refused(Refusal(.malformed, "bad")),
    ]

    func roundTrips<M: WireCodable>(_ messages: [M]) throws {
        for message in messages {
            #expect(try M.decode(message.encoded()) == message)
            #expect(try M.decodeKnown(message.encoded()) == message)
        }
        #expect(Set(messages.compactMap { $0.value["type"]?.stringValue }) == M.knownTypes)
    }

    @Test func everyKindRoundTripsAndIsKnown() throws {
        try roundTrips(Self.minion)
        try roundTrips(Self.master)
        try roundTrips(Self.events)
        try roundTrips([PublishRequest(target: "*", fun: "test.ping", timeout: 7, batch: "10%")])
    }

    /// What went on the wire before the types were split is read the same:
    /// a pillar refresh is kind `pillar` with path `refresh`; a refusal from
    /// a master without kinds is its message whole.
    @Test func wireLayoutIsKept() throws {
        let refresh = MessagePack.encode(["type": "request", "rid": 9, "kind": "pillar", "path": "refresh", "saltenv": "base"])
        #expect(try MinionMessage.decode(refresh) == .fileRequest(FileRequest(rid: 9, kind: .pillarRefresh)))
        #expect(MinionMessage.fileRequest(FileRequest(rid: 9, kind: .pillarRefresh)).value["path"] == "refresh")
        let old = MessagePack.encode(["type": "failure", "message": "not authorised: user x may not run cmd.run"])
        #expect(try JobEvent.decode(old) == .refused(Refusal(.invalid, "not authorised: user x may not run cmd.run")))
        #expect(Refusal(.notAuthorised, "x").description == "not authorised: x")
        #expect(MasterMessage.admission(.pending).value["status"] == "pending")
    }

    @Test func unknownTypesAreSkippedMalformedOnesAreNot() throws {
        #expect(try MinionMessage.decodeKnown(MessagePack.encode(["type": "from_the_future", "x": 1])) == nil)
        #expect(throws: BrineError.self) { try MinionMessage.decode(MessagePack.encode(["type": "from_the_future"])) }
        #expect(throws: BrineError.self) { try MasterMessage.decodeKnown(MessagePack.encode(["type": "job"])) }
        #expect(throws: BrineError.self) { try MasterMessage.decode(MessagePack.encode(["type": "status", "status": "maybe"])) }
        // A minion's message is not a master's: a master receiving its own kind from a peer skips it.
        #expect(try MinionMessage.decodeKnown(MasterMessage.returnAck(jid: "1").encoded()) == nil)
        #expect(throws: BrineError.self) { try PublishRequest.decode(MinionMessage.hello(id: "x", grains: .emptyMap).encoded()) }
    }
}
