import BrineCore
import Foundation

/// Salt's `network` module: the machine's interfaces and addresses
/// (NetworkInterfaces.swift) and address arithmetic, on Python's
/// `ipaddress` rules (IPAddress.swift).
public enum NetworkModule: ExecutionModule {
    public static let name = "network"

    static let addressParameters = [Parameter("interface", default: .null), Parameter("include_loopback", default: false),
                                    Parameter("cidr", default: .null)]

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("interfaces", doc: "Return the interfaces with their hardware address, state and addresses.") { _, _ in
            Value.ordered(NetworkInterface.all().map { ($0.name, $0.saltValue) })
        },
        ExecutionFunction("ip_addrs", doc: "Return the IPv4 addresses (not loopback unless include_loopback=True); cidr= or type=public|private filter them.",
                          addressParameters + [Parameter("type", default: .null)]) { a, _ in
            try addresses(a, .v4)
        },
        ExecutionFunction("ipaddrs", doc: "Alias of ip_addrs.", addressParameters + [Parameter("type", default: .null)]) { a, _ in
            try addresses(a, .v4)
        },
        ExecutionFunction("ip_addrs6", doc: "Return the IPv6 addresses (not loopback unless include_loopback=True); cidr= filters them.",
                          addressParameters) { a, _ in
            try addresses(a, .v6)
        },
        ExecutionFunction("ipaddrs6", doc: "Alias of ip_addrs6.", addressParameters) { a, _ in try addresses(a, .v6) },
        ExecutionFunction("get_hostname", doc: "Return the host name (gethostname(2), no DNS).") { _, _ in
            .string(ProcessInfo.processInfo.hostName)
        },
        ExecutionFunction("hw_addr", doc: "Return the hardware address of an interface.", [Parameter("iface")]) { a, _ in
            try interfaceField(a.string("iface") ?? "") { .string($0.hardwareAddress ?? "") }
        },
        ExecutionFunction("hwaddr", doc: "Alias of hw_addr.", [Parameter("iface")]) { a, _ in
            try interfaceField(a.string("iface") ?? "") { .string($0.hardwareAddress ?? "") }
        },
        ExecutionFunction("interface", doc: "Return the IPv4 addresses of an interface, as network.interfaces lists them.",
                          [Parameter("iface")]) { a, _ in
            try interfaceField(a.string("iface") ?? "") { interface in
                guard case .map(let fields) = interface.saltValue, let inet = fields["inet"] else { return .string("") }
                return inet
            }
        },
        ExecutionFunction("interface_ip", doc: "Return the first IPv4 address of an interface.", [Parameter("iface")]) { a, _ in
            try interfaceField(a.string("iface") ?? "") { .string($0.inet.first?.address.description ?? "") }
        },
        ExecutionFunction("subnets", doc: "Return the IPv4 networks of the interfaces (not loopback).",
                          [Parameter("interfaces", default: .null)]) { a, _ in
            subnets(.v4, only: a.stringList("interfaces"))
        },
        ExecutionFunction("subnets6", doc: "Return the IPv6 networks of the interfaces (not loopback).") { _, _ in
            subnets(.v6, only: nil)
        },
        ExecutionFunction("in_subnet", doc: "Whether one of this machine's addresses is in the network: in_subnet 10.0.0.0/8.",
                          [Parameter("cidr")]) { a, _ in
            guard let network = IPNetwork(network: a.string("cidr") ?? "", strict: true) else { return false }
            let interfaces = NetworkInterface.all()
            let mine = NetworkInterface.addresses(interfaces, version: .v4, only: nil, includeLoopback: false)
                + NetworkInterface.addresses(interfaces, version: .v6, only: nil, includeLoopback: false)
            return .bool(mine.contains { network.contains($0) })
        },
        ExecutionFunction("ip_in_subnet", doc: "Whether an address is in a network: ip_in_subnet 10.1.2.3 10.0.0.0/8.",
                          [Parameter("ip_addr"), Parameter("cidr")]) { a, _ in
            guard let network = IPNetwork(network: a.string("cidr") ?? "", strict: true) else { return false }
            guard let address = IPAddress(a.string("ip_addr") ?? "") else {
                throw BrineError(.arguments, "'\(a.string("ip_addr") ?? "")' does not appear to be an IPv4 or IPv6 address")
            }
            return .bool(network.contains(address))
        },
        ExecutionFunction("calc_net", doc: "Return the network of an address and netmask or prefix: calc_net 192.168.1.5 255.255.255.0.",
                          [Parameter("ip_addr"), Parameter("netmask", default: .null)]) { a, _ in
            let address = a.string("ip_addr") ?? ""
            let text = a["netmask"].isNull ? address : "\(address)/\(a["netmask"].pythonString)"
            guard let network = IPNetwork(network: text, strict: false) else {
                throw BrineError(.arguments, "'\(text)' does not appear to be an IPv4 or IPv6 network",
                                 hint: "give an address and a netmask or prefix length, as 192.168.1.5 255.255.255.0 or 10.1.2.3/8")
            }
            return .string(network.description)
        },
        ExecutionFunction("is_private", doc: "Whether an address is private (Python's ipaddress rules).", [Parameter("ip_addr")]) { a, _ in
            .bool(try address(a).isPrivate)
        },
        ExecutionFunction("is_loopback", doc: "Whether an address is a loopback address.", [Parameter("ip_addr")]) { a, _ in
            .bool(try address(a).isLoopback)
        },
    ]

    static func address(_ a: Arguments) throws -> IPAddress {
        guard let address = IPAddress(a.string("ip_addr") ?? "") else {
            throw BrineError(.arguments, "'\(a.string("ip_addr") ?? "")' does not appear to be an IPv4 or IPv6 address")
        }
        return address
    }

    static func addresses(_ a: Arguments, _ version: IPAddress.Version) throws -> Value {
        var found = NetworkInterface.addresses(NetworkInterface.all(), version: version, only: a.stringList("interface"),
                                               includeLoopback: a.bool("include_loopback"))
        if let cidr = a.string("cidr") {
            guard let network = IPNetwork(network: cidr, strict: true) else { return .list([]) }
            found = found.filter(network.contains)
        } else if version == .v4, let type = a.string("type"), type == "public" || type == "private" {
            found = found.filter { $0.isPrivate == (type == "private") }
        }
        return .list(found.map { .string($0.description) })
    }

    /// Salt answers an unknown interface with a message, not an error.
    static func interfaceField(_ name: String, _ field: (NetworkInterface) -> Value) throws -> Value {
        let interfaces = NetworkInterface.all()
        guard let interface = interfaces.first(where: { $0.name == name }) else {
            return .string("Interface \"\(name)\" not in available interfaces: \"\(interfaces.map(\.name).joined(separator: "\", \""))\"")
        }
        return field(interface)
    }

    static func subnets(_ version: IPAddress.Version, only: [String]?) -> Value {
        var networks = Set<IPNetwork>()
        for interface in NetworkInterface.all() where only.map({ $0.contains(interface.name) }) ?? true {
            let entries = version == .v4
                ? interface.inet.map { IPNetwork(interface: "\($0.address)/\($0.netmask)") }
                : interface.inet6.map { IPNetwork(address: $0.address, prefix: $0.prefix) }
            for case let entry? in entries where !entry.address.isLoopback { networks.insert(entry.network) }
        }
        return .list(networks.sorted { ($0.address.bits, $0.prefix) < ($1.address.bits, $1.prefix) }.map { .string($0.description) })
    }
}
