import BrineCore
import Foundation
import NIOSSL
import PostgresNIO

/// `cluster_database: postgresql://USER[:PASS]@HOST[:PORT]/DB[?sslmode=…&sslrootcert=…]`,
/// libpq's URL form. `sslmode` takes libpq's words; as libpq, `prefer` when
/// absent. A unix socket is `postgresql:///DB?host=/run/postgresql`.
public struct DatabaseURL: Sendable, Equatable {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    public var sslRootCert: String?

    /// Where the error says what to write: the URL's password is never repeated.
    public init(_ text: String) throws(BrineError) {
        func bad(_ what: String) -> BrineError {
            BrineError(.config, "cluster_database: \(what)", hint: "write postgresql://USER[:PASSWORD]@HOST:PORT/DATABASE")
        }
        guard let schemeEnd = text.range(of: "://"), ["postgresql", "postgres"].contains(text[..<schemeEnd.lowerBound].lowercased()) else {
            throw bad("not a postgresql:// URL")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: [String: String] = [:]
        if let mark = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let key = parts[0].removingPercentEncoding, let value = parts[1].removingPercentEncoding else {
                    throw bad("the parameter '\(LogText.escape(String(pair)))' is not NAME=VALUE")
                }
                query[key] = value
            }
            rest = rest[..<mark]
        }
        var authority = rest
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        var userInfo = Substring("")
        if let at = authority.lastIndex(of: "@") {
            userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
        }
        let userParts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).removingPercentEncoding }
        user = (userParts.first ?? nil) ?? ""
        password = userParts.count > 1 ? userParts[1] : nil
        if userParts.contains(where: { $0 == nil }) { throw bad("the user or password is not percent-encoded correctly") }
        // host, host:port, [v6]:port
        var hostText = String(authority)
        var portText: String? = nil
        if hostText.hasPrefix("[") {
            guard let close = hostText.firstIndex(of: "]") else { throw bad("an IPv6 host needs its closing ']'") }
            let after = hostText[hostText.index(after: close)...]
            if after.hasPrefix(":") { portText = String(after.dropFirst()) } else if !after.isEmpty { throw bad("unexpected text after ']'") }
            hostText = String(hostText[hostText.index(after: hostText.startIndex)..<close])
        } else if let colon = hostText.lastIndex(of: ":") {
            portText = String(hostText[hostText.index(after: colon)...])
            hostText = String(hostText[..<colon])
        }
        host = query["host"] ?? (hostText.removingPercentEncoding ?? hostText)
        if host.isEmpty { host = "localhost" }
        let portValue = query["port"] ?? portText
        if let portValue {
            guard let number = Int(portValue), (1...65535).contains(number) else { throw bad("port '\(LogText.escape(portValue))' is not 1-65535") }
            port = number
        } else {
            port = 5432
        }
        if query["user"] != nil { user = query["user"] ?? user }
        if query["password"] != nil { password = query["password"] }
        guard !user.isEmpty else { throw bad("no user") }
        database = query["dbname"] ?? (String(path).removingPercentEncoding ?? "")
        if database.isEmpty { database = user }
        let mode = query["sslmode"] ?? "prefer"
        guard let chosen = SSLMode(rawValue: mode) else {
            throw bad("sslmode '\(LogText.escape(mode))' is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        sslMode = chosen
        sslRootCert = query["sslrootcert"]
        let unknown = Set(query.keys).subtracting(["host", "port", "user", "password", "dbname", "sslmode", "sslrootcert", "application_name", "connect_timeout"])
        if let first = unknown.sorted().first { throw bad("unknown parameter '\(LogText.escape(first))'") }
    }

    /// What a log may show: no password.
    public var redacted: String { "postgresql://\(user)@\(host.hasPrefix("/") ? "" : host):\(port)/\(database)" }

    var isUnixSocket: Bool { host.hasPrefix("/") }

    /// libpq's modes on NIOSSL's settings (nil: no TLS): `verify-*` check
    /// the chain (against `sslrootcert` when given), `verify-full` the host
    /// name too; `require` and `prefer` encrypt without checking, as libpq
    /// does without a root file.
    func tlsSettings() throws(BrineError) -> (configuration: TLSConfiguration, required: Bool)? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable: return nil
        case .allow, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let sslRootCert {
            guard FileManager.default.isReadableFile(atPath: sslRootCert) else {
                throw BrineError(.config, "cluster_database: sslrootcert \(sslRootCert) cannot be read")
            }
            configuration.trustRoots = .file(sslRootCert)
        }
        return (configuration, [.require, .verifyCA, .verifyFull].contains(sslMode))
    }

    func clientConfiguration() throws(BrineError) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if isUnixSocket {
            configuration = .init(unixSocketPath: host + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS = switch try tlsSettings() {
            case .none: .disable
            case .some(let settings): settings.required ? .require(settings.configuration) : .prefer(settings.configuration)
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        // A master's statements are batched (a few writers at a time): ten connections
        // keep it busy, and each keeps buffers as large as its largest statement.
        configuration.options.maximumConnections = 10
        return configuration
    }

    func connectionConfiguration() throws(BrineError) -> PostgresConnection.Configuration {
        if isUnixSocket {
            return .init(unixSocketPath: host + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        var tls = PostgresConnection.Configuration.TLS.disable
        if let settings = try tlsSettings() {
            do {
                let context = try NIOSSLContext(configuration: settings.configuration)
                tls = settings.required ? .require(context) : .prefer(context)
            } catch {
                throw BrineError(.config, "cluster_database: TLS settings: \(error)")
            }
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}
