import BrineCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 client for execution modules (the monitor
/// module talks to the master's API with it). Plain `http://` only; one
/// request per connection. BrineModules stays free of NIO (DESIGN.md,
/// "Build cost"), and module functions run on their own threads anyway.
public enum HTTPClient {
    public struct Response: Sendable {
        public var status: Int
        /// The body as received (archives, binaries).
        public var bytes: [UInt8]
        public var body: String { String(decoding: bytes, as: UTF8.self) }

        public func json() throws(BrineError) -> Value { try JSON.decode(body, file: "HTTP response") }
    }

    /// `limit`: the largest answer taken, in bytes (16 MiB unless a
    /// caller downloads files).
    public static func request(_ method: String, _ url: String, json: Value? = nil, headers: [String: String] = [:],
                               timeout: Double = 10, limit: Int = 16 << 20) throws(BrineError) -> Response
    {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host else {
            throw BrineError(.arguments, "'\(url)' is not an http:// URL")
        }
        let port = components.port ?? 80
        let path = (components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath)
            + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        let fd = try connect(host: host, port: port, timeout: timeout)
        defer { close(fd) }
        let body = json.map { Array(JSON.encode($0, indent: nil).utf8) } ?? []
        return try exchange(fd, method, path, host: "\(host):\(port)", body: body, contentType: json != nil ? "application/json" : nil,
                            headers: headers, url: url, limit: limit)
    }

    /// A request over a unix socket (the Docker engine's): `path` with its
    /// query, `body` as given.
    public static func request(_ method: String, path: String, unixSocket: String, body: [UInt8] = [], contentType: String? = nil,
                               timeout: Double = 60, limit: Int = 64 << 20) throws(BrineError) -> Response
    {
        let fd = try connect(unixSocket: unixSocket, timeout: timeout)
        defer { close(fd) }
        return try exchange(fd, method, path, host: "localhost", body: body, contentType: contentType, headers: [:],
                            url: "unix://\(unixSocket)\(path)", limit: limit)
    }

    static func exchange(_ fd: Int32, _ method: String, _ path: String, host: String, body: [UInt8], contentType: String?,
                         headers: [String: String], url: String, limit: Int) throws(BrineError) -> Response
    {
        func clean(_ s: String) -> Bool { !s.contains("\r") && !s.contains("\n") }
        guard clean(method), clean(path), !method.contains(" "), !path.contains(" ") else {
            throw BrineError(.arguments, "a request line may not contain spaces or line breaks")
        }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: brine/\(Brine.version)\r\nConnection: close\r\n"
        if let contentType, clean(contentType) { head += "Content-Type: \(contentType)\r\n" }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) where clean(name) && clean(value) {
            head += "\(name): \(value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\n\r\n"
        try send(fd, Array(head.utf8) + body, url: url)
        return try parse(try receive(fd, url: url, limit: limit), url: url)
    }

    /// Seconds as a socket timeout, clamped (never NaN, negative or past a
    /// year, which an unchecked conversion would trap on).
    static func socketTimeout(_ seconds: Double) -> timeval {
        let clamped = seconds.isFinite ? min(max(seconds, 0.001), 31_536_000) : 31_536_000
        let whole = clamped.rounded(.down)
        return timeval(tv_sec: Int(whole), tv_usec: Int((clamped - whole) * 1_000_000))
    }

    static func connect(unixSocket path: String, timeout: Double) throws(BrineError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw BrineError(.arguments, "socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BrineError(.io, "cannot create a socket: \(systemError(errno))") }
        var tv = socketTimeout(timeout)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw BrineError(.io, "cannot connect to \(path): \(systemError(error))")
        }
        return fd
    }

    /// A file's bytes from an `http://` URL (up to 1 GiB); any status but
    /// 2xx is an error naming it.
    public static func download(_ url: String, timeout: Double = 120) throws(BrineError) -> [UInt8] {
        let response = try request("GET", url, timeout: timeout, limit: 1 << 30)
        guard (200..<300).contains(response.status) else { throw BrineError(.execution, "Error: HTTP \(response.status) fetching \(url)") }
        return response.bytes
    }

    /// Salt's `redact_http_basic_auth`: what comes between `http(s)://` and
    /// the line's last `@` is a user and password, shown as `<redacted>`.
    public static func redactBasicAuth(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let lower = line.lowercased()
            guard let scheme = lower.range(of: "https://") ?? lower.range(of: "http://"),
                  let at = lower.lastIndex(of: "@"), at > scheme.upperBound
            else { return String(line) }
            return String(line[..<scheme.upperBound]) + "<redacted>" + String(line[at...])
        }.joined(separator: "\n")
    }

    static func connect(host: String, port: Int, timeout: Double) throws(BrineError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw BrineError(.io, "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        var lastError: Int32 = 0
        while let info = entry {
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd >= 0 {
                var tv = socketTimeout(timeout)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
                lastError = errno
                close(fd)
            }
            entry = info.pointee.ai_next
        }
        throw BrineError(.io, "cannot connect to \(host):\(port): \(systemError(lastError))")
    }

    static func send(_ fd: Int32, _ bytes: [UInt8], url: String) throws(BrineError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw BrineError(.io, "sending to \(url) failed: \(systemError(errno))") }
            offset += n
        }
    }

    static func receive(_ fd: Int32, url: String, limit: Int) throws(BrineError) -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return data }
            guard n > 0 else { throw BrineError(.io, "reading from \(url) failed: \(systemError(errno))") }
            data += buffer[..<n]
            guard data.count <= limit else { throw BrineError(.io, "the answer from \(url) is larger than \(limit >> 20) MiB") }
        }
    }

    static func parse(_ raw: [UInt8], url: String) throws(BrineError) -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = raw.indices.first(where: { raw[$0...].starts(with: separator) }) else {
            throw BrineError(.io, "\(url) sent no HTTP answer")
        }
        let head = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw BrineError(.io, "\(url) sent a bad status line") }
        var body = Array(raw[(end + 4)...])
        let chunked = head.dropFirst().contains { $0.lowercased().hasPrefix("transfer-encoding:") && $0.lowercased().contains("chunked") }
        if chunked { body = dechunk(body) }
        return Response(status: status, bytes: body)
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            guard let lineEnd = bytes[i...].firstIndex(of: 13) else { break }
            let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            guard start <= bytes.count, size <= bytes.count - start else { break }
            out += bytes[start..<start + size]
            i = start + size + 2
        }
        return out
    }
}
