import BrineCore
import BrineModules
import BrineWire
import Foundation
import Synchronization
import Testing

/// The subset of JSON Schema the API's OpenAPI document uses: type,
/// properties, required, items, additionalProperties, enum, nullable, $ref.
struct SchemaValidator {
    let document: Value

    func resolve(_ schema: Value) -> Value {
        guard let ref = schema["$ref"]?.stringValue else { return schema }
        let name = String(ref.split(separator: "/").last ?? "")
        return document["components"]?["schemas"]?[name] ?? .null
    }

    /// The problems found, as paths; empty when the value fits.
    func problems(_ value: Value, _ rawSchema: Value, at path: String = "$") -> [String] {
        let schema = resolve(rawSchema)
        if value.isNull { return schema["nullable"] == true || schema["type"] == nil ? [] : ["\(path): null"] }
        var found: [String] = []
        if let allowed = schema["enum"]?.listValue, !allowed.contains(value) { found.append("\(path): \(value.pythonString) not in enum") }
        switch schema["type"]?.stringValue {
        case "object"?:
            guard let map = value.mapValue else { return ["\(path): not an object"] }
            for key in schema["required"]?.listValue?.compactMap(\.stringValue) ?? [] where map[key] == nil { found.append("\(path).\(key): missing") }
            let properties = schema["properties"]?.mapValue ?? [:]
            for (key, item) in map {
                if let sub = properties[key] { found += problems(item, sub, at: "\(path).\(key)") } else if let extra = schema["additionalProperties"] {
                    found += problems(item, extra, at: "\(path).\(key)")
                }
            }
        case "array"?:
            guard let list = value.listValue else { return ["\(path): not an array"] }
            for (i, item) in list.enumerated() { found += problems(item, schema["items"] ?? [:], at: "\(path)[\(i)]") }
        case "string"?: if value.stringValue == nil { found.append("\(path): not a string") }
        case "integer"?: if case .int = value {} else { found.append("\(path): not an integer") }
        case "number"?: if value.doubleValue == nil { found.append("\(path): not a number") }
        case "boolean"?: if value.boolValue == nil { found.append("\(path): not a boolean") }
        default: break
        }
        return found
    }

    /// The 200 answer's schema of an operation.
    func schema(_ method: String, _ path: String) -> Value? {
        document["paths"]?[path]?[method]?["responses"]?["200"]?["content"]?["application/json"]?["schema"]
    }
}

@Suite(.serialized) struct RESTAPITests {
    let root = tempDir()
    let retPort = testPort()
    let httpPort = testPort()
    var api: String { "http://127.0.0.1:\(httpPort)" }

