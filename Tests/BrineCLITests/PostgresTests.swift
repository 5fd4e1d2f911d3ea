import BrineCore
import BrineModules
import Foundation
import Testing

/// PostgreSQL clusters on Debian, created and dropped for real with
/// postgresql-common (`scripts/setup` installs PostgreSQL).
enum PostgresServer {
    static var version: String? {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).filter { Int($0) != nil }.sorted { Int($0)! > Int($1)! }.first
    }

    static var usable: Bool {
        geteuid() == 0 && version != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/pg_createcluster")
    }
}

@Suite(.serialized, .enabled(if: PostgresServer.usable || ProcessInfo.processInfo.environment["BRINE_REQUIRE_POSTGRES"] == "1"))
struct PostgresTests {
    let root = tempDir()
    let name = "brine\(UUID().uuidString.prefix(6).lowercased())"
    let port = testPort()
    var version: String { PostgresServer.version ?? "15" }


    func call(_ words: [String]) throws -> Run {
        try brine(["call", "--local", "-c", root + "/etc", "--file-root", root + "/states"] + words)
    }

    func writeState(port: Int) throws {
        try FileManager.default.createDirectory(atPath: root + "/states", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "file_client: local\nroot_dir: \(root)/\n".write(toFile: root + "/etc/minion", atomically: true, encoding: .utf8)
        try """
            \(name):
              postgres_cluster.present:
                - version: '\(version)'
                - port: \(port)
                - encoding: UTF8
                - locale: C.UTF-8
                - datadir: \(root)/data
            """.write(toFile: root + "/states/cluster.sls", atomically: true, encoding: .utf8)
        try "\(name):\n  postgres_cluster.absent:\n    - version: '\(version)'\n"
            .write(toFile: root + "/states/gone.sls", atomically: true, encoding: .utf8)
    }

    @Test func clustersArePresentThenAbsent() throws {
        defer { _ = try? shell("pg_dropcluster --stop \(version) \(name) 2>/dev/null; rm -rf \(root)") }
        try writeState(port: port)
        #expect(try call(["postgres.cluster_exists", version, name]).stdout == "local:\n    False\n")

        let dry = try call(["state.sls", "cluster", "test=True"])
        #expect(dry.stdout.contains("Cluster \(version)/\(name) is set to be created"), "\(dry.stdout)\(dry.stderr)")
        #expect(try call(["postgres.cluster_exists", version, name]).stdout == "local:\n    False\n")

        let created = try call(["state.sls", "cluster", "--out", "json"])
        #expect(created.code == 0, "\(created.stdout)\(created.stderr)")
        let ret = try JSON.decode(created.stdout)["local"]?.mapValue?.values.first
        #expect(ret?["changes"] == [.init(stringLiteral: "\(version)/\(name)"): "Present"], "\(created.stdout)")
        #expect(ret?["comment"] == .string("The cluster \(version)/\(name) has been created"))

        let listed = try JSON.decode(try call(["postgres.cluster_list", "verbose=True", "--out", "json"]).stdout)["local"]?["\(version)/\(name)"]
        #expect(listed?["port"] == .int(port) && listed?["status"] == "down" && listed?["user"] == "postgres", "\(String(describing: listed))")
        #expect(listed?["datadir"] == .string(root + "/data"))
        #expect(try JSON.decode(try call(["postgres.cluster_list", "--out", "json"]).stdout)["local"]?.listValue?.contains(.string("\(version)/\(name)")) == true)

        // The server really runs with what the state asked for.
        let started = try shell("pg_ctlcluster \(version) \(name) start")
        #expect(started.code == 0, "\(started.stdout)")
        let settings = try shell("runuser -u postgres -- psql -h /var/run/postgresql -p \(port) -Atc 'SHOW server_encoding' -c 'SHOW lc_collate'")
        #expect(settings.stdout == "UTF8\nC.UTF-8\n", "\(settings.stdout)")

        let again = try call(["state.sls", "cluster"])
        #expect(again.stdout.contains("Cluster \(version)/\(name) is already present") && again.stdout.contains("Succeeded: 1\n"), "\(again.stdout)")
        try writeState(port: port + 1)
        let wrong = try call(["state.sls", "cluster"])
        #expect(wrong.code != 0 && wrong.stdout.contains("has wrong parameters which couldn't be changed on fly"), "\(wrong.stdout)")

        // absent stops the running cluster first, then drops it.
        let dropped = try call(["state.sls", "gone", "--out", "json"])
        let gone = try JSON.decode(dropped.stdout)["local"]?.mapValue?.values.first
        #expect(gone?["changes"] == [.init(stringLiteral: name): "Absent"], "\(dropped.stdout)\(dropped.stderr)")
        #expect(try call(["postgres.cluster_exists", version, name]).stdout == "local:\n    False\n")
        #expect(!FileManager.default.fileExists(atPath: root + "/data"))
        #expect(try call(["state.sls", "gone"]).stdout.contains("is not present, so it cannot be removed"))
        let removeMissing = try JSON.decode(try call(["postgres.cluster_remove", version, name, "--out", "json"]).stdout)["local"]
        #expect(removeMissing?["retcode"] != 0)
    }
}
