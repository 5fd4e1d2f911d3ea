import NIOCore
import NIOPosix

/// Every socket of Brine's own protocol, opened in one place: the master's
/// minion port and client socket, a minion's connection, a client's.
/// Each connection is a byte stream as an `NIOAsyncChannel` (a minion's
/// connection to its master, and the master's to each minion: a channel
/// handler of the caller's), on the
/// process's one event loop group; framing and sealing sit above
/// (`FrameDecoder`, `WireSession`).
public enum WireBootstrap {
    public typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    public typealias Listener = NIOAsyncChannel<Connection, Never>

    /// The master's minion port.
    public static func listen(host: String, port: Int) async throws -> Listener {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port, childChannelInitializer: wrap)
    }

    /// The master's minion port, each connection handled by the handlers
    /// `initialize` adds to its pipeline (no task per connection: see
    /// `MinionConnection`). Returns the listening channel.
    public static func bind(
        host: String, port: Int, childChannelInitializer initialize: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer(initialize)
            .bind(host: host, port: port).get()
    }

    /// The master's client socket. A client may close its side after
    /// sending its request: it still gets the answer (half closure).
    public static func listen(unixSocket path: String) async throws -> Listener {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: wrap)
    }

    /// A connection to a master's minion port as a byte stream (tests' minions).
    public static func connect(host: String, port: Int) async throws -> Connection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: host, port: port, channelInitializer: wrap)
    }

    /// A minion's connection to its master, handled by what `initialize`
    /// adds to its pipeline (no task reading it: see the minion's
    /// `MasterConnection`); returns what `initialize` made.
    public static func connect<Output: Sendable>(
        host: String, port: Int, initialize: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>
    ) async throws -> Output {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: host, port: port, channelInitializer: initialize)
    }

    /// Whether something accepts connections at `host:port` within
    /// `timeout` seconds (a minion watching its master, or waiting for its
    /// first master to come back); the connection is closed at once.
    public static func probe(host: String, port: Int, timeout: Int64) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(max(1, timeout))).connect(host: host, port: port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    /// A client's connection to the master's socket.
    public static func connect(unixSocket path: String) async throws -> Connection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(unixDomainSocketPath: path, channelInitializer: wrap)
    }

    @Sendable static func wrap(_ channel: any Channel) -> EventLoopFuture<Connection> {
        channel.eventLoop.makeCompletedFuture { try Connection(wrappingChannelSynchronously: channel) }
    }
}
