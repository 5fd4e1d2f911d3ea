/// IPv4 and IPv6 addresses, interfaces and networks with the parsing,
/// printing and classification rules of Python's `ipaddress` module (3.11),
/// because Salt's template filters (`ipaddr`, `ipv4`, `network_hosts`, …)
/// are thin wrappers over it and users compare their output with Salt's.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Version: Int, Sendable { case v4 = 4, v6 = 6 }

    public let version: Version
    /// The address as a number (IPv4 in the low 32 bits).
    public let bits: UInt128
    /// An IPv6 zone (`fe80::1%eth0`), kept and printed as Python does.
    public let scope: String?

    public init(version: Version, bits: UInt128, scope: String? = nil) {
        self.version = version
        self.bits = bits
        self.scope = scope
    }

    /// `ipaddress.ip_address(text)`: dotted IPv4 (no leading zeros) or IPv6.
    public init?(_ text: String) {
        if let v4 = IPAddress.parseV4(Substring(text)) {
            self.init(version: .v4, bits: UInt128(v4))
        } else if let v6 = IPAddress.parseV6(Substring(text)) {
            let zone = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first
            if let zone, zone.isEmpty || zone.contains("/") { return nil }
            self.init(version: .v6, bits: v6, scope: zone.map(String.init))
        } else {
            return nil
        }
    }

    public var width: Int { version == .v4 ? 32 : 128 }

    public var description: String {
        version == .v4 ? IPAddress.formatV4(UInt32(truncatingIfNeeded: bits)) : IPAddress.formatV6(bits) + (scope.map { "%" + $0 } ?? "")
    }

    // MARK: Classification (Python's properties of the same names)

    public var isPrivate: Bool {
        if let mapped = ipv4Mapped { return mapped.isPrivate }
        let table = version == .v4 ? IPAddress.privateV4 : IPAddress.privateV6
        let exceptions = version == .v4 ? IPAddress.privateV4Exceptions : IPAddress.privateV6Exceptions
        return table.contains { $0.contains(self) } && !exceptions.contains { $0.contains(self) }
    }

    public var isGlobal: Bool { !isPrivate }

    public var isLoopback: Bool {
        version == .v4 ? IPNetwork.v4("127.0.0.0", 8).contains(self) : bits == 1
    }

    public var isLinkLocal: Bool {
        version == .v4 ? IPNetwork.v4("169.254.0.0", 16).contains(self) : IPNetwork.v6("fe80::", 10).contains(self)
    }

    public var isMulticast: Bool {
        version == .v4 ? IPNetwork.v4("224.0.0.0", 4).contains(self) : IPNetwork.v6("ff00::", 8).contains(self)
    }

    public var isReserved: Bool {
        version == .v4 ? IPNetwork.v4("240.0.0.0", 4).contains(self) : IPAddress.reservedV6.contains { $0.contains(self) }
    }

    public var isSiteLocal: Bool { version == .v6 && IPNetwork.v6("fec0::", 10).contains(self) }

    public var isUnspecified: Bool { bits == 0 }

    /// The IPv4 address of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
    public var ipv4Mapped: IPAddress? {
        guard version == .v6, bits >> 32 == 0xFFFF else { return nil }
        return IPAddress(version: .v4, bits: bits & 0xFFFF_FFFF)
    }

    // MARK: Parsing

    static func parseV4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0", let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    /// Python's `_ip_int_from_string` for IPv6, step by step.
    static func parseV6(_ full: Substring) -> UInt128? {
        // A scope (`fe80::1%eth0`) names an interface, not address bits.
        let text = full.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).first ?? full
        guard text.count >= 2, text.count <= 45 else { return nil }
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3 else { return nil }
        if let last = parts.last, last.contains(".") {
            guard let v4 = parseV4(Substring(last)) else { return nil }
            parts.removeLast()
            parts += [String(v4 >> 16, radix: 16), String(v4 & 0xFFFF, radix: 16)]
        }
        guard parts.count <= 9 else { return nil }
        var skip: Int? = nil
        for i in 1..<(parts.count - 1) where parts[i].isEmpty {
            guard skip == nil else { return nil }
            skip = i
        }
        var high: Int, low: Int
        if let skip {
            high = skip
            low = parts.count - skip - 1
            if parts[0].isEmpty { high -= 1; guard high == 0 else { return nil } }
            if parts[parts.count - 1].isEmpty { low -= 1; guard low == 0 else { return nil } }
            guard 8 - (high + low) >= 1 else { return nil }
        } else {
            guard parts.count == 8, !parts[0].isEmpty, !parts[7].isEmpty else { return nil }
            high = 8
            low = 0
        }
        var value: UInt128 = 0
        func add(_ part: String) -> Bool {
            guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit), let word = UInt16(part, radix: 16) else { return false }
            value = value << 16 | UInt128(word)
            return true
        }
        for part in parts.prefix(high) where !add(part) { return nil }
        value <<= UInt128(16 * (8 - high - low))
        for part in parts.suffix(low) where !add(part) { return nil }
        return value
    }

    // MARK: Printing

    static func formatV4(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
    }

    /// RFC 5952 as Python writes it: lowercase, the longest run (first on a
    /// tie) of two or more zero groups becomes "::".
    static func formatV6(_ value: UInt128) -> String {
        let words = (0..<8).map { UInt16(truncatingIfNeeded: value >> (16 * (7 - $0))) }
        var best = (start: -1, length: 0), current = (start: -1, length: 0)
        for (i, word) in words.enumerated() {
            if word == 0 {
                current = current.start < 0 ? (i, 1) : (current.start, current.length + 1)
                if current.length > best.length { best = current }
            } else {
                current = (-1, 0)
            }
        }
        let hex = words.map { String($0, radix: 16) }
        guard best.length > 1 else { return hex.joined(separator: ":") }
        let left = hex[..<best.start].joined(separator: ":")
        let right = hex[(best.start + best.length)...].joined(separator: ":")
        return left + "::" + right
    }

    // MARK: Python's tables

    static let privateV4: [IPNetwork] = [
        .v4("0.0.0.0", 8), .v4("10.0.0.0", 8), .v4("127.0.0.0", 8), .v4("169.254.0.0", 16), .v4("172.16.0.0", 12),
        .v4("192.0.0.0", 24), .v4("192.0.0.170", 31), .v4("192.0.2.0", 24), .v4("192.168.0.0", 16), .v4("198.18.0.0", 15),
        .v4("198.51.100.0", 24), .v4("203.0.113.0", 24), .v4("240.0.0.0", 4), .v4("255.255.255.255", 32),
    ]
    static let privateV4Exceptions: [IPNetwork] = [.v4("192.0.0.9", 32), .v4("192.0.0.10", 32)]
    static let privateV6: [IPNetwork] = [
        .v6("::1", 128), .v6("::", 128), .v6("::ffff:0:0", 96), .v6("64:ff9b:1::", 48), .v6("100::", 64),
        .v6("2001::", 23), .v6("2001:db8::", 32), .v6("2002::", 16), .v6("fc00::", 7), .v6("fe80::", 10),
    ]
    static let privateV6Exceptions: [IPNetwork] = [
        .v6("2001:1::1", 128), .v6("2001:1::2", 128), .v6("2001:3::", 32), .v6("2001:4:112::", 48),
        .v6("2001:20::", 28), .v6("2001:30::", 28),
    ]
    static let reservedV6: [IPNetwork] = [
        .v6("::", 8), .v6("100::", 8), .v6("200::", 7), .v6("400::", 6), .v6("800::", 5), .v6("1000::", 4),
        .v6("4000::", 3), .v6("6000::", 3), .v6("8000::", 3), .v6("a000::", 3), .v6("c000::", 3), .v6("e000::", 4),
        .v6("f000::", 5), .v6("f800::", 6), .v6("fe00::", 9),
    ]
}

