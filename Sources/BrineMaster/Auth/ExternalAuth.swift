import BrineCore
import CBrineShims
import Crypto
import Foundation
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
        if eauth == "pam", let backend = config["pam"]?.mapValue {
            guard !username.isEmpty, brine_pam_authenticate(pamService, username, password) == 0 else { throw .badCredentials }
            return try permitted(backend, username)
        }
        guard eauth == "file", let backend = config["file"]?.mapValue else { throw .unknownBackend(eauth) }
        guard let path = backend["^filename"]?.stringValue,
            let text = try? String(contentsOfFile: path, encoding: .utf8)
        else { throw .badCredentials }
        let separator = backend["^field_separator"]?.stringValue ?? ":"
        let hashType = backend["^hashtype"]?.stringValue ?? "plaintext"
        let stored = text.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: Character(separator), maxSplits: 1).map(String.init)
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
