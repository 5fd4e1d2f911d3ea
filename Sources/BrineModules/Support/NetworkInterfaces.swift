import BrineCore
import Foundation

/// The machine's network interfaces as Salt's `network.interfaces` reports
/// them (Salt parses `ip addr show`; Brine asks getifaddrs(3), which reads
/// the same netlink tables without starting a process). Shared by the
/// `network` module and the `ip*_interfaces`/`hwaddr_interfaces` grains.
public struct NetworkInterface: Sendable {
    public struct IPv4: Sendable {
        public var address: IPAddress
        public var netmask: String
        public var broadcast: String?
        public var label: String
    }

    public struct IPv6: Sendable {
        public var address: IPAddress
        public var prefix: Int
        /// `host`, `link`, `site` or `global`, as `ip` prints the scope.
        public var scope: String
    }

    public var name: String
    public var up = false
    public var hardwareAddress: String?
    public var inet: [IPv4] = []
    public var inet6: [IPv6] = []

    /// Every interface, in the kernel's order (by index).
    public static func all() -> [NetworkInterface] {
        var found: [NetworkInterface] = []
        func update(_ name: String, _ change: (inout NetworkInterface) -> Void) {
            if let index = found.firstIndex(where: { $0.name == name }) {
                change(&found[index])
            } else {
                var new = NetworkInterface(name: name)
                change(&new)
                found.append(new)
            }
        }
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            let label = String(cString: entry.pointee.ifa_name)
            // An IPv4 alias is listed under its label (`eth0:1`).
            let name = String(label.split(separator: ":", maxSplits: 1).first ?? Substring(label))
            let flags = entry.pointee.ifa_flags
            guard let addr = entry.pointee.ifa_addr else { continue }
            switch Int32(addr.pointee.sa_family) {
            case AF_PACKET:
                // struct sockaddr_ll (linux/if_packet.h): the address length
                // is byte 11, the address starts at byte 12 (8 bytes at most).
                let raw = UnsafeRawPointer(addr)
                let length = min(8, Int(raw.load(fromByteOffset: 11, as: UInt8.self)))
                let mac = (0..<length).map { raw.load(fromByteOffset: 12 + $0, as: UInt8.self) }
                update(name) {
                    $0.up = flags & UInt32(IFF_UP) != 0
                    $0.hardwareAddress = mac.count == 6 ? ASCIIText.hex(mac, separator: ":") : nil
                }
            case AF_INET:
                guard let address = numericHost(addr) else { continue }
                let mask = entry.pointee.ifa_netmask.flatMap(numericHost)?.description ?? "255.255.255.255"
                var broadcast: String? = nil
                if flags & UInt32(IFF_BROADCAST) != 0, let other = entry.pointee.ifa_ifu.ifu_broadaddr {
                    broadcast = numericHost(other)?.description
                }
                update(name) { $0.inet.append(IPv4(address: address, netmask: mask, broadcast: broadcast, label: label)) }
            case AF_INET6:
                guard let address = numericHost(addr) else { continue }
                let prefix = entry.pointee.ifa_netmask.flatMap(numericHost).map { $0.bits.nonzeroBitCount } ?? 128
                let plain = IPAddress(version: .v6, bits: address.bits)
                let scope = plain.isLoopback ? "host" : plain.isLinkLocal ? "link" : plain.isSiteLocal ? "site" : "global"
                update(name) { $0.inet6.append(IPv6(address: plain, prefix: prefix, scope: scope)) }
            default: continue
            }
        }
        return found
    }

    static func numericHost(_ addr: UnsafeMutablePointer<sockaddr>) -> IPAddress? {
        let family = Int32(addr.pointee.sa_family)
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(addr, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return IPAddress(String(text.split(separator: "%", maxSplits: 1).first ?? Substring(text)))
    }

    /// Salt's layout: `up`, `hwaddr`, then `inet` and `inet6` when present.
    public var saltValue: Value {
        var fields: [(String, Value)] = [("up", .bool(up))]
        if let hardwareAddress { fields.append(("hwaddr", .string(hardwareAddress))) }
        if !inet.isEmpty {
            fields.append(("inet", .list(inet.map {
                Value.ordered([("address", .string($0.address.description)), ("netmask", .string($0.netmask)),
                             ("broadcast", $0.broadcast.map(Value.string) ?? .null), ("label", .string($0.label))])
            })))
        }
        if !inet6.isEmpty {
            fields.append(("inet6", .list(inet6.map {
                Value.ordered([("address", .string($0.address.description)), ("prefixlen", .string(String($0.prefix))),
                             ("scope", .string($0.scope))])
            })))
        }
        return Value.ordered(fields)
    }

    /// Salt's `_ip_addrs`: the addresses of one family on the interfaces
    /// matching the globs (all when nil), loopback left out unless asked,
    /// each once, sorted as Python sorts address objects.
    public static func addresses(_ interfaces: [NetworkInterface], version: IPAddress.Version, only patterns: [String]?,
                                 includeLoopback: Bool) -> [IPAddress] {
        var found: [IPAddress] = []
        for interface in interfaces where patterns.map({ $0.contains { Glob.match(interface.name, $0) } }) ?? true {
            let addresses = version == .v4 ? interface.inet.map(\.address) : interface.inet6.map(\.address)
            for address in addresses where (includeLoopback || !address.isLoopback) && !found.contains(address) { found.append(address) }
        }
        return found.sorted { $0.bits < $1.bits }
    }
}
