import BrineCore
import Foundation
import Synchronization
import Testing

@testable import BrineContainer

enum Engine {
    static var present: Bool { FileManager.default.fileExists(atPath: "/var/run/docker.sock") && geteuid() == 0 }
}

/// The client against the real engine (`scripts/engine` starts it; the
/// tests skip without one unless BRINE_REQUIRE_DOCKER=1). Uses any local
/// image with /bin/sh: the CLI tests bootstrap brine-test/bookworm:minbase.
@Suite(.serialized, .enabled(if: Engine.present || ProcessInfo.processInfo.environment["BRINE_REQUIRE_DOCKER"] == "1"))
struct DockerClientTests {
    /// An image that has a shell and that no other test removes (tests
    /// running beside this suite build and delete `brine-test/…` images: one
    /// of those picked here vanished before the container was created), or
    /// nil when the engine has none yet.
    func shellImage(_ docker: DockerClient) async throws -> String? {
        let tags = try await docker.listImages().flatMap { $0["RepoTags"]?.listValue ?? [] }.compactMap(\.stringValue)
        let stable = tags.filter { $0 == "brine-test/bookworm:minbase" } + tags.filter { !$0.hasPrefix("brine-test/") && $0 != "<none>:<none>" }
        for tag in stable where try await docker.inspectImage(tag)?["Os"]?.stringValue == "linux" { return tag }
        return nil
    }

    @Test func negotiatesAndReportsTheEnginesErrors() async throws {
        let docker = try await DockerClient.connect()
        #expect(DockerClient.compare(docker.apiVersion, DockerClient.oldestAPI) >= 0)
        #expect(try await docker.inspectImage("brine-test/does-not-exist:1") == nil)
        #expect(try await docker.inspectContainer("brine-no-such-container") == nil)
        do {
            _ = try await docker.createContainer(ContainerSpec(image: "brine-test/does-not-exist:1"))
            Issue.record("created a container from a missing image")
        } catch let error as DockerError {
            #expect(error.status == 404)
            #expect(error.description.contains("No such image"), "\(error)")
        }
    }

    @Test func runsExecsCommitsAndCleansUp() async throws {
        let docker = try await DockerClient.connect()
        guard let image = try await shellImage(docker) else {
            Issue.record("no image with a shell in the engine")
            return
        }
        var spec = ContainerSpec(image: image)
        spec.entrypoint = ["/bin/sh", "-c"]
        spec.command = ["echo out; echo err >&2; sleep 30"]
        spec.env = ["GREETING=hi"]
        spec.labels = ["io.brine.test": "client"]
        spec.hostname = "clienttest"
        spec.tmpfs = ["/run": "mode=755"]
        let id = try await docker.createContainer(spec)
        do {
            try await docker.startContainer(id)
            let collected = Mutex<[(StreamDemuxer.Stream, String)]>([])
            let code = try await docker.exec(id, ["/bin/sh", "-c", "echo $GREETING $(hostname); echo oops >&2; touch /made; exit 3"]) { stream, bytes in
                collected.withLock { $0.append((stream, String(decoding: bytes, as: UTF8.self))) }
            }
            #expect(code == 3)
            let frames = collected.withLock { $0 }
            #expect(frames.filter { $0.0 == .stdout }.map(\.1).joined() == "hi clienttest\n")
            #expect(frames.filter { $0.0 == .stderr }.map(\.1).joined() == "oops\n")

            // The main process's two lines reach the engine's log in their own time: read until both are there.
            var logged = ""
            for _ in 0..<600 {
                let logs = Mutex("")
                try await docker.logs(id, follow: false) { stream, bytes in
                    logs.withLock { $0 += "\(stream == .stdout ? "1" : "2"):" + String(decoding: bytes, as: UTF8.self) }
                }
                logged = logs.withLock { $0 }
                if logged.contains("1:out\n") && logged.contains("2:err\n") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(logged.contains("1:out\n") && logged.contains("2:err\n"), "\(logged)")
            #expect(try await docker.listContainers(label: "io.brine.test=client").contains { $0["Id"]?.stringValue == id })

            try await docker.stopContainer(id, timeout: 1)
            let committed = try await docker.commit(container: id, as: "brine-test/client:committed", changes: ["CMD [\"cat\", \"/made\"]"])
            let inspected = try await docker.inspectImage(committed)
            #expect(inspected?["Config"]?["Cmd"] == ["cat", "/made"])
            #expect(try await docker.history(committed).count >= 2)
            try await docker.tagImage(committed, as: "brine-test/client:again")
            try await docker.removeImage("brine-test/client:again")
            try await docker.removeContainer(id, force: true)
            try await docker.removeImage("brine-test/client:committed", force: true)
            #expect(try await docker.inspectImage("brine-test/client:committed") == nil)
            #expect(try await docker.inspectContainer(id) == nil)
        } catch {
            try? await docker.removeContainer(id, force: true)
            throw error
        }
    }

    @Test func aWholeRunWaitsForTheExitCode() async throws {
        let docker = try await DockerClient.connect()
        guard let image = try await shellImage(docker) else { return }
        var spec = ContainerSpec(image: image)
        spec.entrypoint = ["/bin/sh", "-c", "exit 7"]
        spec.command = []
        let id = try await docker.createContainer(spec)
        try await docker.startContainer(id)
        let code = try await docker.waitContainer(id)
        try await docker.removeContainer(id, force: true)
        #expect(code == 7)
        #expect(try await docker.inspectContainer(id) == nil)
    }
}
