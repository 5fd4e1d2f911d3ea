import BrineCore
import Foundation
import OrderedCollections

/// Salt's core grains read from /proc, /sys and /etc: `cpu_flags`,
/// `disks`/`ssds`, `kernelparams`, `dns`, `ip_gw`/`ip4_gw`/`ip6_gw`,
/// `fqdn_ip4`/`fqdn_ip6` (from /etc/hosts: no DNS query), `systemd`,
/// `efi`, DMI (`biosversion`, `manufacturer`, `productname`,
/// `serialnumber`, `uuid` where readable), `server_id`, `gpus`, `cwd`,
/// `ps`, `pythonversion`. Salt starts `ip route`, `systemctl` and `lspci`
/// for some of these; Brine reads the same facts from the kernel's files.
public enum SystemGrains {
    static func add(to g: inout OrderedDictionary<String, Value>, root: String, hostname: String, cpuFlags: [String]) {
        let read = CoreGrains.read
        g["cpu_flags"] = .list(cpuFlags.map(Value.string))
        let (disks, ssds) = blockDevices(root: root)
        g["disks"] = .list(disks.map(Value.string))
        g["ssds"] = .list(ssds.map(Value.string))
        if let cmdline = read(root + "/proc/cmdline") { g["kernelparams"] = kernelParams(cmdline) }
        if let resolv = read(root + "/run/systemd/resolve/resolv.conf") ?? read(root + "/etc/resolv.conf") { g["dns"] = dns(resolv) }
        let gateways = defaultGateways(root: root)
        g["ip_gw"] = .bool(gateways.v4 != nil || gateways.v6 != nil)
        g["ip4_gw"] = gateways.v4.map { $0.isEmpty ? .bool(true) : .string($0) } ?? .bool(false)
        g["ip6_gw"] = gateways.v6.map { $0.isEmpty ? .bool(true) : .string($0) } ?? .bool(false)
        let hosts = hostsAddresses(read(root + "/etc/hosts") ?? "", name: hostname)
        g["fqdn_ip4"] = .list(hosts.filter { $0.version == .v4 }.map { .string($0.description) })
        g["fqdn_ip6"] = .list(hosts.filter { $0.version == .v6 }.map { .string($0.description) })
        g["fqdns"] = .list([])
        if let version = systemdVersion(root: root) { g["systemd"] = ["version": .string(version), "features": ""] }
        g["efi"] = .bool(FileManager.default.fileExists(atPath: root + "/sys/firmware/efi"))
        g["efi-secure-boot"] = .bool(false)
        for (grain, file) in [("biosversion", "bios_version"), ("biosreleasedate", "bios_date"), ("manufacturer", "sys_vendor"),
                              ("productname", "product_name"), ("serialnumber", "product_serial"), ("uuid", "product_uuid")] {
            if let text = read(root + "/sys/class/dmi/id/" + file) {
                let value = ASCIIText.trimmed(text)
                if !value.isEmpty { g[grain] = .string(String(value)) }
            }
        }
        g["server_id"] = .int(serverID(g["id"]?.stringValue ?? ""))
        let gpus = displayDevices(root: root)
        g["num_gpus"] = .int(gpus.count)
        g["gpus"] = .list(gpus)
        g["cwd"] = .string(FileManager.default.currentDirectoryPath)
        g["ps"] = "ps -efHww"
        g["transactional"] = .bool(FileManager.default.fileExists(atPath: root + "/usr/sbin/transactional-update"))
        if let python = pythonVersion(root: root) {
            g["pythonversion"] = .list([.int(3), .int(python), .int(0), "final", .int(0)])
            g["pythonexecutable"] = "/usr/bin/python3"
        }
    }

    /// Salt's `_linux_disks`: each /sys/block device that is not virtual,
    /// by its `queue/rotational` flag (1: disk, 0: SSD), in glob order.
    static func blockDevices(root: String) -> (disks: [String], ssds: [String]) {
        var disks: [String] = [], ssds: [String] = []
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/sys/block"))?.sorted() ?? []
        for name in names {
            let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/sys/block/" + name)) ?? ""
            guard !link.hasPrefix("../devices/virtual/") else { continue }
            switch CoreGrains.read(root + "/sys/block/\(name)/queue/rotational")?.first {
            case "0": ssds.append(name)
            case "1": disks.append(name)
            default: continue
            }
        }
        return (disks, ssds)
    }

    /// `[[name, value or None], …]` from the kernel command line.
    public static func kernelParams(_ cmdline: String) -> Value {
        let words = (try? Shlex.split(cmdline)) ?? cmdline.split(separator: " ").map(String.init)
        return .list(words.map { word in
            let parts = word.split(separator: "=", omittingEmptySubsequences: false)
            // Python's strip('"'): every quote at either end.
            let value: Value = parts.count == 2 ? .string(stripQuotes(parts[1])) : .null
            return .list([.string(String(parts[0])), value])
        })
    }

