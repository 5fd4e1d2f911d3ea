import Foundation
import Glibc
import Synchronization

/// A TCP relay on 127.0.0.1 for tests: what reaches `port` is forwarded to
/// `target`, both ways. `stopListening()` refuses new connections while the
/// relayed ones go on: a master whose host no longer answers while the
/// minion's connection to it is still open (what `master_alive_interval`
/// finds; on loopback a killed master closes its connections at once).
final class TCPRelay: Sendable {
    let port: Int
    private let listener: Int32
    private let relayed = Mutex<[Int32]>([])
    /// The listener is shut down and closed once (a descriptor closed twice
    /// may by then be another test's).
    private let isListening = Atomic<Bool>(true)

    init(target: Int) throws {
        let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listening, pointer, length) == 0 && listen(listening, 64) == 0 && getsockname(listening, pointer, &length) == 0
            }
        }
        guard bound else {
            close(listening)
            throw POSIXError(.EADDRINUSE)
        }
        listener = listening
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listening, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    close(listening)  // stopListening shut it down: closed here, once
                    return
                }
                guard let upstream = try? RawSocket(port: target) else {
                    close(client)
                    continue
                }
                // RawSocket's read timeout would end a quiet relayed connection: none here.
                var none = timeval()
                setsockopt(upstream.fd, SOL_SOCKET, SO_RCVTIMEO, &none, socklen_t(MemoryLayout<timeval>.size))
                let server = dup(upstream.fd)
                relayed.withLock { $0 += [client, server] }
                Thread.detachNewThread { Self.pump(from: client, to: server) }
                Thread.detachNewThread { Self.pump(from: server, to: client) }
            }
        }
    }

    /// New connections are refused from now on; relayed ones go on.
    func stopListening() {
        guard isListening.exchange(false, ordering: .acquiringAndReleasing) else { return }
        shutdown(listener, Int32(SHUT_RDWR))  // wakes the accept above, which then closes it
    }

    /// Ends everything: relayed connections are shut down (their descriptors
    /// are left open, never closed under a pump still using them: a test's
    /// few connections).
    func stop() {
        stopListening()
        for fd in relayed.withLock({ $0 }) { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            var written = 0
            while written < count {
                let result = buffer[written..<count].withUnsafeBytes { send(destination, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { return }
                written += result
            }
        }
        shutdown(destination, Int32(SHUT_WR))
    }
}