    func writeConfig() throws {
        for dir in ["etc", "m1", "m2"] { try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        let sha = { (p: String) in try Hashing.hexDigest(Array(p.utf8)) }
        try "fred:\(try sha("fred-secret"))\nbob:\(try sha("bob-secret"))\n".write(toFile: root + "/etc/api-users", atomically: true, encoding: .utf8)
        try """
            interface: 127.0.0.1
            ret_port: \(retPort)
            root_dir: \(root)/
            token_expire: 600
            rest_api:
              enabled: true
              port: \(httpPort)
            external_auth:
              file:
                ^filename: \(root)/etc/api-users
                ^hashtype: sha256
                fred:
                  - 'm*':
                    - test.*
                    - grains.items
                  - '@wheel'
                bob:
                  - grains.item
            """.write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        for id in ["m1", "m2"] {
            try "id: \(id)\nmaster: 127.0.0.1\nmaster_port: \(retPort)\nroot_dir: \(root)/\(id)\nacceptance_wait_time: 0.3\n"
                .write(toFile: root + "/\(id)/minion", atomically: true, encoding: .utf8)
        }
    }

    func login(_ user: String, _ password: String, eauth: String = "file") throws -> HTTPClient.Response {
        try HTTPClient.request("POST", api + "/login", json: ["username": .string(user), "password": .string(password), "eauth": .string(eauth)])
    }

    /// A request with a token, the answer parsed, validated against /openapi.json.
    func call(_ method: String, _ path: String, token: String, json: Value? = nil, schemaPath: String? = nil,
              validator: SchemaValidator) throws -> (status: Int, body: Value)
    {
        let response = try requestWithToken(method, path, token: token, json: json)
        let body = (try? response.json()) ?? .string(response.body)
        if response.status == 200, let schema = validator.schema(method.lowercased(), schemaPath ?? path) {
            let problems = validator.problems(body, schema)
            #expect(problems.isEmpty, "\(method) \(path): \(problems) in \(body)")
        }
        return (response.status, body)
    }

    func requestWithToken(_ method: String, _ path: String, token: String, json: Value? = nil) throws -> HTTPClient.Response {
        try HTTPClient.request(method, api + path, json: json, headers: ["X-Auth-Token": token], timeout: 30)
    }

    @Test func theAPIAuthenticatesAuthorisesAndAnswersAsDocumented() throws {
        try writeConfig()
        let master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master.log")
        defer { master.stop() }
        #expect(eventually { (try? HTTPClient.request("GET", api + "/openapi.json", timeout: 1))?.status == 200 }, "\(master.output)")
        let validator = SchemaValidator(document: try HTTPClient.request("GET", api + "/openapi.json").json())
        #expect(validator.document["openapi"] == "3.0.3")
        let m1 = try Daemon(["minion", "-c", root + "/m1"], log: root + "/m1.log")
        defer { m1.stop() }
        let m2 = try Daemon(["minion", "-c", root + "/m2"], log: root + "/m2.log")
        defer { m2.stop() }
        let env = ["BRINE_CONFIG_DIR": root + "/etc"]
        #expect(eventually { (try? brine(["key", "-l", "un"], environment: env))?.stdout.contains("m1") == true })
        _ = try brine(["key", "-y", "-a", "m1"], environment: env)

        // Logging in.
        #expect(try login("fred", "wrong").status == 401)
        #expect(try login("mallory", "x").status == 401)
        let pam = try login("fred", "fred-secret", eauth: "pam")
        #expect(pam.status == 401 && pam.body.contains("eauth backend 'pam' is not configured"))
        let answer = try login("fred", "fred-secret")
        #expect(answer.status == 200)
        let loginBody = try answer.json()
        #expect(validator.problems(loginBody, validator.schema("post", "/login") ?? .null).isEmpty, "\(loginBody)")
        let token = loginBody["return"]?[0]?["token"]?.stringValue ?? ""
        #expect(token.count == 64)

        // No token, a forged one: refused.
        #expect(try HTTPClient.request("GET", api + "/minions").status == 401)
        // The monitoring routes too, since this master did not make them public (issue 15).
        for path in ["/metrics", "/api/checks", "/"] {
            #expect(try HTTPClient.request("GET", api + path).status == 401, "\(path)")
            #expect(try requestWithToken("GET", path, token: token).status == 200, "\(path)")
        }
        #expect(try requestWithToken("GET", "/minions", token: String(repeating: "0", count: 64)).status == 401)

        #expect(eventually { (try? call("POST", "/", token: token, json: ["client": "local", "tgt": "m1", "fun": "test.ping"],
                                         validator: validator))?.body == ["return": [["m1": true]]] })
        let minions = try call("GET", "/minions", token: token, validator: validator)
        #expect(minions.body["return"]?[0]?["m1"]?["os"] != nil, "\(minions.body)")
        #expect(try call("GET", "/minions/m1", token: token, schemaPath: "/minions/{id}", validator: validator).status == 200)
        #expect(try call("GET", "/minions/nope", token: token, validator: validator).status == 404)

        // local_async gives a jid; the job is in the cache with its return.
        let async = try call("POST", "/", token: token, json: [["client": "local_async", "tgt": "m*", "fun": "test.arg", "arg": ["a"], "kwarg": ["k": 1]]],
                             validator: validator)
        let jid = async.body["return"]?[0]?["jid"]?.stringValue ?? ""
        #expect(jid.count == 20 && async.body["return"]?[0]?["minions"] == ["m1"], "\(async.body)")
        #expect(eventually { (try? call("GET", "/jobs/\(jid)", token: token, schemaPath: "/jobs/{jid}", validator: validator))?
            .body["return"]?[0]?["m1"] != nil })
        let jobs = try call("GET", "/jobs", token: token, validator: validator)
        #expect(jobs.body["return"]?[0]?[jid]?["Function"] == "test.arg")

        // Not in fred's ACL: refused, nothing published.
        let refused = try call("POST", "/", token: token, json: ["client": "local", "tgt": "m1", "fun": "cmd.run", "arg": ["id"]], validator: validator)
        #expect(refused.status == 403 && refused.body["error"]?.stringValue?.contains("not authorised: user fred may not run cmd.run") == true,
                "\(refused.body)")
        #expect(!(try brine(["jobs", "list", "--out", "json"], environment: env).stdout.contains("cmd.run")))

        // Keys, with @wheel.
        let keys = try call("GET", "/keys", token: token, validator: validator)
        #expect(keys.body["return"]?["minions_pre"] == ["m2"] && keys.body["return"]?["minions"] == ["m1"], "\(keys.body)")
        // An impostor's key for m2, denied (issue 15, 6): accepting m2 takes the pending key,
        // never the denied one (before, denied came first and the impostor got in).
        let pki = root + "/etc/brine/pki/master"
        let realKey = try String(contentsOfFile: pki + "/minions_pre/m2", encoding: .utf8)
        try KeyFiles.writePublicKey(StaticKeyPair.generate().publicKey, to: pki + "/minions_denied/m2")
        let impostorKey = try String(contentsOfFile: pki + "/minions_denied/m2", encoding: .utf8)
        let accepted = try call("POST", "/keys", token: token, json: ["match": "m2", "action": "accept"], validator: validator)
        #expect(accepted.status == 200, "\(accepted.body)")
        #expect(try brine(["key", "-l", "acc"], environment: env).stdout.contains("m2"))
        #expect(try String(contentsOfFile: pki + "/minions/m2", encoding: .utf8) == realKey)
        #expect(try String(contentsOfFile: pki + "/minions_denied/m2", encoding: .utf8) == impostorKey)
        // Nothing pending any more, and the denied key is not taken unless named.
        #expect(try call("POST", "/keys", token: token, json: ["match": "m2", "action": "accept"], validator: validator).status == 404)
        try FileManager.default.removeItem(atPath: pki + "/minions_denied/m2")
        #expect(try call("POST", "/keys", token: token, json: ["match": "m2", "action": "explode"], validator: validator).status == 400)

        // bob: grains.item only, no @wheel.
        let bob = try login("bob", "bob-secret").json()["return"]?[0]?["token"]?.stringValue ?? ""
        #expect(try call("GET", "/keys", token: bob, validator: validator).status == 403)
        #expect(try call("POST", "/", token: bob, json: ["tgt": "m1", "fun": "test.ping"], validator: validator).status == 403)
        // Nor does bob see fred's jobs (no @jobs), or the minions he may not read grains of (issue 15, 8).
        #expect(try call("GET", "/jobs", token: bob, validator: validator).body["return"]?[0] == .emptyMap)
        #expect(try call("GET", "/jobs/\(jid)", token: bob, validator: validator).status == 404)
        #expect(try call("GET", "/minions", token: bob, validator: validator).body["return"]?[0] == .emptyMap)

        // Events: returns as server-sent events.
        defer {
            // Last, as it blocks this address for a minute: failed logins are throttled (issue 15, 11).
            for _ in 0..<5 { _ = try? login("mallory", "guess") }
            #expect((try? login("mallory", "guess"))?.status == 429)
            #expect((try? login("fred", "fred-secret"))?.status == 429, "the address is throttled too")
        }
        let events = root + "/events.txt"
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-N", "--max-time", "120", "-H", "X-Auth-Token: \(token)", "-o", events, api + "/events"]
        try curl.run()
        defer {
            // SIGKILL: the test process's threads block SIGTERM, and a child inherits that mask.
            if curl.isRunning { kill(curl.processIdentifier, SIGKILL) }
            curl.waitUntilExit()
        }
        func streamed() -> String { (try? String(contentsOfFile: events, encoding: .utf8)) ?? "" }
        // The stream sends returns newer than when it started: the job goes once it has.
        #expect(eventually(60) { streamed().hasPrefix("retry: 400") }, "\(streamed())")
        _ = try call("POST", "/", token: token, json: ["client": "local", "tgt": "m1", "fun": "test.echo", "arg": ["event-marker"]], validator: validator)
        #expect(eventually(60) { streamed().contains("\"return\": \"event-marker\"") }, "\(streamed())")
        #expect(streamed().contains("tag: salt/job/") && streamed().contains("/ret/m1\ndata: {"), "\(streamed())")

        // Tokens live token_expire seconds (their expiry: AccessControlTests.tokensExpire).
        let issued = try #require(loginBody["return"]?[0])
        #expect(issued["expire"]?.doubleValue.flatMap { end in issued["start"]?.doubleValue.map { end - $0 } } == 600, "\(issued)")
    }
}

