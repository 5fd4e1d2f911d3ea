import BrineCore
import Foundation

/// The masters a minion may talk to, in the order it tries them: Salt's
/// `master` (a name, or a list for several masters; `host:port` and
/// `[v6]:port` entries name their own port, others use `master_port`),
/// shuffled once at start with `random_master`.
///
/// A minion is connected to one master at a time (Salt's `master_type:
/// failover`, which Brine uses for any list: the masters of a cluster share
/// keys and jobs, so one connection reaches them all). When its master goes
/// away it moves to the next; after trying them all it waits, with the
/// acceptance back-off, and starts again at the first.
struct MasterList: Sendable, Equatable {
    struct Address: Sendable, Equatable, CustomStringConvertible {
        var host: String
        var port: Int
        var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    var addresses: [Address]

    /// Reads `master`, `master_port` and `random_master`; a bad entry is an
    /// error that names it.
    init(_ opts: Config) throws(BrineError) {
        let defaultPort = opts.int("master_port") ?? 4506
        let entries = opts["master"].map { $0.listValue ?? [$0] } ?? [.string("salt")]
        var addresses: [Address] = []
        for entry in entries {
            addresses.append(try Self.parse(entry.pythonString, defaultPort: defaultPort))
        }
        guard !addresses.isEmpty else {
            throw BrineError(.config, "'master' is an empty list", hint: "name the master: master: salt, or a list of masters")
        }
        if opts.bool("random_master") == true { addresses.shuffle() }
        self.addresses = addresses
    }

    init(addresses: [Address]) {
        self.addresses = addresses
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address
    /// (more than one colon) takes the default port.
    static func parse(_ text: String, defaultPort: Int) throws(BrineError) -> Address {
        let entry = text.trimmingCharacters(in: .whitespaces)
        func port(_ digits: Substring) throws(BrineError) -> Int {
            guard let port = Int(digits), (1...65535).contains(port) else {
                throw BrineError(.config, "master '\(entry)': the port must be a number from 1 to 65535",
                                 hint: "write the master as host or host:port, e.g. master: [salt1:4506, salt2:4506]")
            }
            return port
        }
        guard !entry.isEmpty else {
            throw BrineError(.config, "an entry of 'master' is empty", hint: "write the master as host or host:port")
        }
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else {
                throw BrineError(.config, "master '\(entry)': an IPv6 address in brackets needs its ']'", hint: "write it as [::1]:4506")
            }
            let host = String(entry[entry.index(after: entry.startIndex)..<close])
            let rest = entry[entry.index(after: close)...]
            if rest.isEmpty { return Address(host: host, port: defaultPort) }
            guard rest.hasPrefix(":") else {
                throw BrineError(.config, "master '\(entry)': expected ':PORT' after ']'", hint: "write it as [::1]:4506")
            }
            return Address(host: host, port: try port(rest.dropFirst()))
        }
        let colons = entry.filter { $0 == ":" }.count
        if colons == 1, let colon = entry.firstIndex(of: ":") {
            return Address(host: String(entry[..<colon]), port: try port(entry[entry.index(after: colon)...]))
        }
        return Address(host: entry, port: defaultPort)
    }
}
