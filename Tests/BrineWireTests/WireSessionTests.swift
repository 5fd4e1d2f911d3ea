@testable import BrineWire
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
                    let (session, early) = try await WireSession.handshake(state, payload: [], channel: connection.channel,
                                                                           deadlines: SendDeadlines(), inbound: &iterator)
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
            let deadlines = SendDeadlines()
            let (session, _) = try await WireSession.handshake(state, payload: [1], channel: client.channel, deadlines: deadlines, inbound: &iterator)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for i in 0..<Self.count {
                    tasks.addTask { try await session.send(Array("message \(i)".utf8)) }
                }
                try await tasks.waitForAll()
            }
            let messages = try await received.value
            #expect(messages.count == Self.count)
            #expect(Set(messages) == Set((0..<Self.count).map { "message \($0)" }))
            // Every send written: no session is left watched.
            #expect(deadlines.watchedCount == 0)
        }
    }

    /// A peer that stops reading is dropped when a send's deadline passes
    /// (one timer for every session, `SendDeadlines`), so a sender awaiting
    /// it learns at once and its other sessions go on. The peer here
    /// finishes the handshake and then never reads again: the kernel's
    /// buffers fill, later writes wait, and only the deadline can end them.
    @Test(.timeLimit(.minutes(10))) func aPeerThatStopsReadingIsDroppedAtTheDeadline() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let master = StaticKeyPair.generate(), minion = StaticKeyPair.generate()
        let server = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let port = server.channel.localAddress?.port ?? 0
        let (stop, stopInput) = AsyncStream<Void>.makeStream()
        let stalled = Task {
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    try await connection.executeThenClose { inbound, _ in
                        var iterator = inbound.makeAsyncIterator()
                        let state = HandshakeState(role: .responder, localStatic: master.privateKey, prologue: brineWirePrologue)
                        _ = try await WireSession.handshake(state, payload: [], channel: connection.channel, deadlines: SendDeadlines(),
                                                            inbound: &iterator)
                        for await _ in stop {}  // never reads again, until the test ends
                    }
                    return
                }
            }
        }
        defer { stopInput.finish(); stalled.cancel() }
        let client = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let deadlines = SendDeadlines(interval: .milliseconds(50))
        try await deadlines.watching {
            try await client.executeThenClose { inbound, _ in
                var iterator = inbound.makeAsyncIterator()
                let state = HandshakeState(role: .initiator, localStatic: minion.privateKey, prologue: brineWirePrologue)
                let (session, _) = try await WireSession.handshake(state, payload: [1], channel: client.channel, deadlines: deadlines,
                                                                   inbound: &iterator)
                // 24 MiB: more than loopback's socket buffers hold, less than the session's 32 MiB limit.
                let chunk = [UInt8](repeating: 7, count: 64 << 10)
                var last: EventLoopFuture<Void>? = nil
                for _ in 0..<384 { last = try session.enqueue(chunk, deadline: .seconds(2)) }
                #expect(deadlines.watchedCount == 1)
                await #expect(throws: (any Error).self) { try await last?.get() }
                #expect(deadlines.watchedCount == 0)
            }
        }
    }
}
