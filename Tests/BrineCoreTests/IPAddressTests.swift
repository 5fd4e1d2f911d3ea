import BrineCore
import Testing

/// Python 3.11's `ipaddress` answers (printed by python3 on Debian 12),
/// which Salt's address filters print.
@Suite struct IPAddressTests {
    @Test func parseAndPrintLikePython() {
        let cases: [(String, String?)] = [
            ("::", "::"), ("::1", "::1"), ("1::", "1::"), ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
            ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"), ("2001:DB8::0:1", "2001:db8::1"),
            ("fe80::1%eth0", "fe80::1%eth0"), ("::ffff:1.2.3.4", "::ffff:102:304"), ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
            ("0:0:0:0:0:0:0:0", "::"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), (":1::", nil), ("1:::2", nil),
            ("1:2:3:4:5:6:7:8:9", nil), ("12345::", nil), ("::1.2.3", nil), ("1.2.3.4", "1.2.3.4"), ("01.2.3.4", nil),
            ("1.2.3.256", nil), ("1.2.3", nil), ("a::b::c", nil), ("fe80::0001:0:0:0:1", "fe80:0:0:1::1"), ("", nil), ("x", nil),
        ]
        for (text, python) in cases {
            #expect(IPAddress(text)?.description == python, "\(text)")
        }
    }

    @Test func interfacesAndNetworks() {
        let cases: [(String, String?, String?)] = [
            ("10.1.2.3/8", "10.1.2.3/8", "10.0.0.0/8"), ("1.2.3.4/255.255.0.0", "1.2.3.4/16", "1.2.0.0/16"),
            ("1.2.3.4/0.0.255.255", "1.2.3.4/16", "1.2.0.0/16"), ("1.2.3.4/33", nil, nil), ("fe80::1/64", "fe80::1/64", "fe80::/64"),
            ("1.2.3.4/024", "1.2.3.4/24", "1.2.3.0/24"),
        ]
        for (text, interface, network) in cases {
            let parsed = IPNetwork(interface: text)
            #expect(parsed?.description == interface, "\(text)")
            #expect(parsed?.network.description == network, "\(text)")
        }
        #expect(IPNetwork(network: "10.1.0.0/8", strict: true) == nil)
        #expect(IPNetwork(network: "10.0.0.0/30", strict: true)?.hosts(limit: 10)?.map(\.description) == ["10.0.0.1", "10.0.0.2"])
        #expect(IPNetwork(network: "10.0.0.0/31", strict: true)?.hosts(limit: 10)?.map(\.description) == ["10.0.0.0", "10.0.0.1"])
        #expect(IPNetwork(network: "fe80::/64", strict: true)?.hosts(limit: 10) == nil)
    }

    @Test func classification() {
        #expect(IPAddress("100.64.0.1")?.isPrivate == false)
        #expect(IPAddress("192.0.0.9")?.isPrivate == false)
        #expect(IPAddress("192.0.0.8")?.isPrivate == true)
        #expect(IPAddress("::ffff:10.0.0.1")?.isPrivate == true)
        #expect(IPAddress("2001:db8::1")?.isPrivate == true)
        #expect(IPAddress("fec0::1")?.isSiteLocal == true)
        #expect(IPAddress("ff02::1")?.isMulticast == true)
        #expect(IPAddress("240.0.0.1")?.isReserved == true)
    }
}
