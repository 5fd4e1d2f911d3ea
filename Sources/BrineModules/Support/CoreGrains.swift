import BrineCore
import Foundation
import OrderedCollections

/// Detects Salt's core grains from the local system: files under /etc,
/// /proc and /sys, uname(2) and getifaddrs(3). No process is started and
/// no DNS lookup is made (Salt's start-up is slow partly because it does).
public enum CoreGrains {
    public static func detect(id configuredID: String? = nil, root: String = "") -> Value {
        var g = OrderedDictionary<String, Value>()
        let os = osRelease(root: root)
        let hostname = hostName()
        let short = String(hostname.split(separator: ".").first ?? Substring(hostname))
        var uts = utsname()
        uname(&uts)
        let kernel = field(uts.sysname)
        let kernelRelease = field(uts.release)
        let machine = field(uts.machine)

        g["id"] = .string(configuredID ?? hostname)
        g["host"] = .string(short)
        g["nodename"] = .string(field(uts.nodename))
        g["fqdn"] = .string(hostname)
        g["domain"] = .string(hostname.contains(".") ? String(hostname.drop(while: { $0 != "." }).dropFirst()) : "")
        g["localhost"] = .string(hostname)
        g["kernel"] = .string(kernel)
        g["kernelrelease"] = .string(kernelRelease)
        g["kernelversion"] = .string(field(uts.version))
        g["cpuarch"] = .string(machine)
        g["osarch"] = .string(debianArch(machine))

        let name = os["NAME"] ?? kernel
        let osID = os["ID"] ?? kernel.lowercased()
        let osName = osNames[osID] ?? name.split(separator: " ").first.map(String.init) ?? name
        g["os"] = .string(osName)
        g["os_family"] = .string(osFamilies[osName] ?? osName)
        g["osfullname"] = .string(name)
        let version = osVersion(osID: osID, os: os, root: root)
        g["osrelease"] = .string(version)
        g["osrelease_info"] = .list(version.split(separator: ".").map { Int($0).map(Value.int) ?? .string(String($0)) })
        g["osmajorrelease"] = Int(version.split(separator: ".").first ?? "").map(Value.int) ?? .string(version)
        g["oscodename"] = .string(os["VERSION_CODENAME"] ?? "")
        g["osfinger"] = .string("\(osName)-\(version.split(separator: ".").first.map(String.init) ?? version)")
        g["lsb_distrib_id"] = .string(osName)
        g["lsb_distrib_codename"] = .string(os["VERSION_CODENAME"] ?? "")
        g["lsb_distrib_release"] = .string(version)

        // Read once (the kernel formats it anew on every read), as Salt reads it.
        let cpu = CPUInfo(read(root + "/proc/cpuinfo") ?? "")
        g["num_cpus"] = .int(cpu.count)
        g["cpu_model"] = .string(cpu.model)
        g["mem_total"] = .int(Int(ProcessInfo.processInfo.physicalMemory / 1_048_576))
        g["swap_total"] = .int(swapTotal(root: root))
        let interfaces = NetworkInterface.all()
        func list(_ addresses: [IPAddress]) -> Value { .list(addresses.map { .string($0.description) }) }
        g["ipv4"] = list(NetworkInterface.addresses(interfaces, version: .v4, only: nil, includeLoopback: true))
        g["ipv6"] = list(NetworkInterface.addresses(interfaces, version: .v6, only: nil, includeLoopback: true))
        g["ip_interfaces"] = Value.ordered(interfaces.map { ($0.name, list($0.inet.map(\.address) + $0.inet6.map(\.address))) })
        g["ip4_interfaces"] = Value.ordered(interfaces.map { ($0.name, list($0.inet.map(\.address))) })
        g["ip6_interfaces"] = Value.ordered(interfaces.map { ($0.name, list($0.inet6.map(\.address))) })
        g["hwaddr_interfaces"] = Value.ordered(interfaces.compactMap { i in i.hardwareAddress.map { (i.name, .string($0)) } })
        let virt = virtual(root: root)
        g["virtual"] = .string(virt.kind)
        if let subtype = virt.subtype { g["virtual_subtype"] = .string(subtype) }
        g["init"] = .string(initSystem(root: root))
        g["shell"] = .string(environment("SHELL") ?? "/bin/sh")
        g["path"] = .string(environment("PATH") ?? "")
        g["machine_id"] = .string(read(root + "/etc/machine-id").map { String(ASCIIText.trimmed($0)) } ?? "")
        g["uid"] = .int(Int(geteuid()))
        g["gid"] = .int(Int(getegid()))
        if let pw = getpwuid(geteuid()) { g["username"] = .string(String(cString: pw.pointee.pw_name)) }
        if let gr = getgrgid(getegid()) { g["groupname"] = .string(String(cString: gr.pointee.gr_name)) }
        g["pid"] = .int(Int(getpid()))
        g["saltversion"] = .string(Brine.saltVersion)
        g["saltversioninfo"] = .list(Brine.saltVersion.split(separator: ".").compactMap { Int($0) }.map(Value.int))
        g["brineversion"] = .string(Brine.version)
        g["saltpath"] = .string(CommandLine.arguments.first ?? "brine")
        g["locale_info"] = ["defaultlanguage": .string(environment("LANG") ?? "C")]
        SystemGrains.add(to: &g, root: root, hostname: hostname, cpuFlags: cpu.flags)
        return .map(g)
    }

