import NIOCore

/// The Noise XX handshake over a byte stream, one step at a time: bytes
/// read go in, bytes to write come out, until the session. Whoever owns the
/// socket drives it: both ends of a minion's connection from their channel
/// handlers (the master's `MinionConnection`, the minion's
/// `MasterConnection`: a task per connection would keep its deepest frames
/// for as long as the connection lives, and be woken for every message),
/// `WireSession.handshake` from a task (tests' peers).
public struct WireHandshaker: Sendable {
    private var state: HandshakeState
    private let payload: [UInt8]
    private var decoder = FrameDecoder(maximumFrameLength: FrameDecoder.noiseFrameLimit)
    private let encoder = FrameEncoder(maximumFrameLength: FrameDecoder.noiseFrameLimit)
    /// Frames read and not yet taken by the handshake (those behind its end are the session's).
    private var frames: [[UInt8]] = []
    private var peerPayload: [UInt8] = []
    private var written = 0

    /// - Parameters:
    ///   - state: a fresh handshake (its role says who speaks first).
    ///   - payload: what to send the peer: the responder (master) sends it in
    ///     message 2, the initiator (minion) in message 3 (message 1 travels in clear).
    public init(_ state: HandshakeState, payload: [UInt8]) {
        self.state = state
        self.payload = payload
    }

    public var isComplete: Bool { state.isComplete }

    /// What to write before reading anything (the initiator's first message).
    public mutating func start() throws -> [UInt8] {
        try advance()
    }

    /// Takes bytes read from the peer; returns the bytes to write now (empty when none).
    public mutating func feed(_ bytes: some Collection<UInt8>) throws -> [UInt8] {
        frames += try decoder.feed(bytes)
        return try advance()
    }

    /// Takes bytes read by a channel handler and writes the answer on its
    /// context; once complete, the session and the messages behind it (as
    /// `session(channel:deadlines:)`), else nil.
    public mutating func feed(_ buffer: ByteBuffer, answeringOn context: ChannelHandlerContext,
                              deadlines: SendDeadlines) throws -> (WireSession, [[UInt8]])? {
        let out = try feed(buffer.readableBytesView)
        if !out.isEmpty { context.writeAndFlush(NIOAny(ByteBuffer(bytes: out)), promise: nil) }
        guard isComplete else { return nil }
        return try session(channel: context.channel, deadlines: deadlines)
    }

    /// Once complete: the session on `channel` (its sends watched by
    /// `deadlines`), and the messages that arrived right behind the handshake.
    public func session(channel: any Channel, deadlines: SendDeadlines) throws -> (WireSession, [[UInt8]]) {
        var handshake = state
        let session = WireSession(stream: SecureStream(transport: try handshake.transport(), frameDecoder: decoder),
                                  channel: channel, peerPayload: peerPayload, deadlines: deadlines)
        var early: [[UInt8]] = []
        for frame in frames { if let message = try session.openFrame(frame) { early.append(message) } }
        return (session, early)
    }

    /// Writes while it is our turn and reads the frames we have, until the
    /// handshake is complete or waits for the peer.
    private mutating func advance() throws -> [UInt8] {
        var out: [UInt8] = []
        while !state.isComplete {
            if state.isOurTurnToWrite {
                let carriesPayload = state.role == .responder || written == 1
                let message = try state.writeMessage(payload: carriesPayload ? payload : [])
                written += 1
                try encoder.append(message, to: &out)
            } else if !frames.isEmpty {
                peerPayload = try state.readMessage(frames.removeFirst())
            } else {
                break
            }
        }
        return out
    }
}