/// TLS on the HTTP port (rest_api ssl_crt/ssl_key) and https:// checks
/// verified against `monitor: {ca_file}`.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"))) struct HTTPSTests {
    let root = tempDir()
    let port = testPort()

    func sh(_ command: String) throws -> Run { try shell(command, cwd: root) }

    @Test func theHTTPPortSpeaksTLSAndHttpsChecksVerifyCertificates() throws {
        let made = try sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=localhost "
            + "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>&1")
        #expect(made.code == 0, "\(made.stdout)")
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try """
            interface: 127.0.0.1
            ret_port: \(testPort())
            root_dir: \(root)/
            monitor:
              enabled: true
              ca_file: \(root)/cert.pem
            rest_api:
              enabled: true
              port: \(port)
              ssl_crt: \(root)/cert.pem
              ssl_key: \(root)/key.pem
            """.write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        let master = try Daemon(["master", "-c", root + "/etc", "--log-level", "info"], log: root + "/master.log")
        defer { master.stop() }
        let url = "https://localhost:\(port)"
        #expect(eventually { (try? sh("curl -sf --cacert cert.pem \(url)/openapi.json -o /dev/null"))?.code == 0 }, "\(master.output)")
        #expect(master.output.contains("[INFO    ] HTTP port on https://127.0.0.1:\(port)/"))
        #expect(try sh("curl -sf http://127.0.0.1:\(port)/openapi.json -o /dev/null").code != 0)
        #expect(try sh("curl -sf \(url)/openapi.json -o /dev/null").code != 0, "an unknown CA is refused")
        // TLS 1.2 at least (issue 15): a client limited to 1.1 gets no connection.
        #expect(try sh("curl -sf --cacert cert.pem --tlsv1.0 --tls-max 1.1 \(url)/openapi.json -o /dev/null").code != 0)
        #expect(try sh("curl -sf --cacert cert.pem --tlsv1.2 --tls-max 1.2 \(url)/openapi.json -o /dev/null").code == 0)

        // The master polls itself over https, trusting ca_file; a plain-HTTP port fails the handshake.
        let create = """
            curl -sf --cacert cert.pem -X PUT -H 'Content-Type: application/json' \
            -d '{"url": "\(url)/metrics", "interval": 0.3, "name": "self"}' \(url)/api/checks
            """
        #expect(try sh(create).code == 0)
        let plain = """
            curl -sf --cacert cert.pem -X PUT -H 'Content-Type: application/json' \
            -d '{"url": "https://127.0.0.1:1/", "interval": 0.3, "name": "nothing"}' \(url)/api/checks
            """
        #expect(try sh(plain).code == 0)
        var checks: Value = .null
        #expect(eventually {
            checks = (try? JSON.decode(try sh("curl -s --cacert cert.pem \(url)/api/checks").stdout)) ?? .null
            return checks.listValue?.allSatisfy { $0["isUp"] != .null } == true
        }, "\(checks)")
        #expect(checks.listValue?.first { $0["name"] == "self" }?["isUp"] == true, "\(checks)")
        #expect(checks.listValue?.first { $0["name"] == "nothing" }?["isUp"] == false)
    }
}

