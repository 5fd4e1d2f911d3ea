import BrineCore
import Foundation
import NIOCore

/// How a client (the CLI, a test) talks to a running master: over its unix
/// socket, one request per connection, plain frames (the socket's
/// permissions and the peer's uid are the authentication; see the master's
/// `ClientSocket`).
public struct MasterClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Why the master could not be asked.
    public enum ConnectionError: Error, Sendable, CustomStringConvertible {
        /// The socket's permissions keep this user out.
        case permissionDenied(socket: String)
        /// Nothing listens there.
        case unreachable(socket: String, reason: String)
        /// The master closed the connection before the job's last event.
        case closedEarly

        public var description: String {
            switch self {
            case .permissionDenied(let socket): "\(socket): only the master's user may publish"
            case .unreachable(let socket, let reason): "cannot reach the master at \(socket): \(reason)"
            case .closedEarly: "the master closed the connection before the job finished"
            }
        }
    }

    /// What to do after an event.
    public enum Next: Sendable {
        /// Read the next event.
        case more
        /// Hang up now (`--async`); the job goes on on the master.
        case stop
    }

    /// Publishes a job and hands each event to `handle` as it comes, ending
    /// with the final one (`done`, `refused`, or `published` to nobody). The
    /// next event is read only when `handle` returns: a client that prints
    /// slowly holds the master's sends back instead of piling events up.
    /// Throws `ConnectionError` when the master cannot be reached or closes
    /// the connection before the final event.
    public func publish(_ request: PublishRequest, handle: (JobEvent) async throws -> Next) async throws {
        let connection: WireBootstrap.Connection
        do {
            connection = try await WireBootstrap.connect(unixSocket: socketPath)
        } catch {
            if access(socketPath, R_OK | W_OK) != 0 && errno == EACCES { throw ConnectionError.permissionDenied(socket: socketPath) }
            throw ConnectionError.unreachable(socket: socketPath, reason: "\(error)")
        }
        let ended = try await connection.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: try FrameEncoder().encode(request.encoded())))
            var decoder = FrameDecoder()
            for try await buffer in inbound {
                for frame in try decoder.feed(buffer.readableBytesView) {
                    let event = try JobEvent.decode(frame)
                    if try await handle(event) == .stop || event.isFinal { return true }
                }
            }
            return false
        }
        if !ended { throw ConnectionError.closedEarly }
    }
}
