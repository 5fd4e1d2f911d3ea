import BrineCore
import BrineWire
import Foundation
import NIOCore
import Testing

/// The CLI's side of the master's unix socket, against a stand-in master
/// on a real socket: events arrive in order and the final one ends the
/// call; `.stop` hangs up (the master sees the end); a master that closes
/// early is an error, not a silent success; no socket is `unreachable`.
@Suite struct MasterClientTests {
    /// Serves one connection: reads the request, sends `events`, then
    /// reports whether the client hung up.
    func withMaster(sending events: [JobEvent], thenClose: Bool = false, _ body: (MasterClient, Task<(PublishRequest?, Bool), any Error>) async throws -> Void) async throws {
        let path = NSTemporaryDirectory() + "brine-client-\(UUID().uuidString.prefix(8)).sock"
        defer { unlink(path) }
        let listener = try await WireBootstrap.listen(unixSocket: path)
        let served = Task { () async throws -> (PublishRequest?, Bool) in
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    return try await connection.executeThenClose { inbound, outbound in
                        var iterator = inbound.makeAsyncIterator()
                        var decoder = FrameDecoder()
                        var request: PublishRequest?
                        while request == nil, let buffer = try await iterator.next() {
                            if let frame = try decoder.feed(buffer.readableBytesView).first { request = try PublishRequest.decode(frame) }
                        }
                        for event in events { try await outbound.write(ByteBuffer(bytes: try FrameEncoder().encode(event.encoded()))) }
                        if thenClose { return (request, false) }
                        // Hung up: the next read ends (or fails) instead of waiting.
                        let hungUp = (try? await iterator.next()) == nil
                        return (request, hungUp)
                    }
                }
                return (nil, false)
            }
        }
        try await body(MasterClient(socketPath: path), served)
    }

    let request = PublishRequest(target: "web*", fun: "test.ping", timeout: 3)

    @Test func eventsArriveInOrderAndTheFinalOneEnds() async throws {
        let events: [JobEvent] = [.published(jid: "1", minions: ["a", "b"]), .returned(JobReturn(jid: "1", id: "a", value: true, retcode: 0)),
                                  .done(jid: "1", notConnected: [], noResponse: ["b"])]
        try await withMaster(sending: events) { client, served in
            var seen: [JobEvent] = []
            try await client.publish(request) { event in
                seen.append(event)
                return .more
            }
            #expect(seen == events)
            let (received, hungUp) = try await served.value
            #expect(received == request)
            #expect(hungUp)
        }
    }

    @Test func stopHangsUp() async throws {
        try await withMaster(sending: [.published(jid: "1", minions: ["a"]), .returned(JobReturn(jid: "1", id: "a", value: 1, retcode: 0))]) { client, served in
            var seen = 0
            try await client.publish(request) { _ in
                seen += 1
                return .stop
            }
            #expect(seen == 1)
            #expect(try await served.value.1)
        }
    }

    @Test func aMasterClosingEarlyIsAnError() async throws {
        try await withMaster(sending: [.published(jid: "1", minions: ["a"])], thenClose: true) { client, _ in
            await #expect(throws: MasterClient.ConnectionError.self) {
                try await client.publish(request) { _ in .more }
            }
        }
    }

    @Test func noSocketIsUnreachable() async throws {
        let client = MasterClient(socketPath: NSTemporaryDirectory() + "brine-nothing-\(UUID().uuidString.prefix(8)).sock")
        do {
            try await client.publish(request) { _ in .more }
            Issue.record("published to nothing")
        } catch MasterClient.ConnectionError.unreachable {
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