    static let osNames = ["debian": "Debian", "ubuntu": "Ubuntu", "centos": "CentOS", "fedora": "Fedora",
                          "rhel": "RedHat", "alpine": "Alpine", "arch": "Arch", "opensuse-leap": "Leap",
                          "rocky": "Rocky", "almalinux": "AlmaLinux", "raspbian": "Raspbian", "devuan": "Devuan",
                          "linuxmint": "Mint", "amzn": "Amazon"]
    static let osFamilies = ["Debian": "Debian", "Ubuntu": "Debian", "Raspbian": "Debian", "Devuan": "Debian",
                             "Mint": "Debian", "CentOS": "RedHat", "Fedora": "RedHat", "RedHat": "RedHat",
                             "Rocky": "RedHat", "AlmaLinux": "RedHat", "Amazon": "RedHat", "Alpine": "Alpine",
                             "Arch": "Arch", "Leap": "Suse"]

    static func osRelease(root: String) -> [String: String] {
        let text = read(root + "/etc/os-release") ?? read(root + "/usr/lib/os-release") ?? ""
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: eq)...])
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
            }
            result[String(line[..<eq])] = value
        }
        return result
    }

    /// Debian's `osrelease` is the major version ("12") as Salt 3008 reports
    /// it; point releases come from /etc/debian_version elsewhere.
    static func osVersion(osID: String, os: [String: String], root: String) -> String {
        if let v = os["VERSION_ID"] { return v }
        if osID == "debian", let dv = read(root + "/etc/debian_version") {
            return dv.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ""
    }

    static func debianArch(_ machine: String) -> String {
        ["x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "i686": "i386", "i386": "i386",
         "ppc64le": "ppc64el", "s390x": "s390x"][machine] ?? machine
    }

    /// One variable (Foundation's `ProcessInfo.environment` copies them all on every call).
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Salt's `_linux_cpudata` over /proc/cpuinfo: `processor` lines counted
    /// (`# processors` on s390, one for old ARM's `Processor`), the last
    /// `vendor_id`/`model name`/`cpu` (POWER)/`Processor` up to its first
    /// "-" (ARM), else "Unknown"; the last `flags`/`Features`. Each line's
    /// key and value are the text around its first colon, stripped, as
    /// Python's `line.split(":")` gives them.
    public struct CPUInfo: Sendable {
        public var count = 0
        public var model = "Unknown"
        public var flags: [String] = []

        public init(_ text: String) {
            for line in text.utf8.split(separator: UInt8(ascii: "\n")) {
                let parts = line.split(separator: UInt8(ascii: ":"), maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count > 1 else { continue }
                let key = Self.stripped(parts[0]), value = Self.stripped(parts[1])
                switch key {
                case "processor": count += 1
                case "# processors": count = Int(value) ?? count
                case "vendor_id", "model name", "cpu": model = value
                case "Processor":
                    model = String(value.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                    count = 1
                case "flags", "Features": flags = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                default: continue
                }
            }
        }

        static func stripped(_ bytes: Substring.UTF8View.SubSequence) -> String {
            let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0B || byte == 0x0C }
            guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
            return String(decoding: bytes[first...last], as: UTF8.self)
        }
    }

    static func swapTotal(root: String) -> Int {
        for line in (read(root + "/proc/meminfo") ?? "").split(separator: "\n") where line.hasPrefix("SwapTotal:") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kb / 1024
        }
        return 0
    }

    /// `virtual`: "container" inside Docker/Podman/LXC (Salt reports
    /// `container` with a `virtual_subtype`), a hypervisor name from DMI, or
    /// "physical".
    static func virtual(root: String) -> (kind: String, subtype: String?) {
        let fm = FileManager.default
        if fm.fileExists(atPath: root + "/.dockerenv") { return ("container", "Docker") }
        if fm.fileExists(atPath: root + "/run/.containerenv") { return ("container", "Podman") }
        let cgroup = read(root + "/proc/1/cgroup") ?? ""
        if cgroup.contains("docker") { return ("container", "Docker") }
        if cgroup.contains("lxc") { return ("container", "LXC") }
        if let environ = read(root + "/proc/1/environ"), environ.contains("container=") {
            return ("container", environ.contains("container=lxc") ? "LXC" : nil)
        }
        let product = (read(root + "/sys/class/dmi/id/product_name") ?? "") + (read(root + "/sys/class/dmi/id/sys_vendor") ?? "")
        for (needle, name) in [("KVM", "kvm"), ("QEMU", "kvm"), ("VMware", "VMware"), ("VirtualBox", "VirtualBox"),
                               ("Microsoft", "VirtualPC"), ("Xen", "xen"), ("Google", "gce"), ("Amazon EC2", "kvm")]
        where product.contains(needle) {
            return (name, nil)
        }
        return ("physical", nil)
    }

    static func initSystem(root: String) -> String {
        if FileManager.default.fileExists(atPath: root + "/run/systemd/system") { return "systemd" }
        let comm = read(root + "/proc/1/comm").map { String(ASCIIText.trimmed($0)) } ?? ""
        switch comm {
        case "systemd": return "systemd"
        case "init": return FileManager.default.fileExists(atPath: root + "/sbin/openrc") ? "openrc" : "sysvinit"
        case "": return "unknown"
        default: return comm
        }
    }

    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func field<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
