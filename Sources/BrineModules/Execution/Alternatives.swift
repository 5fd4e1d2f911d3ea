import BrineCore
import Foundation

/// Salt's `alternatives` execution module (Debian's update-alternatives):
/// what templates read.
public enum AlternativesModule: ExecutionModule {
    public static let name = "alternatives"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("show_current", doc: "Return the path the named alternative points at, or False.",
                          [Parameter("name")]) { a, _ in
            let name = a.string("name") ?? ""
            guard !name.isEmpty, !name.contains("/"),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/alternatives/" + name)
            else { return false }
            return .string(target)
        },
    ]
}

/// Salt's `mine` module as a masterless minion sees it: Brine keeps no mine
/// yet, so `mine.get` answers what Salt answers with an empty mine cache.
public enum MineModule: ExecutionModule {
    public static let name = "mine"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("get", doc: "Return mine data from targeted minions ({} here: Brine has no mine yet).",
                          [Parameter("tgt"), Parameter("fun"), Parameter("tgt_type", default: "glob")], kwargs: true) { _, _ in
            .emptyMap
        },
    ]
}

/// Salt's `network` module: address arithmetic templates use.
public enum NetworkModule: ExecutionModule {
    public static let name = "network"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("calc_net", doc: "Return the network (CIDR) of an address and netmask: calc_net 192.168.1.5 255.255.255.0.",
                          [Parameter("ip_addr"), Parameter("netmask", default: .null)]) { a, _ in
            var address = a.string("ip_addr") ?? ""
            var mask = a["netmask"].isNull ? nil : a["netmask"].pythonString
            if mask == nil, let slash = address.firstIndex(of: "/") {
                mask = String(address[address.index(after: slash)...])
                address = String(address[..<slash])
            }
            guard let network = IPv4Network(address: address, mask: mask ?? "32") else {
                throw BrineError(.arguments, "'\(a.string("ip_addr") ?? "")' with netmask '\(mask ?? "")' is not an IPv4 network",
                                 hint: "give an address and a netmask or prefix length, as 192.168.1.5 255.255.255.0 or 10.1.2.3/8")
            }
            return .string(network.description)
        },
        ExecutionFunction("ip_in_subnet", doc: "Whether an IPv4 address is in a network (CIDR): ip_in_subnet 10.1.2.3 10.0.0.0/8.",
                          [Parameter("ip_addr"), Parameter("cidr")]) { a, _ in
            let cidr = a.string("cidr") ?? ""
            let parts = cidr.split(separator: "/", maxSplits: 1).map(String.init)
            guard let network = IPv4Network(address: parts.first ?? "", mask: parts.count == 2 ? parts[1] : "32"),
                  let address = IPv4Network(address: a.string("ip_addr") ?? "", mask: String(network.prefix)) else { return false }
            return .bool(address.base == network.base)
        },
    ]
}

/// Salt's `status` functions templates read.
public enum StatusModule: ExecutionModule {
    public static let name = "status"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("time", doc: "Return the current local time, formatted with strftime (default '%A, %d. %B %Y %I:%M%p').",
                          [Parameter("format", default: "%A, %d. %B %Y %I:%M%p")]) { a, _ in
            .string(strftime(a.string("format") ?? "%A, %d. %B %Y %I:%M%p", time(nil)))
        },
    ]

    static func strftime(_ format: String, _ when: time_t) -> String {
        var moment = when
        var parts = tm()
        localtime_r(&moment, &parts)
        var buffer = [CChar](repeating: 0, count: 512)
        let count = Foundation.strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An IPv4 network from an address and a dotted or prefix-length mask.
struct IPv4Network: CustomStringConvertible {
    let base: UInt32
    let prefix: Int

    init?(address: String, mask: String) {
        guard let ip = IPv4Network.parse(address) else { return nil }
        if let length = Int(mask), (0...32).contains(length) {
            prefix = length
        } else if let bits = IPv4Network.parse(mask) {
            let length = bits.nonzeroBitCount
            guard bits == ~(UInt32.max >> UInt32(length)) else { return nil }
            prefix = length
        } else {
            return nil
        }
        base = ip & ~(UInt32.max >> UInt32(prefix))  // a shift by 32 gives 0 in Swift
    }

    static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard part.count <= 3, let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    var description: String {
        "\(base >> 24).\(base >> 16 & 255).\(base >> 8 & 255).\(base & 255)/\(prefix)"
    }
}
