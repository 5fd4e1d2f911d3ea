import BrineCore
import BrineMaster
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import OrderedCollections

/// The master's HTTP port: the monitor's REST API (the uptime app's routes
/// under `/api`), statistics, Prometheus `/metrics` and the fleet page.
public struct MasterHTTP: Sendable {
    let monitor: any MonitorStore
    let jobs: JobCache
    let stateRuns: any StateRunStore
    let host: String
    let port: Int
    /// The REST API's routes are served only with a master to ask.
    let master: MasterDaemon?
    /// PEM certificate (chain) and key: HTTPS instead of HTTP.
    let certificate: (certificate: String, key: String)?

    /// Whether `/api/…`, `/metrics` and `/` answer without a token.
    let monitoringIsPublic: Bool

    /// `monitor`: the checks' store, `stateRuns` where state runs are read
    /// (each the job cache's when not given; the cluster's with `cluster_database`).
    public init(jobs: JobCache, monitor: (any MonitorStore)? = nil, stateRuns: (any StateRunStore)? = nil, host: String, port: Int,
                restAPI master: MasterDaemon? = nil, certificate: (String, String)? = nil, monitoringIsPublic: Bool = true)
    {
        self.monitoringIsPublic = monitoringIsPublic
        self.jobs = jobs
        self.stateRuns = stateRuns ?? jobs
        self.monitor = monitor ?? LocalMonitorStore(jobs: jobs)
        self.host = host
        self.port = port
        self.master = master
        self.certificate = certificate
    }

    /// Every route of the port (tests drive it in process).
    func makeRouter() -> Router<MasterRequestContext> {
        let router = Router(context: MasterRequestContext.self)
        router.add(middleware: BadRequests())
        let tokens = master.map { TokenStore(lifetime: $0.opts.double("token_expire") ?? 43200) }
        if !monitoringIsPublic { router.add(middleware: MonitoringNeedsToken(tokens: tokens)) }
        CheckRoutes(store: monitor).add(to: router)
        ReportRoutes(jobs: jobs, runs: stateRuns, monitor: monitor).add(to: router)
        router.get("openapi.json") { _, _ in Answer.json(OpenAPI.document) }
        if let master, let tokens {
            RESTRoutes(master: master, jobs: jobs, tokens: tokens, auth: ExternalAuth(master.opts)).add(to: router)
        }
        return router
    }

    /// Serves until the task is cancelled; `onRunning` gets the bound port.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = makeRouter()
        // The master logs the port itself; the server's own lines only when something is wrong.
        var logger = Logger(label: "brine.http")
        logger.logLevel = .warning
        let configuration = ApplicationConfiguration(address: .hostname(host, port: port), serverName: "brine")
        let running: @Sendable (any Channel) async -> Void = { channel in await onRunning(channel.localAddress?.port ?? 0) }
        if let certificate {
            var tls: TLSConfiguration
            do {
                tls = TLSConfiguration.makeServerConfiguration(
                    certificateChain: try NIOSSLCertificate.fromPEMFile(certificate.certificate).map { .certificate($0) },
                    privateKey: .privateKey(try NIOSSLPrivateKey(file: certificate.key, format: .pem)))
                // TLS 1.0 and 1.1 are broken: a client offering only those is refused.
                tls.minimumTLSVersion = .tlsv12
            } catch {
                throw BrineError(.config, "cannot load the HTTP port's certificate \(certificate.certificate) or key \(certificate.key): \(error)")
            }
            try await Application(router: router, server: .tls(.http1(), tlsConfiguration: tls), configuration: configuration,
                                  onServerRunning: running, logger: logger).run()
        } else {
            try await Application(router: router, configuration: configuration, onServerRunning: running, logger: logger).run()
        }
    }
}

/// JSON and error answers, as the uptime app writes them (`{error}` with 400/404/500).
enum Answer {
    static func json(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: JSON.encode(value, indent: nil))))
    }

    static func error(_ message: String, status: HTTPResponse.Status) -> Response {
        json(["error": .string(message)], status: status)
    }

    static func text(_ text: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A form (`application/x-www-form-urlencoded`) or JSON body as a map.
    static func body(_ request: Request, context: some RequestContext) async throws -> Value {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        let text = String(buffer: buffer)
        if request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
            var map = OrderedDictionary<String, Value>()
            for pair in text.split(separator: "&") {
                // "=" alone, "=x" and "k=" are all well-formed: a pair may have empty sides.
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                    String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
                }
                guard let key = parts.first, !key.isEmpty else { continue }
                map[key] = .string(parts.count > 1 ? parts[1] : "")
            }
            return .map(map)
        }
        return text.isEmpty ? .emptyMap : try JSON.decode(text, file: "request body")
    }
}

/// A request the handlers could not read (a body that is not JSON, a form
/// or number out of range) is the client's error: 400 with what is wrong,
/// never a 500, and the port keeps serving.
struct BadRequests: RouterMiddleware {
    typealias Context = MasterRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as BrineError {
            return Answer.error(error.description, status: .badRequest)
        }
    }
}

/// Hummingbird's basic context plus the peer's address (login throttling counts failures per address).
struct MasterRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The monitoring routes when they are not public: a live REST API token, or 401.
struct MonitoringNeedsToken: RouterMiddleware {
    typealias Context = MasterRequestContext
    let tokens: TokenStore?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let monitoring = path == "/" || path == "/metrics" || path == "/api" || path.hasPrefix("/api/")
        guard monitoring else { return try await next(request, context) }
        guard let token = request.headers[.authToken], tokens?.session(token) != nil else {
            return Answer.error("the monitoring routes need a token here (POST /login), or monitor: {enabled: true} to make them public",
                                status: .unauthorized)
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    /// salt-api's token header. A well-formed name, so the fallback is never taken.
    static let authToken: HTTPField.Name = HTTPField.Name("X-Auth-Token") ?? .authorization
}
