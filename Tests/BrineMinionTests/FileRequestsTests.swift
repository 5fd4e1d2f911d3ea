import BrineCore
import BrineWire
import NIOCore
import Testing

@testable import BrineMinion

/// A minion's requests to the master over a real Noise session on
/// 127.0.0.1: each reply reaches the request with its `rid`; a request the
/// master never answers ends with null at its deadline and is forgotten; a
/// late reply is dropped; a closed connection ends every request, then and
/// later; a cancelled request ends at once.
@Suite struct FileRequestsTests {
    /// A connected pair: the minion's session and the master's, with the
    /// master's incoming messages as a stream.
    struct Pair {
        let minion: WireSession
        let master: WireSession
        let received: AsyncStream<MinionMessage>
        let close: @Sendable () -> Void
    }

    func withPair(_ body: (Pair) async throws -> Void) async throws {
        let masterKey = StaticKeyPair.generate(), minionKey = StaticKeyPair.generate()
        let listener = try await WireBootstrap.listen(host: "127.0.0.1", port: 0)
        let port = listener.channel.localAddress?.port ?? 0
        let (received, input) = AsyncStream<MinionMessage>.makeStream()
        let (sessions, sessionInput) = AsyncStream<WireSession>.makeStream()
        let server = Task {
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    try await connection.executeThenClose { inbound, _ in
                        var iterator = inbound.makeAsyncIterator()
                        let state = HandshakeState(role: .responder, localStatic: masterKey.privateKey, prologue: brineWirePrologue)
                        let (session, _) = try await WireSession.handshake(state, payload: [], channel: connection.channel,
                                                                           deadlines: SendDeadlines(), inbound: &iterator)
                        sessionInput.yield(session)
                        while let buffer = try await iterator.next() {
                            for message in try session.receive(buffer) {
                                if let decoded = try MinionMessage.decodeKnown(message) { input.yield(decoded) }
                            }
                        }
                        input.finish()
                    }
                    return
                }
            }
        }
        let client = try await WireBootstrap.connect(host: "127.0.0.1", port: port)
        try await client.executeThenClose { inbound, _ in
            var iterator = inbound.makeAsyncIterator()
            let state = HandshakeState(role: .initiator, localStatic: minionKey.privateKey, prologue: brineWirePrologue)
            let (session, _) = try await WireSession.handshake(state, payload: [1], channel: client.channel, deadlines: SendDeadlines(),
                                                               inbound: &iterator)
            var sessionIterator = sessions.makeAsyncIterator()
            guard let master = await sessionIterator.next() else { throw WireClosed() }
            try await body(Pair(minion: session, master: master, received: received, close: { session.close() }))
        }
        server.cancel()
    }

    @Test func repliesPairByRidAndUnansweredRequestsEndAtTheirDeadline() async throws {
        try await withPair { pair in
            // Two in flight, answered in the other order: each reply reaches its own request.
            // (A deadline no load can reach: this part must not race the clock.)
            let requests = FileRequests(session: pair.minion, deadline: .seconds(600))
            async let first = requests.ask(.file, path: "salt://a", saltenv: "base")
            async let second = requests.ask(.list, saltenv: "dev")
            var asked: [FileRequest] = []
            for await case .fileRequest(let request) in pair.received {
                asked.append(request)
                if asked.count == 2 { break }
            }
            guard let list = asked.first(where: { $0.kind == .list }), let file = asked.first(where: { $0.kind == .file }) else {
                Issue.record("requests not seen: \(asked)")
                return
            }
            requests.resolve(list.rid, ["top.sls"])
            #expect(await second == ["top.sls"])
            requests.resolve(file.rid, "YQ==")
            #expect(await first == "YQ==")
            #expect(file.path == "salt://a")
            // The master never answers this one: it ends with null at its deadline; the late
            // reply finds nobody, and nothing is left waiting.
            let unanswered = FileRequests(session: pair.minion, deadline: .milliseconds(50))
            #expect(await unanswered.ask(.hash, path: "salt://b", saltenv: "base") == .null)
            for await case .fileRequest(let request) in pair.received where request.kind == .hash {
                unanswered.resolve(request.rid, "late")
                break
            }
            #expect(unanswered.waitingCount == 0)
            #expect(requests.waitingCount == 0)
        }
    }

    @Test func aClosedConnectionEndsEveryRequestThenAndLater() async throws {
        try await withPair { pair in
            let requests = FileRequests(session: pair.minion, deadline: .seconds(600))
            async let waiting = requests.ask(.pillar, saltenv: "base")
            for await case .fileRequest(_) in pair.received { break }
            requests.failAll()
            #expect(await waiting == .null)
            #expect(await requests.ask(.hash, path: "salt://x", saltenv: "base") == .null)
            #expect(requests.waitingCount == 0)
        }
    }

    @Test func aCancelledRequestEndsAtOnce() async throws {
        try await withPair { pair in
            let requests = FileRequests(session: pair.minion, deadline: .seconds(600))
            let task = Task { await requests.ask(.pillarRefresh, saltenv: "base") }
            for await case .fileRequest(let request) in pair.received {
                #expect(request.kind == .pillarRefresh)
                break
            }
            task.cancel()
            #expect(await task.value == .null)
            #expect(requests.waitingCount == 0)
        }
    }
}
