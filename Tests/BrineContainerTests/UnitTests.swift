import BrineCore
import Foundation
import Testing

@testable import BrineContainer

@Suite struct StreamDemuxerTests {
    static func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        let n = payload.count
        return [stream, 0, 0, 0, UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + payload
    }

    @Test func splitsFramesCutAnywhere() {
        let bytes = Self.frame(1, "hello\n") + Self.frame(2, "warn\n") + Self.frame(1, String(repeating: "x", count: 300))
        for cut in [1, 3, 8, 9, 13, 20, bytes.count - 1] {
            var demuxer = StreamDemuxer()
            let frames = demuxer.feed(bytes[..<cut]) + demuxer.feed(bytes[cut...])
            #expect(frames.map(\.0) == [.stdout, .stderr, .stdout])
            #expect(frames.map { String(decoding: $0.1, as: UTF8.self) } == ["hello\n", "warn\n", String(repeating: "x", count: 300)])
            #expect(demuxer.leftover == 0)
        }
    }

    @Test func keepsAPartialFrame() {
        var demuxer = StreamDemuxer()
        #expect(demuxer.feed(Self.frame(1, "abc").dropLast()).isEmpty)
        #expect(demuxer.leftover == 10)
    }

    @Test func linesAcrossChunks() {
        var lines = LineSplitter()
        #expect(lines.feed(Array("a\nb".utf8)) == ["a"])
        #expect(lines.feed(Array("c\n\nd".utf8)) == ["bc", ""])
        #expect(lines.finish() == "d")
    }
}

@Suite struct TarTests {
    @Test func gnuTarReadsTheArchive() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brine-tar-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let content = "FROM scratch\nCMD [\"x\"]\n" + String(repeating: "#", count: 700)
        let archive = Tar.archive([("Dockerfile", Array(content.utf8))])
        #expect(archive.count % 512 == 0)
        try Data(archive).write(to: URL(fileURLWithPath: dir + "/a.tar"))
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-C", dir, "-xf", dir + "/a.tar"]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        #expect(try String(contentsOfFile: dir + "/Dockerfile", encoding: .utf8) == content)
    }
}

@Suite struct BuildFileTests {
    func write(_ text: String, dirs: [String] = ["salt"]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brine-bf-\(UUID().uuidString)").path
        for d in dirs { try FileManager.default.createDirectory(atPath: dir + "/" + d, withIntermediateDirectories: true) }
        try text.write(toFile: dir + "/brine-build.yaml", atomically: true, encoding: .utf8)
        return dir + "/brine-build.yaml"
    }

    @Test func readsEveryKey() throws {
        let path = try write("""
            from: local/bookworm:minbase
            image: example/web:1
            sls: [users, web]
            pillar: {web: {port: 8080}}
            grains: {role: web}
            layers: single
            config:
              cmd: [nginx, -g, daemon off;]
              expose: [80, 443/tcp]
              env: {A: b}
              workdir: /srv
              user: www-data
              labels: {team: ops}
              volumes: /data
            """, dirs: ["salt", "pillar"])
        let file = try BuildFile.load(path)
        #expect(file.from == "local/bookworm:minbase")
        #expect(file.sls == ["users", "web"])
        #expect(file.id == "web")
        #expect(file.layers == .single)
        #expect(file.steps.count == 1)
        #expect(file.fileRoots.first?.dirs.first?.hasSuffix("/salt") == true)
        #expect(file.pillarRoots.first?.env == "base")
        #expect(file.config.cmd == ["nginx", "-g", "daemon off;"])
        #expect(file.config.expose == ["80", "443/tcp"])
        #expect(file.config.volumes == ["/data"])
        #expect(file.config.env.map { "\($0.0)=\($0.1)" } == ["A=b"])
    }

    @Test func perSLSLayersByDefault() throws {
        let file = try BuildFile.load(try write("from: a\nimage: b\nsls: x, y\n"))
        #expect(file.steps.map { $0 ?? [] } == [["x"], ["y"]])
    }

    @Test(arguments: [
        ("from: a\nimage: b\nsls: [x]\nlayer: single\n", "unknown key 'layer'", 4),
        ("from: a\nimage: b\n", "name the states to apply", nil),
        ("image: b\nsls: [x]\n", "missing 'from'", nil),
        ("from: a\nimage: b\nsls: [x]\nhighstate: true\n", "not both", 4),
        ("from: a\nimage: b\nsls: [x]\nlayers: many\n", "per-sls or single", 4),
        ("from: a\nimage: b\nsls: [x]\nfile_roots: nowhere\n", "is not a directory", 4),
        ("from: a\nimage: b\nsls: [x]\nconfig: {cmd: 3}\n", "'cmd' must be", 4),
        ("from: a\nimage: b\nsls: [x]\nconfig:\n  port: 3\n", "unknown config key 'port'", 5),
        ("from: a\nimage: b\nsls: {x: 1}\n", "list of strings", 3),
    ] as [(String, String, Int?)])
    func badFilesSayWhereAndWhat(text: String, message: String, line: Int?) throws {
        let path = try write(text)
        do {
            _ = try BuildFile.load(path)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.location?.file == path)
            #expect(error.location?.line == line)
        }
    }

    @Test func missingFileHasAHint() {
        #expect(throws: BrineError.self) { try BuildFile.load("/nonexistent/brine-build.yaml") }
    }
}

@Suite struct ReferenceTests {
    @Test func splitsRepositoryAndTag() {
        #expect(DockerClient.splitReference("debian:bookworm") == ("debian", "bookworm"))
        #expect(DockerClient.splitReference("example/web") == ("example/web", "latest"))
        #expect(DockerClient.splitReference("reg:5000/web") == ("reg:5000/web", "latest"))
        #expect(DockerClient.splitReference("reg:5000/web:2") == ("reg:5000/web", "2"))
    }

    @Test func apiVersionsCompareNumerically() {
        #expect(DockerClient.compare("1.41", "1.9") == 1)
        #expect(DockerClient.compare("1.41", "1.41") == 0)
        #expect(DockerClient.compare("1.40", "1.45") == -1)
    }

    @Test func dockerHostMustBeAUnixSocket() throws {
        #expect(try DockerClient.socketPath(environment: [:]) == "/var/run/docker.sock")
        #expect(try DockerClient.socketPath(environment: ["DOCKER_HOST": "unix:///tmp/d.sock"]) == "/tmp/d.sock")
        #expect(throws: DockerError.self) { try DockerClient.socketPath(environment: ["DOCKER_HOST": "tcp://10.0.0.1:2375"]) }
    }
}

@Suite struct RuntimeBundleTests {
    @Test func aDynamicBinaryBringsItsLoaderAndLibraries() throws {
        let bundle = try RuntimeBundle.of(binary: "/bin/ls")
        #expect(bundle.interpreter?.hasPrefix("ld-linux") == true)
        #expect(bundle.libraries.contains { $0.name == "libc.so.6" })
        #expect(bundle.libraries.allSatisfy { FileManager.default.fileExists(atPath: $0.host) })
        let command = bundle.command(["call", "test.ping"])
        #expect(command.first == "/run/brine/lib/\(bundle.interpreter ?? "")")
        #expect(command.suffix(3) == ["/run/brine/bin/brine", "call", "test.ping"])
        #expect(bundle.binds.allSatisfy { $0.hasSuffix(":ro") && $0.contains(":/run/brine/") })
    }
}
