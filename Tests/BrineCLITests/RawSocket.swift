import Foundation
import Glibc
import Synchronization

/// A blocking socket for tests that must send exactly the bytes they mean,
/// malformed ones included (a real HTTP or wire client would refuse to).
final class RawSocket {
    let fd: Int32

    /// TCP to 127.0.0.1:port.
    convenience init(port: Int) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        try self.init(family: AF_INET, address: address)
    }

    /// A unix socket at `path`.
    convenience init(unixPath path: String) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        try self.init(family: AF_UNIX, address: address)
    }

    init<Address>(family: Int32, address: Address) throws {
        fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        var address = address
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        setTimeout(10)
    }

    deinit { close(fd) }

    func setTimeout(_ seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes all of `bytes` (false when the peer closed first).
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Reads until the peer closes, `limit` bytes, or the timeout.
    func readAll(limit: Int = 1 << 20) -> [UInt8] {
        read(atLeast: limit)
    }

    /// Reads at least `count` bytes (fewer when the peer closed or timed out).
    func read(atLeast count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while out.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buffer[..<n]
        }
        return out
    }
}

/// SplitMix64: the same "random" inputs on every run, so a failure names its seed and case.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    mutating func pick<T>(_ items: [T]) -> T {
        items[Int.random(in: 0..<items.count, using: &self)]
    }
}

/// A port for a test's daemon, below Linux's ephemeral range (32768–60999):
/// a swarm test leaves thousands of client sockets in TIME_WAIT on ephemeral
/// ports, and a later test binding one of them would fail at random.
///
/// Each call gives another port (the suites run at once in one process and
/// take about fifty: drawn at random, two of them met in one run in twelve),
/// and one that 127.0.0.1 could bind just now.
func testPort() -> Int {
    TestPorts.next()
}

enum TestPorts {
    static let first = 20000, count = 12000
    static let offset = Atomic(Int.random(in: 0..<count))

    static func next() -> Int {
        for _ in 0..<count {
            let port = first + offset.wrappingAdd(1, ordering: .relaxed).oldValue % count
            if isFree(port) { return port }
        }
        return Int.random(in: first..<first + count)
    }

    /// Whether a listening socket could bind `port` on 127.0.0.1 now.
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
