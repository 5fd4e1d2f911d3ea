import BrineCore
import BrineModules
import Foundation
import Testing

/// The `network` module and the interface grains, checked against what
/// iproute2 reports for this machine (`ip -j addr show`, the data Salt's
/// `network.interfaces` parses from `ip addr show`).
@Suite struct NetworkTests {
    /// Per interface: (up, hwaddr, [IPv4 "address/netmask/label"], [IPv6 "address/prefix/scope"]).
    func fromIP() throws -> [String: (Bool, String, [String], [String])] {
        let output = try ProcessRunner().run(Command(["ip", "-j", "addr", "show"])).stdout
        var result: [String: (Bool, String, [String], [String])] = [:]
        for link in try JSON.decode(output).listValue ?? [] {
            guard let name = link["ifname"]?.stringValue else { continue }
            let up = link["flags"]?.listValue?.contains("UP") ?? false
            var inet: [String] = [], inet6: [String] = []
            for info in link["addr_info"]?.listValue ?? [] {
                let local = info["local"]?.stringValue ?? "", prefix = info["prefixlen"]?.intValue ?? 0
                if info["family"] == "inet" {
                    let mask = IPAddress(version: .v4, bits: UInt128(prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)))
                    inet.append("\(local)/\(mask)/\(info["label"]?.stringValue ?? name)")
                } else if info["family"] == "inet6" {
                    inet6.append("\(local)/\(prefix)/\(info["scope"]?.stringValue ?? "")")
                }
            }
            result[name] = (up, link["address"]?.stringValue ?? "", inet, inet6)
        }
        return result
    }

    @Test func interfacesAsIPReportsThem() throws {
        let expected = try fromIP()
        let context = try makeContext()
        guard case .map(let interfaces) = try call(context, "network.interfaces") else {
            Issue.record("network.interfaces did not return a map")
            return
        }
        #expect(Set(interfaces.keys) == Set(expected.keys))
        for (name, (up, hwaddr, inet, inet6)) in expected {
            let got = interfaces[name] ?? .null
            #expect(got["up"] == .bool(up), "\(name)")
            #expect(got["hwaddr"]?.stringValue == hwaddr, "\(name)")
            let gotInet = (got["inet"]?.listValue ?? []).map {
                "\($0["address"]?.stringValue ?? "")/\($0["netmask"]?.stringValue ?? "")/\($0["label"]?.stringValue ?? "")"
            }
            let gotInet6 = (got["inet6"]?.listValue ?? []).map {
                "\($0["address"]?.stringValue ?? "")/\($0["prefixlen"]?.stringValue ?? "")/\($0["scope"]?.stringValue ?? "")"
            }
            #expect(gotInet.sorted() == inet.sorted(), "\(name)")
            #expect(gotInet6.sorted() == inet6.sorted(), "\(name)")
        }
        // The loopback addresses stay out of ip_addrs unless asked for.
        let all = try call(context, "network.ip_addrs", "include_loopback=True").listValue ?? []
        let plain = try call(context, "network.ip_addrs").listValue ?? []
        #expect(all.contains("127.0.0.1") && !plain.contains("127.0.0.1"))
        #expect(try call(context, "network.in_subnet", "127.0.0.0/8") == false)
        #expect(try call(context, "network.ip_in_subnet", "10.1.2.3", "10.0.0.0/8") == true)
        #expect(try call(context, "network.calc_net", "2001:db8::5", "64") == "2001:db8::/64")
    }

    @Test func interfaceGrains() throws {
        let expected = try fromIP()
        let grains = CoreGrains.detect(id: "t")
        for (name, (_, hwaddr, inet, inet6)) in expected {
            let v4 = inet.map { String($0.split(separator: "/")[0]) }, v6 = inet6.map { String($0.split(separator: "/")[0]) }
            #expect(Set(grains["ip4_interfaces"]?[name]?.listValue?.compactMap(\.stringValue) ?? []) == Set(v4), "\(name)")
            #expect(Set(grains["ip6_interfaces"]?[name]?.listValue?.compactMap(\.stringValue) ?? []) == Set(v6), "\(name)")
            #expect(grains["ip_interfaces"]?[name]?.listValue?.count == v4.count + v6.count, "\(name)")
            #expect(grains["hwaddr_interfaces"]?[name]?.stringValue == hwaddr, "\(name)")
        }
        #expect(grains["ipv4"]?.listValue?.contains("127.0.0.1") == true)
    }

    /// The grains Salt reads with `ip route`, `systemctl` or from /proc and
    /// /etc, checked against those sources on this machine; `server_id` is
    /// Salt's answer for the id `minion1`.
    @Test func systemGrains() throws {
        let grains = CoreGrains.detect(id: "minion1")
        #expect(grains["server_id"] == 156_412_900)
        #expect(grains["saltversioninfo"] == [3008, 4] && grains["saltversion"] == "3008.4")
        let route = try ProcessRunner().run(Command(["ip", "-4", "route", "show", "default"])).stdout
        let words = route.split(separator: " ")
        if let via = words.firstIndex(of: "via") {
            #expect(grains["ip4_gw"] == .string(String(words[via + 1])))
        } else {
            #expect(grains["ip4_gw"] == (route.isEmpty ? false : true))
        }
        let resolv = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        let servers = resolv.split(separator: "\n").filter { $0.hasPrefix("nameserver") }.compactMap { $0.split(separator: " ").last.map(String.init) }
        #expect(grains["dns"]?["nameservers"]?.listValue?.compactMap(\.stringValue) == servers)
        let cmdline = (try? String(contentsOfFile: "/proc/cmdline", encoding: .utf8)) ?? ""
        #expect(grains["kernelparams"]?.listValue?.count == cmdline.split(whereSeparator: \.isWhitespace).count)
        #expect(!(grains["cpu_flags"]?.listValue?.isEmpty ?? true))
        #expect(grains["pythonversion"]?.listValue?.first == 3)
    }

    /// Salt's `_linux_cpudata`: processors counted, the last model name and
    /// flags line; s390's `# processors`, ARM's `Features`; keys and values
    /// stripped around the first colon.
    @Test func cpuinfoAsSaltReadsIt() {
        let x86 = CoreGrains.CPUInfo("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nflags\t\t: fpu vme  de\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nflags\t\t: fpu vme de\n")
        #expect(x86.count == 2 && x86.model == "Intel(R) Xeon(R) CPU @ 2.20GHz" && x86.flags == ["fpu", "vme", "de"])
        let s390 = CoreGrains.CPUInfo("vendor_id       : IBM/S390\n# processors    : 4\nbogomips per cpu: 3033.00\n")
        #expect(s390.count == 4 && s390.model == "IBM/S390" && s390.flags.isEmpty)
        let arm = CoreGrains.CPUInfo("Processor\t: ARMv6-compatible processor rev 7 (v6l)\nFeatures\t: swp half thumb\n")
        #expect(arm.count == 1 && arm.flags == ["swp", "half", "thumb"] && arm.model == "ARMv6")
        let power = CoreGrains.CPUInfo("processor\t: 0\ncpu\t\t: POWER9 (architected), altivec supported\nclock\t\t: 2750.000000MHz\n")
        #expect(power.count == 1 && power.model == "POWER9 (architected), altivec supported")
        let colons = CoreGrains.CPUInfo("model name: a:b:c\n")
        #expect(colons.model == "a" && colons.count == 0)
        #expect(CoreGrains.CPUInfo("").model == "Unknown")
    }

    @Test func resolvConfAndKernelParameters() {
        let dns = SystemGrains.dns("nameserver 10.0.0.1 # main\nnameserver ::1\nsearch a.example b.example\noptions ndots:2\noptions ndots:2\n")
        #expect(dns == Value.ordered([("nameservers", ["10.0.0.1", "::1"]), ("ip4_nameservers", ["10.0.0.1"]), ("ip6_nameservers", ["::1"]),
                                      ("sortlist", []), ("domain", ""), ("search", ["a.example", "b.example"]), ("options", ["ndots:2"])]))
        #expect(SystemGrains.kernelParams("root=/dev/vda1 ro quiet x=\"a b\" y=UUID=1 z='\"\"q\"'") == [["root", "/dev/vda1"], ["ro", .null], ["quiet", .null], ["x", "a b"], ["y", .null], ["z", "q"]])
        #expect(SystemGrains.hostsAddresses("127.0.0.1 localhost\n10.1.1.1 web01 web01.example # x\n::1 web01\n", name: "web01").map(\.description)
            == ["10.1.1.1", "::1"])
    }
}
