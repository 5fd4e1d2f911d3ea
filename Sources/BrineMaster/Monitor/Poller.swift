import BrineCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Polls the checks that are due, at most `concurrency` at a time, and
/// records each result. Runs inside the master until cancelled.
public struct MonitorPoller: Sendable {
    let store: any MonitorStore
    let concurrency: Int
    /// A poll that takes longer is down (timed out).
    let timeout: Double
    /// Seconds pings are kept (the uptime app's `pingHistory`, three months
    /// by default); 0 keeps them all. Their check keeps counting them.
    let pingHistory: Double
    /// How often old pings are dropped, in seconds (and once when the poller starts): hourly.
    let pruneInterval: Double
    /// Pings dropped per transaction: a first prune of years of pings must
    /// not hold the job cache's writer (returns wait for it) for long.
    static let pruneBatch = 10_000
    static let logger = Logger.brine("brine.master.monitor")
    /// For https:// checks: the system's trust roots, plus `caFile`'s.
    let tls: NIOSSLContext?

    public init(store: any MonitorStore, concurrency: Int = 16, timeout: Double = 10, caFile: String? = nil,
                pingHistory: Double = 93 * 86_400) {
        self.init(store: store, concurrency: concurrency, timeout: timeout, caFile: caFile, pingHistory: pingHistory, pruneInterval: 3600)
    }

    /// `pruneInterval`: tests make it short.
    init(store: any MonitorStore, concurrency: Int, timeout: Double, caFile: String?, pingHistory: Double, pruneInterval: Double) {
        self.pruneInterval = pruneInterval
        self.store = store
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.pingHistory = max(0, pingHistory)
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
            } catch {
                Self.logger.error("monitor: cannot read ca_file \(caFile): \(error)")
            }
        }
        tls = try? NIOSSLContext(configuration: configuration)
    }

    public func run() async {
        let inFlight = InFlight()
        var lastPruned = Date().timeIntervalSince1970
        // Before the first polls: a store from before may hold years of pings (dropped a batch at a time).
        if pingHistory > 0 { await prune(before: lastPruned - pingHistory) }
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let now = Date().timeIntervalSince1970
                if pingHistory > 0, now - lastPruned >= pruneInterval, !inFlight.pruning.withLock({ $0 }) {
                    lastPruned = now
                    inFlight.pruning.withLock { $0 = true }
                    // Beside the polls, which go on meanwhile.
                    group.addTask {
                        await prune(before: now - pingHistory)
                        inFlight.pruning.withLock { $0 = false }
                    }
                }
                let busy = inFlight.ids.withLock { $0 }
                let due = ((try? await store.due(now: Date().timeIntervalSince1970)) ?? []).filter { !busy.contains($0.id) }
                for check in due.prefix(max(0, concurrency - busy.count)) {
                    inFlight.ids.withLock { _ = $0.insert(check.id) }
                    group.addTask {
                        let ping = await probe(check)
                        do { try await store.record(ping) } catch { Self.logger.error("monitor: recording \(check.url) failed: \(error)") }
                        inFlight.ids.withLock { _ = $0.remove(check.id) }
                    }
                }
                try? await Task.sleep(nanoseconds: 100_000_000)
            }
        }
    }

    /// Drops the pings older than the history kept, a batch at a time; a
    /// failure waits for the next turn.
    func prune(before: Double) async {
        var gone = 0
        do {
            while !Task.isCancelled {
                let batch = try await store.prune(before: before, limit: Self.pruneBatch)
                gone += batch
                if batch < Self.pruneBatch { break }
                await Task.yield()
            }
        } catch {
            Self.logger.error("monitor: dropping old pings failed: \(error)")
        }
        if gone > 0 { Self.logger.info("monitor: \(gone) ping(s) older than \(Check.isoDate(before)) dropped (ping_history)") }
    }

    /// One poll: an HTTP GET (up when the status is below 400) or a TCP connect.
    public func probe(_ check: Check) async -> Ping {
        let started = Date()
        func ping(up: Bool, status: Int? = nil, error: String? = nil) -> Ping {
            let ms = Date().timeIntervalSince(started) * 1000
            return Ping(checkID: check.id, timestamp: started.timeIntervalSince1970, isUp: up, isResponsive: up && ms <= Double(check.maxTimeMS),
                        timeMS: ms, status: status, error: error)
        }
        guard let target = HTTPTarget(check.url) else { return ping(up: false, error: "cannot parse the URL \(check.url)") }
        do {
            let status = try await withTimeout(timeout) {
                try await check.type == .tcp ? connectOnly(target) : httpGet(target, secure: check.type == .https)
            }
            guard let status else { return ping(up: true) }
            return status < 400 ? ping(up: true, status: status) : ping(up: false, status: status, error: "HTTP \(status)")
        } catch is TimeoutError {
            return ping(up: false, error: "timed out after \(timeout) s")
        } catch {
            return ping(up: false, error: "\(error)")
        }
    }

    private func connectOnly(_ target: HTTPTarget) async throws -> Int? {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(timeout * 1000)))
            .connect(host: target.host, port: target.port).get()
        try? await channel.close()
        return nil
    }

    private func httpGet(_ target: HTTPTarget, secure: Bool) async throws -> Int? {
        let tls = self.tls
        if secure, tls == nil { throw BrineError(.config, "no TLS context for https checks") }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(timeout * 1000)))
            .connect(host: target.host, port: target.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if secure, let tls {
                        // The name is checked against the certificate (an IP address is verified as one).
                        let name = target.host.first?.isNumber == true || target.host.contains(":") ? nil : target.host
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: name))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.path)
            head.headers.add(name: "Host", value: target.hostHeader)
            head.headers.add(name: "User-Agent", value: "brine-monitor/\(Brine.version)")
            head.headers.add(name: "Connection", value: "close")
            try await outbound.write(contentsOf: [.head(head), .end(nil)])
            for try await part in inbound {
                if case .head(let response) = part { return Int(response.status.code) }
            }
            throw BrineError(.io, "the server closed the connection without answering")
        }
    }
}

/// Checks being polled now (shared with the polling tasks).
final class InFlight: Sendable {
    let ids = Mutex<Set<String>>([])
    /// Old pings are being dropped (one prune at a time).
    let pruning = Mutex(false)
}

/// `scheme://host[:port][/path]` split for a request.
struct HTTPTarget {
    var host: String
    var port: Int
    var path: String
    var hostHeader: String

    init?(_ url: String) {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else { return nil }
        let defaultPort = components.scheme == "https" ? 443 : 80
        self.host = host
        port = components.port ?? defaultPort
        let query = components.percentEncodedQuery.map { "?" + $0 } ?? ""
        path = (components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath) + query
        hostHeader = components.port.map { "\(host):\($0)" } ?? host
        if components.scheme == "tcp" && components.port == nil { return nil }
    }
}