/// eauth pam against a real local user's password (pam_unix, as root).
@Suite(.serialized, .enabled(if: geteuid() == 0 && FileManager.default.fileExists(atPath: "/etc/pam.d/login"))) struct PAMAuthTests {
    let root = tempDir()
    let user = "brinepam\(Int.random(in: 1000...9999))"
    let port = testPort()


    var api: String { "http://127.0.0.1:\(port)" }

    /// A master whose REST API knows `user` through PAM (`service`: the
    /// master's `auth.pam.service`, `login` by default), answering.
    func startMaster(service: String? = nil) throws -> Daemon {
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try """
            interface: 127.0.0.1
            ret_port: \(testPort())
            root_dir: \(root)/
            rest_api: {enabled: true, port: \(port)}
            external_auth:
              pam:
                \(user): [test.ping]
            \(service.map { "auth.pam.service: \($0)" } ?? "")
            """.write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        let master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master.log")
        #expect(eventually { (try? HTTPClient.request("GET", api + "/openapi.json", timeout: 1))?.status == 200 }, "\(master.output)")
        return master
    }

    @Test func aLocalUsersPasswordLogsIn() throws {
        #expect(try shell("useradd -M -s /usr/sbin/nologin \(user) && echo '\(user):S3cret-pam' | chpasswd").code == 0)
        defer { _ = try? shell("userdel \(user)") }
        let master = try startMaster()
        defer { master.stop() }
        func login(_ password: String) throws -> HTTPClient.Response {
            try HTTPClient.request("POST", api + "/login", json: ["username": .string(user), "password": .string(password), "eauth": "pam"])
        }
        #expect(try login("wrong").status == 401)
        let ok = try login("S3cret-pam")
        #expect(ok.status == 200, "\(ok.body)")
        #expect(try ok.json()["return"]?[0]?["perms"] == ["test.ping"])
        let other = try HTTPClient.request("POST", api + "/login", json: ["username": "root", "password": "x", "eauth": "pam"])
        #expect(other.status == 401)
    }

    /// Issue 15 (11): PAM sleeps after a wrong password (pam_faildelay); it runs
    /// on threads of its own, so the port answers other requests meanwhile.
    /// Four wrong passwords at once (under the throttle's five); a request
    /// made while they are in flight is answered before any of them (PAM's
    /// fail delay is seconds; on the shared threads the page had to wait).
    @Test func wrongPAMPasswordsDoNotStallThePort() throws {
        #expect(try shell("useradd -M -s /usr/sbin/nologin \(user) && echo '\(user):S3cret-pam' | chpasswd").code == 0)
        defer { _ = try? shell("userdel \(user)") }
        // A service of the test's own whose failures wait 10 s (login's wait 3; two threads check, so the four take 20 s): the page has
        // that long to be answered first, however loaded the machine.
        let service = "brine-test-\(user)"
        try """
            auth optional pam_faildelay.so delay=10000000
            auth required pam_unix.so nodelay
            account required pam_unix.so
            """.write(toFile: "/etc/pam.d/" + service, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: "/etc/pam.d/" + service) }
        let master = try startMaster(service: service)
        defer { master.stop() }
        let finished = Mutex<[String]>([])
        let logins = (0..<4).map { i in
            Thread {
                let answer = try? HTTPClient.request("POST", api + "/login", json: ["username": .string(user), "password": .string("wrong\(i)"), "eauth": "pam"],
                                                     timeout: 60)
                finished.withLock { $0.append("login \(answer?.status ?? 0)") }
            }
        }
        for thread in logins { thread.start() }
        Thread.sleep(forTimeInterval: 0.3)
        let page = try HTTPClient.request("GET", api + "/openapi.json", timeout: 60)
        finished.withLock { $0.append("page \(page.status)") }
        #expect(eventually(120) { finished.withLock { $0.count } == 5 })
        let order = finished.withLock { $0 }
        #expect(order.first == "page 200", "\(order): the page waited for PAM checks")
        #expect(order.filter { $0 == "login 401" }.count == 4, "\(order)")
    }
}
