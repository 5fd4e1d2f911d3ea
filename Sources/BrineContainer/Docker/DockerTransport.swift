import BrineCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// An error from the Docker engine or from talking to it. `message` is the
/// engine's own text when it sent one, so users see what Docker says.
public struct DockerError: Error, Sendable, CustomStringConvertible {
    /// What Brine was doing (e.g. "create container from debian:bookworm").
    public var action: String
    /// HTTP status, or nil when the engine could not be reached.
    public var status: Int?
    public var message: String

    public init(action: String, status: Int? = nil, message: String) {
        self.action = action
        self.status = status
        self.message = message
    }

    public var description: String {
        let code = status.map { " (HTTP \($0))" } ?? ""
        return "Docker engine: \(action) failed\(code): \(message)"
    }
}

/// One HTTP/1.1 request to the engine. Each request uses its own
/// connection (`Connection: close`): the engine answers fast on its unix
/// socket and streamed responses (logs, exec) end when it closes.
public struct DockerRequest: Sendable {
    public enum Body: Sendable {
        case none
        case json(Value)
        case bytes([UInt8], contentType: String)
        /// A file streamed in chunks (image import, build contexts).
        case file(path: String, contentType: String)
    }

    public var method: HTTPMethod
    public var path: String
    public var query: [(String, String)]
    public var body: Body

    public init(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Body = .none) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
    }

    func target(apiVersion: String?) -> String {
        var target = (apiVersion.map { "/v\($0)" } ?? "") + path
        if !query.isEmpty {
            target += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        return target
    }

    static func escape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

/// The engine's answer: status and the whole body (for non-streamed calls).
public struct DockerResponse: Sendable {
    public var status: Int
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func json(_ action: String) throws -> Value {
        do { return try JSON.decode(text, file: "Docker engine response") } catch {
            throw DockerError(action: action, status: status, message: "unreadable answer: \(text.prefix(200))")
        }
    }
}

/// HTTP/1.1 over the engine's unix socket, on SwiftNIO. async-http-client
/// would add 15 packages to every build for what is a few dozen lines here,
/// and its unix-socket requests lack the `Host` header the engine requires.
struct DockerTransport: Sendable {
    let socketPath: String

    /// Sends `request`; `onBody` receives the body as it arrives. Returns
    /// the response status once the engine has sent the whole response.
    func perform(_ request: DockerRequest, apiVersion: String?, action: String,
                 onBody: @Sendable (ByteBuffer) async throws -> Void,
                 onStatus: @Sendable (Int) -> Void) async throws -> Int
    {
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: socketPath) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw DockerError(action: action, message: "cannot connect to \(socketPath) (\(error)); is the engine running? "
                + "Start it with: dockerd --bridge=none --iptables=false")
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await send(request, apiVersion: apiVersion, to: outbound)
            var status: Int?
            for try await part in inbound {
                switch part {
                case .head(let head):
                    status = Int(head.status.code)
                    onStatus(Int(head.status.code))
                case .body(let buffer): try await onBody(buffer)
                case .end: return status ?? 0
                }
            }
            guard let status else { throw DockerError(action: action, message: "the engine closed the connection without answering") }
            return status
        }
    }

    private func send(_ request: DockerRequest, apiVersion: String?,
                      to outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>) async throws
    {
        var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.target(apiVersion: apiVersion))
        head.headers.add(name: "Host", value: "docker")
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "User-Agent", value: "brine/\(Brine.version)")
        // Head, body and end go out in one flush where the body is in memory:
        // the engine may answer and close as soon as it has the request.
        switch request.body {
        case .none:
            head.headers.add(name: "Content-Length", value: "0")
            try await outbound.write(contentsOf: [.head(head), .end(nil)])
        case .json(let value):
            try await writeWhole(head, Array(JSON.encode(value, indent: nil).utf8), contentType: "application/json", to: outbound)
        case .bytes(let bytes, let contentType):
            try await writeWhole(head, bytes, contentType: contentType, to: outbound)
        case .file(let path, let contentType):
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw BrineError(.io, "cannot read \(path)")
            }
            defer { try? handle.close() }
            let size = try handle.seekToEnd()
            try handle.seek(toOffset: 0)
            head.headers.add(name: "Content-Type", value: contentType)
            head.headers.add(name: "Content-Length", value: "\(size)")
            try await outbound.write(.head(head))
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: chunk))))
            }
            try await outbound.write(.end(nil))
        }
    }

    private func writeWhole(_ head: HTTPRequestHead, _ bytes: [UInt8], contentType: String,
                            to outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>) async throws
    {
        var head = head
        head.headers.add(name: "Content-Type", value: contentType)
        head.headers.add(name: "Content-Length", value: "\(bytes.count)")
        try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(bytes: bytes))), .end(nil)])
    }
}
