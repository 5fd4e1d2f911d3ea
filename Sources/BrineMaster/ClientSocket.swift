import BrineCore
import BrineWire
import Foundation
import Logging
import NIOCore

/// The master's unix socket in `sock_dir`: one publish request per
/// connection (a `PublishRequest` frame), answered with the job's
/// `JobEvent`s. Who asks is the peer's uid (SO_PEERCRED); only the master's
/// user may connect unless `publisher_acl` has rules, and then the ACL
/// decides.
struct ClientSocket: Sendable {
    let path: String
    let publisher: Publisher
    let acl: AccessControl
    let logger: Logger

    /// Only the master's user may connect, unless publisher_acl lets
    /// others publish: then anyone may connect and the ACL decides, by the
    /// peer's uid.
    func restrictAccess(socketDirectory: String) {
        if acl.hasRules {
            chmod(socketDirectory, 0o755)
            chmod(path, 0o666)
        } else {
            chmod(path, 0o600)
        }
    }

    func serve(_ listener: WireBootstrap.Listener) async throws {
        try await listener.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { connections in
                for try await connection in inbound {
                    connections.addTask {
                        do {
                            try await serve(connection)
                        } catch {
                            logger.warning("local client connection failed: \(LogText.escape("\(error)"))")
                        }
                    }
                }
            }
        }
    }

    /// One request and its answer, then the client closes first.
    ///
    /// Closing first lost answers: the CLI reads only as fast as it prints
    /// (`MasterClient` reads the next event when the last one is handled),
    /// so with a large fleet it lags behind; when the master closed a unix socket
    /// right after `done`, the CLI's event loop saw the hang-up (EPOLLHUP)
    /// and closed without reading what was still queued in the socket. Runs
    /// at 10,000 minions printed a few hundred returns fewer, and no `done`.
    /// Now the master waits (at most a minute) for the client to hang up.
    func serve(_ channel: WireBootstrap.Connection) async throws {
        let raw = channel.channel
        try await channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            let encoder = FrameEncoder()
            // Events come in batches (the returns stored together): one write for each batch.
            func send(_ events: [JobEvent]) async throws {
                var frames = ByteBuffer()
                for event in events { frames.writeBytes(try encoder.encode(event.encoded())) }
                try await outbound.write(frames)
            }
            try await answer(await readRequest(&iterator, raw), channel: raw, send: send)
            let linger = raw.eventLoop.scheduleTask(in: .seconds(60)) { raw.close(promise: nil) }
            while (try? await iterator.next()) != nil {}
            linger.cancel()
        }
    }

    /// The first frame, decoded. A client that never finishes its request
    /// does not hold a task for ever.
    func readRequest(_ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                     _ channel: any Channel) async -> Result<PublishRequest, Refusal>
    {
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(30)) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        var decoder = FrameDecoder()
        do {
            while let buffer = try await iterator.next() {
                if let frame = try decoder.feed(buffer.readableBytesView).first { return .success(try PublishRequest.decode(frame)) }
            }
            return .failure(Refusal(.invalid, "expected a publish request"))
        } catch let error as BrineError where error.kind == .usage {
            return .failure(Refusal(.invalid, error.message))
        } catch {
            return .failure(Refusal(.malformed, "\(error)"))
        }
    }

    func answer(_ received: Result<PublishRequest, Refusal>, channel: any Channel, send: ([JobEvent]) async throws -> Void) async throws {
        let request: PublishRequest
        switch received {
        case .failure(let refusal):
            // A malformed request gets an answer, never a silent hang-up.
            try await send([.refused(refusal)])
            return
        case .success(let decoded):
            request = decoded
        }
        guard let user = await peerUser(channel) else {
            try await send([.refused(Refusal(.notAuthorised, "cannot tell which user is asking"))])
            return
        }
        // A client that leaves (`--async`, Ctrl-C) does not stop the job: its
        // batches still go out and its returns still reach the job cache.
        var clientGone = false
        func forward(_ events: [JobEvent]) async {
            guard !clientGone else { return }
            do { try await send(events) } catch { clientGone = true }
        }
        do {
            try await publisher.publish(request, caller: Caller(name: user.name, groups: user.groups, acl: acl), send: forward)
        } catch let refusal as Refusal {
            try await send([.refused(refusal)])
        }
    }

    /// The unix socket peer's user (SO_PEERCRED): who the CLI runs as.
    func peerUser(_ channel: any Channel) async -> PeerUser? {
        guard let provider = channel as? any SocketOptionProvider,
            let credentials: PeerCredentials = try? await provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET),
                                                                                         name: SocketOptionName(SO_PEERCRED)).get()
        else { return nil }
        return PeerUser(uid: credentials.uid, gid: credentials.gid)
    }
}

/// Linux's `struct ucred` (pid, uid, gid: three 32-bit fields), which
/// Swift's Glibc module does not export.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