/// An address with a prefix length: Python's `ip_interface` (`10.1.2.3/8`,
/// the host bits kept) and, masked, `ip_network`.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefix: Int

    public init(address: IPAddress, prefix: Int) {
        self.address = address
        self.prefix = prefix
    }

    /// `ip_interface(text)`: `ADDR`, `ADDR/LEN`, or for IPv4 `ADDR/NETMASK`
    /// or `ADDR/HOSTMASK`.
    public init?(interface text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        guard parts.count == 2 else {
            self.init(address: address, prefix: address.width)
            return
        }
        let mask = parts[1]
        if !mask.isEmpty, mask.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let length = Int(mask), length <= address.width else { return nil }
            self.init(address: address, prefix: length)
        } else if address.version == .v4, let bits = IPAddress.parseV4(mask) {
            let ones = bits.nonzeroBitCount
            if bits == ~(UInt32.max >> UInt32(ones)) || ones == 0 {
                self.init(address: address, prefix: ones)  // a netmask
            } else if ~bits == ~(UInt32.max >> UInt32(32 - ones)) {
                self.init(address: address, prefix: 32 - ones)  // a hostmask
            } else {
                return nil
            }
        } else {
            return nil
        }
    }

    /// `ip_network(text, strict=)`: with `strict`, host bits must be zero.
    public init?(network text: String, strict: Bool) {
        guard let interface = IPNetwork(interface: text) else { return nil }
        let masked = interface.network
        guard !strict || masked.address == interface.address else { return nil }
        self = masked
    }

    static func v4(_ text: String, _ prefix: Int) -> IPNetwork {
        IPNetwork(address: IPAddress(version: .v4, bits: UInt128(IPAddress.parseV4(Substring(text)) ?? 0)), prefix: prefix)
    }

    static func v6(_ text: String, _ prefix: Int) -> IPNetwork {
        IPNetwork(address: IPAddress(version: .v6, bits: IPAddress.parseV6(Substring(text)) ?? 0), prefix: prefix)
    }

    var hostMask: UInt128 {
        let hostBits = address.width - prefix
        return hostBits >= 128 ? UInt128.max : (UInt128(1) << hostBits) - 1
    }

    /// The network this interface is in (host bits cleared).
    public var network: IPNetwork {
        IPNetwork(address: IPAddress(version: address.version, bits: address.bits & ~hostMask), prefix: prefix)
    }

    public func contains(_ other: IPAddress) -> Bool {
        other.version == address.version && other.bits & ~hostMask == address.bits & ~hostMask
    }

    /// `num_addresses`, or nil when it does not fit an `Int`.
    public var size: UInt128 { hostMask &+ 1 == 0 ? UInt128.max : hostMask + 1 }

    /// Python's `hosts()`: every address but the network's own (and, for
    /// IPv4, the broadcast address); a /31 or /127 gives both, a /32 or
    /// /128 its one address. `limit` bounds what is listed.
    public func hosts(limit: Int) -> [IPAddress]? {
        let base = network.address.bits
        let last = base | hostMask
        var first = base, end = last
        switch address.width - prefix {
        case 0: return [network.address]
        case 1: break
        default:
            first = base + 1
            if address.version == .v4 { end = last - 1 }
        }
        guard end - first < UInt128(limit) else { return nil }
        return stride(from: first, through: end, by: 1).map { IPAddress(version: address.version, bits: $0) }
    }

    public var description: String { "\(address)/\(prefix)" }
}
