import BrineCore
import BrineMaster
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BrineAPI

/// The master's HTTP port in process (Hummingbird's router test client, no
/// socket): the monitor's routes answer, the REST API's login checks
/// passwords, and a publish reaches the master's `Publisher` — refused in
/// its typed words when the user's ACL does not allow it, a published job
/// with no minion when nothing matches. The same port over a real socket,
/// with minions, is BrineCLITests' RESTAPITests.
@Suite struct RouterTests {
    let root = NSTemporaryDirectory() + "brine-api-\(UUID().uuidString.prefix(8))"

    func withPort(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "fred:fred-secret\n".write(toFile: root + "/etc/api-users", atomically: true, encoding: .utf8)
        try """
            root_dir: \(root)/
            rest_api: {enabled: true}
            external_auth:
              file:
                ^filename: \(root)/etc/api-users
                fred:
                  - test.*
            """.write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        let opts = try Config.load(role: .master, configDir: root + "/etc")
        let master = try MasterDaemon(opts: opts, withJobCache: true)
        guard let jobs = master.jobs else {
            Issue.record("no job cache")
            return
        }
        let http = MasterHTTP(jobs: jobs, host: "127.0.0.1", port: 0, restAPI: master)
        try await Application(router: http.makeRouter()).test(.router) { client in try await body(client) }
    }

    func json(_ response: TestResponse) throws -> Value {
        try JSON.decode(String(buffer: response.body))
    }

    @Test func monitorRoutesAnswer() async throws {
        try await withPort { client in
            try await client.execute(uri: "/api/checks/count", method: .get) { response in
                #expect(response.status == .ok)
                let counts = try json(response)
                #expect(counts["total"] == 0)
            }
            try await client.execute(uri: "/api/checks/nosuch", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                let document = try json(response)
                #expect(document["openapi"] != nil)
            }
        }
    }

    @Test func loginThenPublishThroughThePublisher() async throws {
        try await withPort { client in
            let wrong = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(string: #"{"username": "fred", "password": "nope", "eauth": "file"}"#))
            #expect(wrong.status == .unauthorized)
            let login = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(string: #"{"username": "fred", "password": "fred-secret", "eauth": "file"}"#))
            #expect(login.status == .ok)
            guard let token = try json(login)["return"]?[0]?["token"]?.stringValue, let header = HTTPField.Name("X-Auth-Token") else {
                Issue.record("no token: \(String(buffer: login.body))")
                return
            }
            // Allowed, and nothing matches: published to nobody, an empty return (salt-api's answer).
            let nobody = try await client.execute(uri: "/", method: .post, headers: [.contentType: "application/json", header: token],
                                                  body: ByteBuffer(string: #"{"client": "local", "tgt": "*", "fun": "test.ping"}"#))
            #expect(nobody.status == .ok)
            let answer = try json(nobody)
            #expect(answer == ["return": [.emptyMap]])
            // Not in fred's ACL: refused before any minion is looked at, said once.
            let refused = try await client.execute(uri: "/", method: .post, headers: [.contentType: "application/json", header: token],
                                                   body: ByteBuffer(string: #"{"client": "local", "tgt": "*", "fun": "cmd.run", "arg": ["id"]}"#))
            #expect(refused.status == .forbidden)
            let error = try json(refused)["error"]?.stringValue ?? ""
            #expect(error.hasPrefix("not authorised: ") && !error.dropFirst(16).contains("not authorised"), "\(error)")
            // A bad target is the request's fault, not the ACL's.
            let invalid = try await client.execute(uri: "/", method: .post, headers: [.contentType: "application/json", header: token],
                                                   body: ByteBuffer(string: #"{"client": "local", "tgt": "(", "tgt_type": "compound", "fun": "test.ping"}"#))
            #expect(invalid.status == .badRequest)
        }
    }
}
