import BrineCore
import Foundation
import Jinja

/// Salt's address filters (salt/utils/network.py): `ipaddr`, `ipv4`,
/// `ipv6` with their options (`private`, `loopback`, …), `ip_host`,
/// `network_hosts`, `network_size`, `filter_by_networks`, `ipwrap`, MAC
/// helpers and `dns_check`, on Python's `ipaddress` rules (IPAddress.swift).
extension SaltJinja {
    static let networkFilters: [String: Filter] = [
        "is_ip": { value, args, _ in
            let text = try string(value), options = try options(args)
            return .bool(matching(text, .v4, options) != nil || matching(text, .v6, options) != nil)
        },
        "is_ipv4": { value, args, _ in .bool(matching(try string(value), .v4, try options(args)) != nil) },
        "is_ipv6": { value, args, _ in .bool(matching(try string(value), .v6, try options(args)) != nil) },
        "ipv4": { value, args, c in try versionFilter(value, .v4, options(args), c) },
        "ipv6": { value, args, c in try versionFilter(value, .v6, options(args), c) },
        "ipaddr": { value, args, c in try ipaddr(value, options(args), c) },
        "ipwrap": { value, _, c in
            func wrap(_ item: Jinja.Value) -> Jinja.Value {
                guard case .string(let text) = item, let address = matching(text, .v6, nil)
                else { return item }
                return .string("[\(IPAddress(address) ?? IPNetwork(interface: address)?.address ?? IPAddress(version: .v6, bits: 0))]")
            }
            switch value {
            case .list, .tuple: return .list(ListBox(try items(value, c).map(wrap)))
            default: return wrap(value)
            }
        },
        "ip_host": { value, args, c in
            try perAddress(value, args, c) { .string(IPNetwork(interface: $0).map(\.description) ?? $0) }
        },
        "network_hosts": { value, args, c in
            try perAddress(value, args, c) { text in
                guard let network = IPNetwork(network: text, strict: false) else { return .none }
                guard let hosts = network.hosts(limit: 1 << 16) else {
                    throw JinjaError(.valueError, "network_hosts: \(network) has more than 65536 hosts; Brine does not list them")
                }
                return .list(ListBox(hosts.map { .string($0.description) }))
            }
        },
        "network_size": { value, args, c in
            try perAddress(value, args, c) { text in
                guard let size = IPNetwork(network: text, strict: false)?.size else { return .none }
                return size <= UInt128(Int.max) ? .int(Int(size)) : .string(String(size))
            }
        },
        "filter_by_networks": { value, args, c in
            guard let networksValue = arg(args, 0, "networks"), !networksValue.isNone else { return value }
            let networks = try items(networksValue, c).map { item -> IPNetwork in
                let text = try string(item)
                guard let network = IPNetwork(network: text, strict: true) else {
                    throw JinjaError(.valueError, "'\(text)' does not appear to be an IPv4 or IPv6 network")
                }
                return network
            }
            func keep(_ list: Jinja.Value) throws -> Jinja.Value {
                .list(ListBox(try items(list, c).flatMap { item -> [Jinja.Value] in
                    let text = try string(item)
                    guard let address = IPAddress(text) else {
                        throw JinjaError(.valueError, "'\(text)' does not appear to be an IPv4 or IPv6 address")
                    }
                    return networks.filter { $0.contains(address) }.map { _ in item }
                }))
            }
            if case .dict(let d) = value {
                return .dict(DictBox(try d.pairs.map { ($0.0, try keep($0.1)) }))
            }
            return try keep(value)
        },
        "gen_mac": { value, _, _ in
            let prefix = value.isNone || value.isUndefined ? "AC:DE:48" : try string(value)
            return .string(prefix + ":" + ASCIIText.hex((0..<3).map { _ in UInt8.random(in: 0...255) }, separator: ":", uppercase: true))
        },
        "mac_str_to_bytes": { value, _, _ in
            var text = try string(value)
            if text.count == 17 { text = text.replacingOccurrences(of: String(Array(text)[2]), with: "") }
            guard text.count == 12 else { throw JinjaError(.valueError, "Invalid MAC address") }
            let chars = Array(text)
            let bytes = try stride(from: 0, to: 12, by: 2).map { i -> UInt8 in
                guard let byte = UInt8(String(chars[i...i + 1]), radix: 16) else {
                    throw JinjaError(.valueError, "invalid literal for int() with base 16: '\(String(chars[i...i + 1]))'")
                }
                return byte
            }
            return .object(PyBytes(bytes))
        },
        "dns_check": { value, args, _ in
            let host = try string(value)
            let ipv6 = arg(args, 2, "ipv6")
            let family: Int32 = ipv6.map { $0.isNone ? AF_UNSPEC : ((try? $0.truthy()) ?? false) ? AF_INET6 : AF_INET } ?? AF_UNSPEC
            guard let address = resolve(host, family: family) else {
                throw JinjaError(.templateRuntimeError, "DNS lookup or connection check of '\(host)' failed.")
            }
            return .string(address.version == .v6 ? "[\(address)]" : address.description)
        },
    ]

