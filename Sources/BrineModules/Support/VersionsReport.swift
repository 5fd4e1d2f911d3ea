import BrineCore
import Foundation

/// `salt-call --versions-report` and `test.versions_report` in Salt's
/// layout: sections of right-aligned names, a " " line after each; Brine's
/// own components where Salt lists Python's.
public enum VersionsReport {
    public static func text() -> String {
        let sections: [(String, [(String, String?)])] = [
            ("Brine Version", [("Brine", Brine.version)]),
            ("Swift Version", [("Swift", swiftVersion)]),
            ("Dependency Versions", [("glibc", glibcVersion)]),
            ("System Versions", systemVersions()),
        ]
        let notInstalled = "Not Installed"
        let padding = max(sections.flatMap { $0.1.map(\.0.count) }.max() ?? 0, notInstalled.count) + 1
        var lines: [String] = []
        for (title, entries) in sections {
            lines.append("\(title):")
            for (name, value) in entries.sorted(by: { $0.0.lowercased() < $1.0.lowercased() }) {
                lines.append(String(repeating: " ", count: max(0, padding - name.count)) + name + ": " + (value ?? notInstalled))
            }
            lines.append(" ")
        }
        return lines.joined(separator: "\n")
    }

    /// `confstr(_CS_GNU_LIBC_VERSION)` answers "glibc 2.36".
    static var glibcVersion: String? {
        var buffer = [CChar](repeating: 0, count: 64)
        guard confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count) > 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ").last.map(String.init)
    }

    static var swiftVersion: String {
        #if compiler(>=6.4)
        return "6.4 or later"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #else
        return "6.1 or earlier"
        #endif
    }

    static func systemVersions() -> [(String, String?)] {
        let os = CoreGrains.osRelease(root: "")
        var uts = utsname()
        uname(&uts)
        // Salt (the distro package) prints Debian's point release.
        let pointRelease = (try? String(contentsOfFile: "/etc/debian_version", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let version = os["ID"] == "debian" ? (pointRelease ?? os["VERSION_ID"] ?? "") : (os["VERSION_ID"] ?? "")
        let codename = os["VERSION_CODENAME"] ?? ""
        let encoding = (ProcessInfo.processInfo.environment["LC_ALL"] ?? ProcessInfo.processInfo.environment["LANG"] ?? "")
            .split(separator: ".").dropFirst().first.map { $0.lowercased().replacingOccurrences(of: "utf8", with: "utf-8") } ?? "utf-8"
        return [("dist", "\(os["ID"] ?? "") \(version) \(codename)"), ("locale", encoding), ("machine", CoreGrains.field(uts.machine)),
                ("release", CoreGrains.field(uts.release)), ("system", CoreGrains.field(uts.sysname)),
                ("version", "\(os["NAME"] ?? "") \(version) \(codename)")]
    }
}
