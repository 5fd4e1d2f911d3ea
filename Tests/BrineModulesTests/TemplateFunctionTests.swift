import BrineCore
import BrineModules
import Foundation
import Testing

/// Functions formulas call from templates, with the answers Salt 3008 gave
/// on the same machine (bench/compat/oracle.sh), read from the real system.
@Suite struct TemplateFunctionTests {
    @Test func userAndGroupInfo() throws {
        let ctx = try makeContext()
        let root = try call(ctx, "user.info", "root")
        #expect(root.mapValue.map { Array($0.keys) } == ["gid", "groups", "home", "name", "passwd", "shell", "uid", "fullname",
                                                          "roomnumber", "workphone", "homephone", "other"])
        #expect(root["uid"] == 0)
        #expect(root["name"] == "root")
        #expect(root["groups"]?.listValue?.contains("root") == true)
        #expect(try call(ctx, "user.info", "no-such-user-brine") == .emptyMap)
        let group = try call(ctx, "group.info", "root")
        #expect(group.mapValue.map { Array($0.keys) } == ["name", "passwd", "gid", "members"])
        #expect(group["gid"] == 0)
        #expect(try call(ctx, "group.info", "no-such-group-brine") == .emptyMap)
        #expect(try call(ctx, "user.primary_group", "root") == "root")
    }

    @Test func alternativesShowCurrent() throws {
        let ctx = try makeContext()
        let name = "brine-test-\(getpid())"
        let link = "/etc/alternatives/" + name
        guard FileManager.default.isWritableFile(atPath: "/etc/alternatives") else { return }
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/usr/bin/true")
        defer { try? FileManager.default.removeItem(atPath: link) }
        #expect(try call(ctx, "alternatives.show_current", name) == "/usr/bin/true")
        #expect(try call(ctx, "alternatives.show_current", "no-such-alternative-brine") == false)
    }

    @Test func networkCalcNet() throws {
        let ctx = try makeContext()
        #expect(try call(ctx, "network.calc_net", "192.168.1.5", "255.255.255.0") == "192.168.1.0/24")
        #expect(try call(ctx, "network.calc_net", "10.1.2.3/8") == "10.0.0.0/8")
        #expect(try call(ctx, "network.calc_net", "10.1.2.3", "32") == "10.1.2.3/32")
        #expect(try call(ctx, "network.calc_net", "10.1.2.3", "0") == "0.0.0.0/0")
        #expect(throws: BrineError.self) { try call(ctx, "network.calc_net", "10.1.2.3", "255.0.255.0") }
        #expect(throws: BrineError.self) { try call(ctx, "network.calc_net", "300.1.2.3/8") }
    }

    @Test func masterlessMineAndProviders() throws {
        let ctx = try makeContext()
        #expect(try call(ctx, "mine.get", "*", "test.ping") == .emptyMap)
        #expect(try call(ctx, "test.provider", "pkg") == "aptpkg")
        #expect(try call(ctx, "test.provider", "cmd") == "cmdmod")
    }

    @Test func listMasterDirs() throws {
        let root = makeTempDir("roots")
        defer { try? FileManager.default.removeItem(atPath: root) }
        for file in ["app/init.sls", "app/files/a/b.conf", "top.sls"] {
            let path = root + "/" + file
            try FileManager.default.createDirectory(atPath: FileOps.dirname(path), withIntermediateDirectories: true)
            try "x".write(toFile: path, atomically: true, encoding: .utf8)
        }
        let ctx = try makeContext(fileRoot: root)
        #expect(try call(ctx, "cp.list_master_dirs") == ["app", "app/files", "app/files/a"])
        #expect(try call(ctx, "cp.list_master_dirs", "prefix=app/f") == ["app/files", "app/files/a"])
    }

    /// `config.option` and `config.get` look in the options, grains, pillar,
    /// the pillar's `master` section, then Salt's DEFAULTS (answers as Salt's).
    @Test func configLookupOrderAndDefaults() throws {
        let ctx = try makeContext(pillar: ["postgres.port": "5432", "master": ["mine.key": "m"], "app": ["port": 1]])
        #expect(try call(ctx, "config.option", "postgres.port") == "5432")
        #expect(try call(ctx, "config.option", "mine.key") == "m")
        #expect(try call(ctx, "config.option", "redis.port") == 6379)
        #expect(try call(ctx, "config.option", "nope") == "")
        #expect(try call(ctx, "config.option", "redis.*", "wildcard=True") == ["redis.db": "0", "redis.host": "salt", "redis.port": 6379])
        #expect(try call(ctx, "config.get", "virt:images") == "/srv/salt-images")
        #expect(try call(ctx, "config.get", "app:port") == 1)
        #expect(try call(ctx, "config.get", "app", "merge=recurse") == ["port": 1])
    }

    @Test func ipInSubnetAndStatusTime() throws {
        let ctx = try makeContext()
        #expect(try call(ctx, "network.ip_in_subnet", "10.1.2.3", "10.0.0.0/8") == true)
        #expect(try call(ctx, "network.ip_in_subnet", "11.1.2.3", "10.0.0.0/8") == false)
        #expect(try call(ctx, "network.ip_in_subnet", "192.168.1.7", "192.168.1.0/24") == true)
        // Salt raises ValueError: "'not-an-ip' does not appear to be an IPv4 or IPv6 address".
        #expect(throws: BrineError.self) { try call(ctx, "network.ip_in_subnet", "not-an-ip", "192.168.1.0/24") }
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        #expect(try call(ctx, "status.time", "%Y") == .string(String(year)))
    }
}