    static func options(_ args: Jinja.Arguments) throws -> String? {
        guard let value = arg(args, 0, "options"), !value.isNone else { return nil }
        return try string(value)
    }

    /// Salt's `_is_ipv`: the text as an address or an interface of the
    /// wanted version, passing the options; nil otherwise.
    static func matching(_ text: String, _ version: IPAddress.Version, _ options: String?) -> String? {
        let address: IPAddress, printed: String, interfacePrefix: Int?
        if let plain = IPAddress(text) {
            (address, printed, interfacePrefix) = (plain, plain.description, nil)
        } else if let interface = IPNetwork(interface: text) {
            (address, printed, interfacePrefix) = (interface.address, interface.description, interface.prefix)
        } else {
            return nil
        }
        guard address.version == version else { return nil }
        guard let options, !options.isEmpty else { return printed }
        let wanted = Set(options.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        // An IPv6 interface is loopback or unspecified only as a /128.
        let whole = version == .v4 || interfacePrefix == nil || interfacePrefix == 128
        let checks: [(names: [String], passes: Bool)] = [
            (["global", "public"], !address.isPrivate),
            (["link-local", "linklocal", "ll", "link_local"], address.isLinkLocal),
            (["loopback", "lo"], address.isLoopback && whole),
            (["multicast"], address.isMulticast),
            (["private"], address.isPrivate),
            (["reserved"], address.isReserved),
            (["site-local", "sl", "site_local"], address.isSiteLocal),
            (["unspecified"], address.isUnspecified && whole),
        ]
        for check in checks where check.names.contains(where: wanted.contains) && !check.passes { return nil }
        return printed
    }

    /// Salt's `_ipv_filter`: a string gives one address or None, a list the
    /// addresses that pass.
    static func versionFilter(_ value: Jinja.Value, _ version: IPAddress.Version, _ options: String?,
                              _ c: CallContext) throws -> Jinja.Value {
        switch value {
        case .string(let text), .markup(let text): return matching(text, version, options).map(Jinja.Value.string) ?? .none
        case .list, .tuple:
            return .list(ListBox(try items(value, c).compactMap { item in
                guard case .string(let text) = item else { return nil }
                return matching(text, version, options).map(Jinja.Value.string)
            }))
        default: return .none
        }
    }

    /// `ipaddr`: IPv4 results then IPv6 results.
    static func ipaddr(_ value: Jinja.Value, _ options: String?, _ c: CallContext) throws -> Jinja.Value {
        let v4 = try versionFilter(value, .v4, options, c), v6 = try versionFilter(value, .v6, options, c)
        if case .list(let a) = v4, case .list(let b) = v6 { return .list(ListBox(a.items + b.items)) }
        return try v4.truthy() ? v4 : v6
    }

    /// Salt's `_filter_ipaddr` then a function of each address: one answer
    /// for a string, a list for a list; None when nothing passes.
    static func perAddress(_ value: Jinja.Value, _ args: Jinja.Arguments, _ c: CallContext,
                           _ transform: (String) throws -> Jinja.Value) throws -> Jinja.Value {
        let options = try self.options(args)
        let filtered: Jinja.Value
        switch try int(arg(args, 1, "version")) {
        case 4?: filtered = try versionFilter(value, .v4, options, c)
        case 6?: filtered = try versionFilter(value, .v6, options, c)
        default: filtered = try ipaddr(value, options, c)
        }
        guard try filtered.truthy() else { return .none }
        let addresses = try items(filtered.isString ? .list([filtered]) : filtered, c).map(string)
        switch value {
        case .list, .tuple: return .list(ListBox(try addresses.map(transform)))
        default: return try transform(addresses[0])
        }
    }

    /// The first address `getaddrinfo` gives (a literal address needs no
    /// lookup). Salt also opens a TCP connection to check it; Brine does not.
    static func resolve(_ host: String, family: Int32) -> IPAddress? {
        if let literal = IPAddress(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) { return literal }
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(first.pointee.ai_addr, first.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0
        else { return nil }
        return IPAddress(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
