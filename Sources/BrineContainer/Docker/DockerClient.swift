import BrineCore
import Foundation
import Synchronization
import NIOCore
import NIOHTTP1

/// A Docker Engine API client on the engine's unix socket. The API version
/// is negotiated once: the engine's own version, capped at the newest one
/// Brine knows, so an older engine (Debian's 20.10 speaks 1.41) and a newer
/// one both get requests they understand.
public struct DockerClient: Sendable {
    /// The newest API version whose requests Brine writes.
    public static let newestKnownAPI = "1.45"
    /// The oldest engine API Brine accepts (Docker 20.10 is 1.41).
    public static let oldestAPI = "1.40"

    let transport: DockerTransport
    public let apiVersion: String
    public let engineVersion: String

    /// The socket from `DOCKER_HOST` (`unix://…` only) or /var/run/docker.sock.
    public static func socketPath(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        guard let host = environment["DOCKER_HOST"], !host.isEmpty else { return "/var/run/docker.sock" }
        guard host.hasPrefix("unix://") else {
            throw DockerError(action: "read DOCKER_HOST", message: "'\(host)' is not a unix:// socket; Brine talks to a local engine only")
        }
        return String(host.dropFirst("unix://".count))
    }

    /// Connects to the engine and negotiates the API version.
    public static func connect(socketPath: String? = nil) async throws -> DockerClient {
        let transport = DockerTransport(socketPath: try socketPath ?? Self.socketPath())
        let request = DockerRequest(.GET, "/version")
        let response = try await Self.collect(transport, request, apiVersion: nil, action: "ask the engine's version")
        guard response.status == 200 else { throw Self.error(response, action: "ask the engine's version") }
        let info = try response.json("ask the engine's version")
        let offered = info["ApiVersion"]?.stringValue ?? oldestAPI
        guard compare(offered, oldestAPI) >= 0 else {
            throw DockerError(action: "negotiate the API version", message: "engine API \(offered) is older than \(oldestAPI)")
        }
        let version = compare(offered, newestKnownAPI) > 0 ? newestKnownAPI : offered
        return DockerClient(transport: transport, apiVersion: version, engineVersion: info["Version"]?.stringValue ?? "?")
    }

    /// `1.41` vs `1.9`: numerically, part by part.
    static func compare(_ a: String, _ b: String) -> Int {
        let pa = a.split(separator: ".").map { Int($0) ?? 0 }, pb = b.split(separator: ".").map { Int($0) ?? 0 }
        for i in 0..<max(pa.count, pb.count) {
            let x = i < pa.count ? pa[i] : 0, y = i < pb.count ? pb[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    // MARK: Requests

    /// Sends a request and collects the body (bounded: API answers, not streams).
    public func send(_ request: DockerRequest, action: String, expect: Set<Int> = [200, 201, 204]) async throws -> DockerResponse {
        let response = try await Self.collect(transport, request, apiVersion: apiVersion, action: action)
        guard expect.contains(response.status) else { throw Self.error(response, action: action) }
        return response
    }

    /// Sends a request whose answer is a stream, handing each chunk to `onChunk` as it arrives.
    public func stream(_ request: DockerRequest, action: String, onChunk: @escaping @Sendable (ByteBuffer) async throws -> Void) async throws {
        let errorBody = Mutex<[UInt8]>([])
        let statusBox = Mutex<Int?>(nil)
        let status = try await transport.perform(request, apiVersion: apiVersion, action: action) { buffer in
            // The status is known before the body; errors are JSON, not a stream.
            if let status = statusBox.withLock({ $0 }), status >= 400 {
                errorBody.withLock { $0 += Array(buffer.readableBytesView) }
            } else {
                try await onChunk(buffer)
            }
        } onStatus: { code in statusBox.withLock { $0 = $0 ?? code } }
        guard status < 400 else {
            throw Self.error(DockerResponse(status: status, body: errorBody.withLock { $0 }), action: action)
        }
    }

    static func collect(_ transport: DockerTransport, _ request: DockerRequest, apiVersion: String?, action: String) async throws -> DockerResponse {
        let body = Mutex<[UInt8]>([])
        let status = try await transport.perform(request, apiVersion: apiVersion, action: action) { buffer in
            try body.withLock {
                guard $0.count + buffer.readableBytes <= 64 << 20 else {
                    throw DockerError(action: action, message: "answer larger than 64 MiB")
                }
                $0 += Array(buffer.readableBytesView)
            }
        } onStatus: { _ in }
        return DockerResponse(status: status, body: body.withLock { $0 })
    }

    /// The engine's `{"message": …}` as a `DockerError`.
    static func error(_ response: DockerResponse, action: String) -> DockerError {
        let message = (try? JSON.decode(response.text))?["message"]?.stringValue ?? response.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return DockerError(action: action, status: response.status, message: message.isEmpty ? "no message" : message)
    }
}
