import BrineCore
import BrineModules
import Foundation
import Testing

/// The seed's POODLE state file, unchanged, against real apache2, nginx and
/// postfix configuration trees. The packages are stand-ins built here with
/// dpkg-deb (a config file and an init script each) and installed with
/// dpkg, so `pkg.version` answers from the real dpkg database and the
/// `watch_in` restarts go through the real `service` command.
enum ProcessRunnerShim {
    static func output(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite(.serialized) struct PoodleTests {
    static let packages = ["apache2", "nginx", "postfix"]
    static let configs = [
        "apache2": ("/etc/apache2/mods-available/ssl.conf", "<IfModule mod_ssl.c>\n\tSSLProtocol all -SSLv2\n</IfModule>\n"),
        "nginx": ("/etc/nginx/nginx.conf", "user www-data;\nhttp {\n    ssl_protocols SSLv3 TLSv1;\n    include /etc/nginx/mime.types;\n}\n"),
        "postfix": ("/etc/postfix/main.cf", "smtpd_tls_security_level = may\n"),
    ]
    static let logDir = "/run/brine-poodle"

    /// Only on a machine where none of the three is really installed (a
    /// fresh CI machine), and as root: never clobber real packages.
    static let canRun: Bool = {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/usr/bin/rgrep") else { return false }
        for name in packages {
            let status = (try? ProcessRunnerShim.output("dpkg-query -W -f='${Status}' \(name) 2>/dev/null")) ?? ""
            if status.contains("installed") && !status.contains("not-installed") {
                // Ours from an interrupted run can go; a real package stays untouched.
                let version = (try? ProcessRunnerShim.output("dpkg-query -W -f='${Version}' \(name)")) ?? ""
                if !version.contains("brinetest") { return false }
            }
        }
        return true
    }()


    func buildPackage(_ name: String, in dir: String) throws -> String {
        let root = dir + "/" + name
        let (config, content) = PoodleTests.configs[name] ?? ("", "")
        for sub in ["DEBIAN", "etc/init.d", (("etc" + config.dropFirst(4)) as NSString).deletingLastPathComponent] {
            try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
        }
        try "Package: \(name)\nVersion: 0.0-brinetest\nArchitecture: all\nMaintainer: Brine <brine@localhost>\nDescription: stand-in for the POODLE test\n"
            .write(toFile: root + "/DEBIAN/control", atomically: true, encoding: .utf8)
        try content.write(toFile: root + config, atomically: true, encoding: .utf8)
        // Like the real packages, more than one file: rgrep then prefixes
        // each match with its file name, which the seed's SLS relies on.
        let dir = (root + config as NSString).deletingLastPathComponent
        try "# \(name) stand-in\n".write(toFile: dir + "/README.brinetest", atomically: true, encoding: .utf8)
        let script = """
            #!/bin/sh
            ### BEGIN INIT INFO
            # Provides:          \(name)
            # Required-Start:
            # Required-Stop:
            # Default-Start:     2 3 4 5
            # Default-Stop:      0 1 6
            # Short-Description: POODLE test stand-in
            ### END INIT INFO
            D=\(PoodleTests.logDir); mkdir -p $D; PID=$D/\(name).pid; LOG=$D/\(name).log
            running() { [ -f $PID ] && kill -0 "$(cat $PID)" 2>/dev/null; }
            launch() { setsid sleep 1000 >/dev/null 2>&1 & echo $! > $PID; }
            halt() { running && kill "$(cat $PID)"; rm -f $PID; }
            case "$1" in
              start) running || launch; echo start >> $LOG ;;
              stop) halt; echo stop >> $LOG ;;
              restart) halt; launch; echo restart >> $LOG ;;
              reload) echo reload >> $LOG ;;
              status) running ;;
              *) exit 2 ;;
            esac
            """
        try script.write(toFile: root + "/etc/init.d/\(name)", atomically: true, encoding: .utf8)
        chmod(root + "/etc/init.d/\(name)", 0o755)
        let deb = dir + "/\(name).deb"
        let built = try shell("dpkg-deb --build --root-owner-group \(root) \(deb)")
        #expect(built.code == 0, "\(built.stdout)")
        return deb
    }

    func cleanUp() throws {
        for name in PoodleTests.packages {
            _ = try shell("/etc/init.d/\(name) stop; for i in $(seq 240); do dpkg --purge \(name) 2>&1 | grep -q lock || break; sleep 0.5; done")
        }
        // What file.replace left behind (backups), then the directories the
        // stand-ins created, only if empty.
        _ = try shell("rm -f /etc/nginx/nginx.conf.bak; rmdir --ignore-fail-on-non-empty /etc/nginx /etc/postfix /etc/apache2/mods-available 2>/dev/null")
        _ = try shell("rm -rf \(PoodleTests.logDir)")
    }

    @Test(.enabled(if: PoodleTests.canRun)) func seedPoodleStateApplies() throws {
        let work = tempDir()
        defer {
            try? cleanUp()
            try? FileManager.default.removeItem(atPath: work)
        }
        // The seed's SLS also hardens Chromium's launcher when Chromium is
        // installed (scripts/setup installs it for the page test): the file
        // is put back as it was, so the first run always changes it.
        let desktop = "/usr/share/applications/chromium.desktop"
        let chromium = FileManager.default.fileExists(atPath: desktop) ? 1 : 0
        let original = FileManager.default.contents(atPath: desktop).map {
            String(decoding: $0, as: UTF8.self).replacingOccurrences(of: " --ssl-version-min=tls1", with: "")
        }
        if let original { try original.write(toFile: desktop, atomically: true, encoding: .utf8) }
        defer { if let original { try? original.write(toFile: desktop, atomically: true, encoding: .utf8) } }
        let debs = try PoodleTests.packages.map { try buildPackage($0, in: work) }
        // Other suites may be using dpkg at the same moment: wait for its lock.
        let installed = try shell("for i in $(seq 240); do dpkg -i \(debs.joined(separator: " ")) 2>/tmp/brine-dpkg.err && break; grep -q lock /tmp/brine-dpkg.err || break; sleep 0.5; done; cat /tmp/brine-dpkg.err >&2")
        #expect(installed.code == 0, "\(installed.stdout)")
        for name in PoodleTests.packages { _ = try shell("service \(name) start") }

        let states = work + "/states"
        try FileManager.default.createDirectory(atPath: states, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: packageRoot + "/examples/poodle/poodle.sls", toPath: states + "/poodle.sls")
        let config = work + "/etc"
        let run = try brine(["call", "--local", "-c", config, "--file-root", states, "state.sls", "poodle"])
        #expect(run.code == 0, "\(run.stdout)\n\(run.stderr)")
        let out = run.stdout
        #expect(out.contains("-\tSSLProtocol all -SSLv2\n"))
        #expect(out.contains("+\tSSLProtocol all -SSLv2 -SSLv3\n"))
        #expect(out.contains("+    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;"))
        #expect(out.contains("+smtpd_tls_mandatory_protocols=!SSLv2,!SSLv3"))
        #expect(out.components(separatedBy: "Comment: Service restarted").count == 4, "\(out)")
        #expect(out.contains("Succeeded: \(6 + chromium) (changed=\(6 + chromium))"), "\(out)")
        #expect(try String(contentsOfFile: "/etc/apache2/mods-available/ssl.conf", encoding: .utf8)
            == "<IfModule mod_ssl.c>\n\tSSLProtocol all -SSLv2 -SSLv3\n</IfModule>\n")
        #expect(try String(contentsOfFile: "/etc/postfix/main.cf", encoding: .utf8)
            == "smtpd_tls_security_level = may\n# poodle fix\nsmtpd_tls_mandatory_protocols=!SSLv2,!SSLv3\n")
        for name in PoodleTests.packages {
            let log = try String(contentsOfFile: PoodleTests.logDir + "/\(name).log", encoding: .utf8)
            #expect(log == "start\nrestart\n", "\(name): \(log)")
        }

        // A second run finds everything in place: no changes, no restarts.
        let again = try brine(["call", "--local", "-c", config, "--file-root", states, "state.sls", "poodle"])
        #expect(again.code == 0)
        #expect(again.stdout.contains("Succeeded: \(6 + chromium)\n"), "\(again.stdout)")
        #expect(!again.stdout.contains("Service restarted"))
    }
}