    static func stripQuotes(_ text: Substring) -> String {
        var bytes = text.utf8[...]
        while bytes.first == UInt8(ascii: "\"") { bytes = bytes.dropFirst() }
        while bytes.last == UInt8(ascii: "\"") { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Salt's `parse_resolv`, keys in its order.
    public static func dns(_ text: String) -> Value {
        var nameservers: [String] = [], v4: [String] = [], v6: [String] = [], search: [String] = [], sortlist: [String] = []
        var options: [String] = [], domain = ""
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let directive = words.first?.lowercased(), words.count > 1 else { continue }
            let args = Array(words.dropFirst().prefix { !$0.hasPrefix("#") && !$0.hasPrefix(";") })
            guard let first = args.first else { continue }
            switch directive {
            case "nameserver":
                guard let address = IPAddress(first) else { continue }
                let text = address.description
                if !nameservers.contains(text) { nameservers.append(text) }
                if address.version == .v4, !v4.contains(text) { v4.append(text) }
                if address.version == .v6, !v6.contains(text) { v6.append(text) }
            case "domain": domain = first
            case "search": search = args
            case "sortlist":
                for entry in args {
                    if let network = IPNetwork(network: entry, strict: true), !sortlist.contains(network.description) {
                        sortlist.append(network.description)
                    }
                }
            case "options": if !options.contains(first) { options.append(first) }
            default: continue
            }
        }
        func list(_ items: [String]) -> Value { .list(items.map(Value.string)) }
        return Value.ordered([("nameservers", list(nameservers)), ("ip4_nameservers", list(v4)), ("ip6_nameservers", list(v6)),
                              ("sortlist", list(sortlist)), ("domain", .string(domain)), ("search", list(search)),
                              ("options", list(options))])
    }

    /// The default routes' gateways from /proc/net/route and
    /// /proc/net/ipv6_route: nil without a default route, "" for one
    /// without a gateway (Salt's `True`).
    static func defaultGateways(root: String) -> (v4: String?, v6: String?) {
        var v4: String? = nil, v6: String? = nil
        // Fields split on ASCII blanks over bytes: the IPv6 table has a line per route.
        func fields(_ line: Substring.UTF8View) -> [Substring] {
            line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map { Substring($0) }
        }
        for line in (CoreGrains.read(root + "/proc/net/route") ?? "").utf8.split(separator: UInt8(ascii: "\n")).dropFirst() {
            let fields = fields(line)
            // The default route: destination and mask 0, and up (RTF_UP).
            guard fields.count > 7, fields[1] == "00000000", fields[7] == "00000000",
                  let flags = UInt32(fields[3], radix: 16), flags & 1 == 1, let raw = UInt32(fields[2], radix: 16) else { continue }
            // The gateway is written in the kernel's (little-endian) byte order.
            v4 = raw == 0 ? "" : IPAddress(version: .v4, bits: UInt128(raw.byteSwapped)).description
            break
        }
        let anyDestination = String(repeating: "0", count: 32)
        for line in (CoreGrains.read(root + "/proc/net/ipv6_route") ?? "").utf8.split(separator: UInt8(ascii: "\n")) {
            let fields = fields(line)
            guard fields.count > 9, fields[0] == anyDestination, fields[1] == "00",
                  fields[9] != "lo", let gateway = UInt128(fields[4], radix: 16) else { continue }
            v6 = gateway == 0 ? "" : IPAddress(version: .v6, bits: gateway).description
            break
        }
        return (v4, v6)
    }

    /// The addresses /etc/hosts gives the host name (Salt asks the resolver,
    /// which reads /etc/hosts first; Brine makes no DNS query).
    public static func hostsAddresses(_ hosts: String, name: String) -> [IPAddress] {
        var found: [IPAddress] = []
        for line in hosts.split(separator: "\n") {
            let words = line.prefix { $0 != "#" }.split(whereSeparator: \.isWhitespace)
            guard words.count > 1, words.dropFirst().contains(where: { $0 == name }), let address = IPAddress(String(words[0])),
                  !found.contains(address) else { continue }
            found.append(address)
        }
        return found
    }

    /// The systemd version from its shared library's name (Salt runs
    /// `systemctl --version`).
    static func systemdVersion(root: String) -> String? {
        for dir in ["/usr/lib/systemd", "/lib/systemd", "/usr/lib/x86_64-linux-gnu/systemd", "/usr/lib/aarch64-linux-gnu/systemd"] {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: root + dir) else { continue }
            for name in names where name.hasPrefix("libsystemd-shared-") && name.hasSuffix(".so") {
                let version = name.dropFirst("libsystemd-shared-".count).dropLast(3)
                if let major = version.split(separator: ".").first, Int(major) != nil { return String(major) }
            }
        }
        return nil
    }

    /// Salt's `server_id`: the SHA-256 of the id, modulo 2^31.
    static func serverID(_ id: String) -> Int {
        let digest = (try? Hashing.hexDigest(Array(id.utf8), algorithm: "sha256")) ?? ""
        // Python: int(hexdigest, 16) % 2**31, the low 31 bits of the number.
        let low = UInt32(digest.suffix(8), radix: 16) ?? 0
        return Int(low & 0x7FFF_FFFF)
    }

    /// Display controllers on the PCI bus (class 0x03…), with Salt's vendor names.
    static func displayDevices(root: String) -> [Value] {
        let base = root + "/sys/bus/pci/devices"
        let vendors = ["0x10de": "nvidia", "0x1002": "amd", "0x8086": "intel", "0x1013": "cirrus logic", "0x15ad": "vmware",
                       "0x102b": "matrox", "0x1a03": "aspeed", "0x1234": "qemu"]
        var found: [Value] = []
        for device in (try? FileManager.default.contentsOfDirectory(atPath: base))?.sorted() ?? [] {
            guard let kind = CoreGrains.read("\(base)/\(device)/class"), kind.hasPrefix("0x03") else { continue }
            let vendor = ASCIIText.trimmed(CoreGrains.read("\(base)/\(device)/vendor") ?? "")
            found.append(["vendor": .string(vendors[String(vendor)] ?? "unknown"), "model": .string(device)])
        }
        return found
    }

    /// The system's Python 3 minor version, from /usr/lib/python3.N.
    static func pythonVersion(root: String) -> Int? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/usr/lib")) ?? []
        return names.compactMap { $0.hasPrefix("python3.") ? Int($0.dropFirst("python3.".count)) : nil }.max()
    }
}
