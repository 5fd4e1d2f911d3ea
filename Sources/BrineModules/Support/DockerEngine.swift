import BrineCore
import Foundation

/// The Docker Engine API for execution modules: blocking requests over the
/// engine's unix socket (`HTTPClient`), so the `docker` module works in the
/// lean `brine call` and in the minion without NIO. The image builder and
/// the container commands of `brine` use BrineContainer's async client.
public struct DockerEngine: Sendable {
    public let socket: String

    /// `docker.url` (Salt's option), else `DOCKER_HOST`, else
    /// /var/run/docker.sock; unix sockets only (the engine is local).
    public init(_ ctx: ExecutionContext) throws {
        let configured = try ctx.call("config.option", [.string("docker.url")])
        let url = configured.isNull || configured == "" ? (ProcessInfo.processInfo.environment["DOCKER_HOST"] ?? "") : configured.pythonString
        if url.isEmpty {
            socket = "/var/run/docker.sock"
        } else if url.hasPrefix("unix://") {
            socket = String(url.dropFirst("unix://".count))
        } else if url.hasPrefix("/") {
            socket = url
        } else {
            throw BrineError(.arguments, "docker.url '\(url)' is not a unix:// socket", hint: "Brine talks to a local engine over its unix socket")
        }
    }

    /// What the engine answered: status and body (JSON when there is one).
    public struct Answer: Sendable {
        public var status: Int
        public var bytes: [UInt8]
        public var text: String { String(decoding: bytes, as: UTF8.self) }
        public var json: Value { (try? JSON.decode(text, file: "docker engine")) ?? .null }
        /// The engine's `message` for an error, else the body.
        public var message: String { json["message"]?.stringValue ?? text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// An error answer, worded as docker-py's APIError that Salt shows.
    public struct Failure: Error, Sendable {
        public var status: Int
        public var message: String
    }

    public func call(_ method: String, _ path: String, query: [(String, String)] = [], json: Value? = nil,
                     body: [UInt8]? = nil, contentType: String? = nil, timeout: Double = 120) throws -> Answer {
        var full = "/v1.41" + path
        if !query.isEmpty {
            full += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        let payload = body ?? json.map { Array(JSON.encode($0, indent: nil).utf8) } ?? []
        let response = try HTTPClient.request(method, path: full, unixSocket: socket, body: payload,
                                              contentType: contentType ?? (json != nil ? "application/json" : nil), timeout: timeout, limit: 1 << 30)
        return Answer(status: response.status, bytes: response.bytes)
    }

    /// The answer when its status is one of `expect`, else a Failure.
    public func checked(_ method: String, _ path: String, query: [(String, String)] = [], json: Value? = nil,
                        body: [UInt8]? = nil, contentType: String? = nil, expect: Set<Int> = [200, 201, 204, 304],
                        timeout: Double = 120) throws -> Answer {
        let answer = try call(method, path, query: query, json: json, body: body, contentType: contentType, timeout: timeout)
        guard expect.contains(answer.status) else { throw Failure(status: answer.status, message: answer.message) }
        return answer
    }

    /// Inspect: nil on 404.
    public func inspect(_ kind: String, _ name: String) throws -> Value? {
        // containers and images answer at …/json, networks and volumes at their name
        let suffix = kind == "containers" || kind == "images" ? "/json" : ""
        let answer = try call("GET", "/\(kind)/\(Self.escape(name))\(suffix)")
        if answer.status == 404 { return nil }
        guard answer.status == 200 else { throw Failure(status: answer.status, message: answer.message) }
        return answer.json
    }

    /// Path and query escaping (names may hold `/` and `:`, as image references do).
    static func escape(_ text: String) -> String {
        if text == "." || text == ".." { return text.replacingOccurrences(of: ".", with: "%2E") }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:@")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// A container's log as the engine sends it without a TTY: frames of
    /// an 8-byte header (stream, 0, 0, 0, size as big-endian UInt32), then
    /// the bytes.
    public static func demultiplex(_ bytes: [UInt8]) -> String {
        streams(bytes).map { String(decoding: $0.all, as: UTF8.self) } ?? String(decoding: bytes, as: UTF8.self)
    }

    /// stdout and stderr apart.
    public static func demultiplexed(_ bytes: [UInt8]) -> (stdout: String, stderr: String) {
        guard let s = streams(bytes) else { return (String(decoding: bytes, as: UTF8.self), "") }
        return (String(decoding: s.out, as: UTF8.self), String(decoding: s.err, as: UTF8.self))
    }

    /// nil when the bytes are not frames (a TTY's output is raw).
    static func streams(_ bytes: [UInt8]) -> (all: [UInt8], out: [UInt8], err: [UInt8])? {
        var all: [UInt8] = [], out: [UInt8] = [], err: [UInt8] = []
        var i = 0
        while i + 8 <= bytes.count {
            let size = Int(bytes[i + 4]) << 24 | Int(bytes[i + 5]) << 16 | Int(bytes[i + 6]) << 8 | Int(bytes[i + 7])
            let start = i + 8
            guard bytes[i] <= 2, size <= bytes.count - start else { return nil }
            all += bytes[start..<start + size]
            if bytes[i] == 2 { err += bytes[start..<start + size] } else { out += bytes[start..<start + size] }
            i = start + size
        }
        return i == bytes.count ? (all, out, err) : nil
    }
}
