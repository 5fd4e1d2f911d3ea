import BrineCore
import Foundation
import Synchronization
import NIOCore

/// Image endpoints: inspect, list, import, tag, remove, history, commit,
/// and a metadata-only build for image configuration.
extension DockerClient {
    /// The image's inspect document, or nil when the engine has no such image.
    public func inspectImage(_ reference: String) async throws -> Value? {
        let action = "inspect image \(reference)"
        let response = try await send(DockerRequest(.GET, "/images/\(Self.pathEscape(reference))/json"), action: action, expect: [200, 404])
        if response.status == 404 { return Optional<Value>.none }
        return try response.json(action)
    }

    /// Images, optionally only those carrying a label (`key` or `key=value`).
    public func listImages(label: String? = nil, all: Bool = false) async throws -> [Value] {
        var query: [(String, String)] = [("all", all ? "1" : "0")]
        if let label { query.append(("filters", JSON.encode(["label": [.string(label)]], indent: nil))) }
        let action = "list images"
        return try await send(DockerRequest(.GET, "/images/json", query: query), action: action).json(action).listValue ?? []
    }

    public func tagImage(_ image: String, as reference: String) async throws {
        let (repo, tag) = Self.splitReference(reference)
        _ = try await send(DockerRequest(.POST, "/images/\(Self.pathEscape(image))/tag", query: [("repo", repo), ("tag", tag)]),
                           action: "tag \(image) as \(reference)")
    }

    public func removeImage(_ reference: String, force: Bool = false) async throws {
        _ = try await send(DockerRequest(.DELETE, "/images/\(Self.pathEscape(reference))", query: [("force", force ? "1" : "0")]),
                           action: "remove image \(reference)", expect: [200])
    }

    public func history(_ reference: String) async throws -> [Value] {
        let action = "read the history of \(reference)"
        return try await send(DockerRequest(.GET, "/images/\(Self.pathEscape(reference))/history"), action: action).json(action).listValue ?? []
    }

    /// `docker import`: a root filesystem tarball becomes an image.
    /// `changes` are Dockerfile instructions (`CMD ["bash"]`).
    public func importImage(tarball: String, as reference: String, changes: [String] = []) async throws -> String {
        let (repo, tag) = Self.splitReference(reference)
        var query = [("fromSrc", "-"), ("repo", repo), ("tag", tag)]
        for change in changes { query.append(("changes", change)) }
        let messages = try await progressMessages(DockerRequest(.POST, "/images/create", query: query,
                                                                body: .file(path: tarball, contentType: "application/x-tar")),
                                                  action: "import \(tarball) as \(reference)")
        guard let id = messages.compactMap({ $0["status"]?.stringValue }).last(where: { $0.hasPrefix("sha256:") }) else {
            throw DockerError(action: "import \(tarball)", message: "the engine sent no image id")
        }
        return id
    }

    /// `docker commit`: the container's filesystem changes become a layer.
    /// `config` replaces the container's configuration fields it names;
    /// `changes` are Dockerfile instructions applied on top.
    public func commit(container: String, as reference: String? = nil, config: Value? = nil, changes: [String] = [],
                       comment: String? = nil) async throws -> String
    {
        var query = [("container", container), ("pause", "0")]
        if let reference {
            let (repo, tag) = Self.splitReference(reference)
            query += [("repo", repo), ("tag", tag)]
        }
        if let comment { query.append(("comment", comment)) }
        for change in changes { query.append(("changes", change)) }
        let action = "commit container \(container)"
        let answer = try await send(DockerRequest(.POST, "/commit", query: query, body: config.map { .json($0) } ?? .none), action: action)
            .json(action)
        guard let id = answer["Id"]?.stringValue else { throw DockerError(action: action, message: "no image id in \(answer)") }
        return id
    }

    /// A build whose Dockerfile only sets configuration (`FROM id`, `CMD`,
    /// `LABEL`, …): the classic builder writes no layer for these. Returns
    /// the new image id.
    public func buildConfiguration(dockerfile: String, tag: String? = nil) async throws -> String {
        let context = Tar.archive([("Dockerfile", Array(dockerfile.utf8))])
        var query = [("rm", "1"), ("forcerm", "1"), ("networkmode", "none")]
        if let tag { query.append(("t", tag)) }
        let action = "apply the image configuration"
        let messages = try await progressMessages(DockerRequest(.POST, "/build", query: query,
                                                                body: .bytes(context, contentType: "application/x-tar")), action: action)
        if let id = messages.compactMap({ $0["aux"]?["ID"]?.stringValue }).last { return id }
        if let line = messages.compactMap({ $0["stream"]?.stringValue }).last(where: { $0.hasPrefix("Successfully built ") }) {
            return line.dropFirst("Successfully built ".count).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        throw DockerError(action: action, message: "the engine sent no image id")
    }

    /// Streams of JSON messages (import, build): an `error` message fails the call.
    func progressMessages(_ request: DockerRequest, action: String) async throws -> [Value] {
        let collected = LockedLines()
        try await stream(request, action: action) { buffer in collected.feed(Array(buffer.readableBytesView)) }
        let messages = collected.finish().compactMap { try? JSON.decode($0) }
        if let error = messages.first(where: { $0["error"] != nil }) {
            throw DockerError(action: action, message: (error["error"]?.stringValue ?? "\(error)").trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return messages
    }

    /// `repo:tag` → (repo, tag); `tag` defaults to latest. A registry port
    /// (`host:5000/x`) is not a tag.
    static func splitReference(_ reference: String) -> (String, String) {
        if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") {
            return (String(reference[..<colon]), String(reference[reference.index(after: colon)...]))
        }
        return (reference, "latest")
    }

    static func pathEscape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:/@")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

/// Lines gathered across the chunks of a streamed answer.
final class LockedLines: Sendable {
    private let state = Mutex(LineSplitter())
    private let lines = Mutex<[String]>([])

    func feed(_ bytes: [UInt8]) {
        let complete = state.withLock { $0.feed(bytes) }
        lines.withLock { $0 += complete }
    }

    func finish() -> [String] {
        let last = state.withLock { $0.finish() }
        return lines.withLock { $0 + (last.map { [$0] } ?? []) }
    }
}
