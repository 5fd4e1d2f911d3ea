import Foundation
import Testing
@testable import BrineCore

/// A fresh directory under the system temp dir, removed by the caller.
func makeTempDir(_ tag: String = "brine") -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(tag)-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct ConfigTests {
    /// The seed's master file (first seed entry), byte for byte.
    static let seedDir: String = {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/seed/etc/salt").path
    }()

    @Test func seedMasterFileLoadsUnchanged() throws {
        let config = try Config.load(role: .master, configDir: ConfigTests.seedDir)
        #expect(config.warnings.isEmpty)
        #expect(config.string("interface") == "192.168.127.1")
        #expect(config.string("user") == "david")
        #expect(config.string("root_dir") == "/home/david/salt")
        #expect(config.string("pidfile") == "/home/david/salt/var/run/salt-master.pid")
        #expect(config.string("pki_dir") == "/home/david/salt/etc/salt/pki/master")
        #expect(config.string("cachedir") == "/home/david/salt/var/cache/salt/master")
        #expect(config.string("sock_dir") == "/home/david/salt/var/run/salt/master")
        // Defaults that Salt roots too.
        #expect(config.string("log_file") == "/home/david/salt/var/log/brine/master")
        // file_roots and pillar_roots are taken as given.
        #expect(config.roots("file_roots")["base"] == ["/home/david/salt/states", "/home/david/salt/formulas/cubicweb"])
        #expect(config.roots("pillar_roots")["base"] == ["/home/david/salt/pillar"])
        #expect(config.int("ret_port") == 4506)
    }

    @Test func defaultsWithoutAFile() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try Config.load(role: .minion, configDir: dir)
        #expect(config.string("master") == "salt")
        #expect(config.string("pki_dir") == "/etc/brine/pki/minion")
        #expect(config.roots("file_roots")["base"] == ["/srv/salt", "/srv/spm/salt"])
    }

    @Test func configDirectoryPrecedence() {
        #expect(Config.configDirectory(explicit: "/a", environment: ["BRINE_CONFIG_DIR": "/b", "SALT_CONFIG_DIR": "/c"]) == "/a")
        #expect(Config.configDirectory(explicit: nil, environment: ["BRINE_CONFIG_DIR": "/b", "SALT_CONFIG_DIR": "/c"]) == "/b")
        #expect(Config.configDirectory(explicit: nil, environment: ["SALT_CONFIG_DIR": "/c"]) == "/c")
        #expect(Config.configDirectory(explicit: nil, environment: [:]) == "/etc/brine")
    }

    @Test func unknownOptionWarnsWrongTypeFails() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "root_dir: \(dir)\nfrobnicate: 1\n".write(toFile: dir + "/master", atomically: true, encoding: .utf8)
        let config = try Config.load(role: .master, configDir: dir)
        #expect(config.warnings.count == 1)
        #expect(config.warnings.first?.contains("frobnicate") == true)
        #expect(config.string("pki_dir") == dir + "/etc/brine/pki/master")

        try "root_dir: \(dir)\n\nret_port: [4506]\n".write(toFile: dir + "/master", atomically: true, encoding: .utf8)
        #expect {
            try Config.load(role: .master, configDir: dir)
        } throws: { error in
            guard let error = error as? BrineError else { return false }
            return error.kind == .config && error.message.contains("ret_port") && error.location?.file == dir + "/master"
                && error.location?.line == 3
        }
    }

    @Test func dropInFilesAndOverrides() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/minion.d", withIntermediateDirectories: true)
        try "id: first\nmaster: m1\n".write(toFile: dir + "/minion", atomically: true, encoding: .utf8)
        try "master: m2\n".write(toFile: dir + "/minion.d/10-master.conf", atomically: true, encoding: .utf8)
        let config = try Config.load(role: .minion, configDir: dir, overrides: ["id": "cli"])
        #expect(config.string("master") == "m2")
        #expect(config.string("id") == "cli")
    }

    @Test func relativeRootDirAndPaths() {
        #expect(Config.rooted("var/run/x.pid", under: "/srv/r") == "/srv/r/var/run/x.pid")
        #expect(Config.rooted("/var/run/x.pid", under: "/srv/r") == "/srv/r/var/run/x.pid")
        #expect(Config.rooted("/srv/r/pki", under: "/srv/r") == "/srv/r/pki")
        #expect(Config.rooted("pki", under: "/") == "/pki")
    }
}
