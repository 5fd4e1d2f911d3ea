import BrineCore

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
