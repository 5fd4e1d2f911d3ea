import BrineWire
import NIOCore
import NIOPosix
import Testing

/// Issue 15 (14): sends from many tasks on one session reach the peer in
/// the order they were sealed. Noise nonces are implicit: one frame out of
/// order and the peer cannot open it (before, frames were sealed under the
/// lock and written after it, so two senders could swap). A real Noise
/// session over TCP on 127.0.0.1, 500 concurrent sends.
@Suite struct WireSessionTests {
    static let count = 500

    @Test func concurrentSendsArriveInNonceOrder() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let master = StaticKeyPair.generate(), minion = StaticKeyPair.generate()
        let server = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let port = server.channel.localAddress?.port ?? 0
        let received = Task { () async throws -> [String] in
            try await server.executeThenClose { connections in
            for try await connection in connections {
                return try await connection.executeThenClose { inbound, _ in
                    var iterator = inbound.makeAsyncIterator()
                    let state = HandshakeState(role: .responder, localStatic: master.privateKey, prologue: brineWirePrologue)
                    let (session, early) = try await WireSession.handshake(state, payload: [], channel: connection.channel, inbound: &iterator)
                    var messages = early.map { String(decoding: $0, as: UTF8.self) }
                    while messages.count < Self.count, let buffer = try await iterator.next() {
                        messages += try session.receive(buffer).map { String(decoding: $0, as: UTF8.self) }
                    }
                    return messages
                }
            }
            return []
            }
        }
        let client = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        try await client.executeThenClose { inbound, _ in
            var iterator = inbound.makeAsyncIterator()
            let state = HandshakeState(role: .initiator, localStatic: minion.privateKey, prologue: brineWirePrologue)
            let (session, _) = try await WireSession.handshake(state, payload: [1], channel: client.channel, inbound: &iterator)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for i in 0..<Self.count {
                    tasks.addTask { try await session.send(Array("message \(i)".utf8)) }
                }
                try await tasks.waitForAll()
            }
            let messages = try await received.value
            #expect(messages.count == Self.count)
            #expect(Set(messages) == Set((0..<Self.count).map { "message \($0)" }))
        }
    }
}
