@testable import BrineWire
import NIOCore
import NIOEmbedded
import Testing

/// The handshake as the master's connection handler drives it: bytes in as
/// they are read (here one at a time), bytes out, then the session and the
/// messages that arrived right behind the last handshake message.
@Suite struct WireHandshakerTests {
    @Test func bytesOneAtATimeMakeOneSessionAndKeepWhatFollows() throws {
        let master = StaticKeyPair.generate(), minion = StaticKeyPair.generate()
        var initiator = WireHandshaker(HandshakeState(role: .initiator, localStatic: minion.privateKey, prologue: brineWirePrologue),
                                       payload: Array("minion hello".utf8))
        var responder = WireHandshaker(HandshakeState(role: .responder, localStatic: master.privateKey, prologue: brineWirePrologue),
                                       payload: Array("master".utf8))
        #expect(try responder.start().isEmpty, "the responder speaks second")
        let first = try initiator.start()
        #expect(!first.isEmpty)
        var second: [UInt8] = []
        for byte in first { second += try responder.feed([byte]) }
        #expect(!second.isEmpty && !responder.isComplete)
        var third: [UInt8] = []
        for byte in second { third += try initiator.feed([byte]) }
        #expect(initiator.isComplete && !third.isEmpty)

        let minionChannel = try Self.connectedChannel(), masterChannel = try Self.connectedChannel()
        let (minionSession, minionEarly) = try initiator.session(channel: minionChannel, deadlines: SendDeadlines())
        #expect(minionEarly.isEmpty)
        #expect(minionSession.peerPayload == Array("master".utf8))
        // The minion's first message in the same read as its last handshake message.
        _ = try minionSession.enqueue(Array("first".utf8))
        let sealed = try #require(try minionChannel.readOutbound(as: ByteBuffer.self))
        #expect(try responder.feed(third + Array(buffer: sealed)).isEmpty)
        #expect(responder.isComplete)
        let (masterSession, early) = try responder.session(channel: masterChannel, deadlines: SendDeadlines())
        #expect(early == [Array("first".utf8)])
        #expect(masterSession.peerPayload == Array("minion hello".utf8))
        #expect(masterSession.remoteStaticPublicKey.rawRepresentation == minion.publicKey.rawRepresentation)
        #expect(minionSession.remoteStaticPublicKey.rawRepresentation == master.publicKey.rawRepresentation)
    }

    @Test func bytesThatAreNotAHandshakeAreAnError() {
        let master = StaticKeyPair.generate()
        func responder() -> WireHandshaker {
            WireHandshaker(HandshakeState(role: .responder, localStatic: master.privateKey, prologue: brineWirePrologue), payload: [])
        }
        // A frame longer than any Noise message.
        var tooLong = responder()
        #expect(throws: (any Error).self) { try tooLong.feed([0xff, 0xff, 0xff, 0xff]) }
        // A first message too short for an ephemeral key.
        var tooShort = responder()
        #expect(throws: (any Error).self) { try tooShort.feed([0, 0, 0, 3, 1, 2, 3]) }
        #expect(!tooShort.isComplete)
    }

    static func connectedChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1), promise: nil)
        return channel
    }
}
