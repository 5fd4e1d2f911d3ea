import BrineCore
import CBrineShims
import Crypto
import Foundation
import NIOPosix
import OrderedCollections
import Synchronization

/// `external_auth` for the REST API, Salt's syntax:
///
/// ```yaml
/// external_auth:
///   file:
///     ^filename: /etc/brine/api-users     # "user:hexdigest" per line
///     ^hashtype: sha256                   # plaintext, md5, sha1, sha256, sha512
///     ^field_separator: ':'
///     fred: ['web*': ['test.*', 'state.*']]
///     'admins%': ['.*']
/// ```
///
/// Backends: `file`, and `pam` (libpam loaded when first used; the PAM
/// service is `auth.pam.service` in the master config, `login` by default,
/// as in Salt). The master checks PAM passwords as the user it runs as:
/// pam_unix reads /etc/shadow only as root.
public struct ExternalAuth: Sendable {
    let config: Value
    let pamService: String

    public init(_ opts: Config) {
        config = opts["external_auth"] ?? .emptyMap
        pamService = opts["auth.pam.service"]?.stringValue ?? "login"
    }

    public enum Failure: Error, Equatable { case unknownBackend(String), badCredentials, notPermitted }

    /// Checks the password; returns the user's ACL on success.
    public func authenticate(eauth: String, username: String, password: String) throws(Failure) -> AccessControl {
        // C sees a NUL as the end: "alice\0x" would be checked as alice and granted as someone else.
        guard !username.utf8.contains(0), !password.utf8.contains(0), username.utf8.count <= 256, password.utf8.count <= 4096 else {
            throw .badCredentials
        }
        if eauth == "pam", let backend = config["pam"]?.mapValue {
            guard !username.isEmpty, brine_pam_authenticate(pamService, username, password) == 0 else { throw .badCredentials }
            return try permitted(backend, username)
        }
        guard eauth == "file", let backend = config["file"]?.mapValue else { throw .unknownBackend(eauth) }
        guard let path = backend["^filename"]?.stringValue,
            let text = try? String(contentsOfFile: path, encoding: .utf8)
        else { throw .badCredentials }
        let separator = backend["^field_separator"]?.stringValue?.first ?? ":"
        let hashType = backend["^hashtype"]?.stringValue ?? "plaintext"
        let stored = text.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: separator, maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1].trimmingCharacters(in: .whitespaces)) : nil
        }
        guard let entry = stored.first(where: { $0.0 == username }),
            Self.constantTimeEqual(entry.1, Self.digest(password, hashType))
        else { throw .badCredentials }
        return try permitted(backend, username)
    }

    /// The backend's rules (keys starting with ^ are its settings), when they name the user.
    func permitted(_ backend: OrderedDictionary<String, Value>, _ username: String) throws(Failure) -> AccessControl {
        var rules = OrderedDictionary<String, Value>()
        for (key, value) in backend where !key.hasPrefix("^") { rules[key] = value }
        let acl = AccessControl(rules: .map(rules), blacklist: .emptyMap, superUsers: [])
        guard acl.hasEntry(for: username, groups: PeerUser.groups(of: username)) else { throw .notPermitted }
        return acl
    }

    static func digest(_ password: String, _ type: String) -> String {
        switch type {
        case "plaintext": return password
        default: return (try? Hashing.hexDigest(Array(password.utf8), algorithm: type)) ?? ""
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension ExternalAuth {
    /// PAM blocks (pam_faildelay sleeps ~3 s after a wrong password): it runs
    /// here, on two threads of its own, never on the threads that serve
    /// jobs and requests. Callers beyond two wait their turn.
    static let pamPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    /// `authenticate` off the shared threads.
    public func authenticateOffThread(eauth: String, username: String, password: String) async throws -> AccessControl {
        try await Self.pamPool.runIfActive { try self.authenticate(eauth: eauth, username: username, password: password) }
    }
}

/// Failed logins per user and per address: after `limit` failures within
/// `window` seconds, further attempts are refused at once (429) until the
/// window has passed, so guessing costs time and PAM is not flooded.
public final class LoginThrottle: Sendable {
    let limit: Int
    let window: Double
    private let failures = Mutex<[String: [Double]]>([:])

    public init(limit: Int = 5, window: Double = 60) {
        self.limit = limit
        self.window = window
    }

    public func isBlocked(_ keys: [String], now: Double = Date().timeIntervalSince1970) -> Bool {
        failures.withLock { table in
            keys.contains { key in (table[key] ?? []).filter { now - $0 < window }.count >= limit }
        }
    }

    public func recordFailure(_ keys: [String], now: Double = Date().timeIntervalSince1970) {
        failures.withLock { table in
            if table.count > 10_000 { table = table.filter { $0.value.contains { now - $0 < window } } }
            for key in keys { table[key, default: []] = (table[key] ?? []).filter { now - $0 < window } + [now] }
        }
    }
}

/// Login tokens: random, kept by the master (in memory: a restart logs
/// everyone out), valid for `token_expire` seconds.
public final class TokenStore: Sendable {
    public struct Session: Sendable {
        public var token: String
        public var user: String
        public var eauth: String
        public var start: Double
        public var expire: Double
        public var acl: AccessControl
    }

    private let sessions = Mutex<[String: Session]>([:])
    let lifetime: Double

    public init(lifetime: Double) { self.lifetime = lifetime }

    public func issue(user: String, eauth: String, acl: AccessControl, now: Double = Date().timeIntervalSince1970) -> Session {
        let token = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.map { String(format: "%02x", $0) }.joined()
        let session = Session(token: token, user: user, eauth: eauth, start: now, expire: now + lifetime, acl: acl)
        sessions.withLock { table in
            table = table.filter { $0.value.expire > now }  // expired ones go as new ones come
            table[token] = session
        }
        return session
    }

    /// The live session of a token; expired ones are dropped.
    public func session(_ token: String, now: Double = Date().timeIntervalSince1970) -> Session? {
        sessions.withLock { table in
            guard let session = table[token] else { return nil }
            guard session.expire > now else {
                table[token] = nil
                return nil
            }
            return session
        }
    }
}
