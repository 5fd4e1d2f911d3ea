import BrineCore
import Foundation
import Testing

/// docker_container/image/network/volume states and docker functions on the
/// real engine, through `brine call --local`; comments and changes are
/// saltext-dockermod's on Salt 3008.4 for the same steps (bench/README.md).
/// No registry is reachable here: a missing image is pulled from
/// 127.0.0.1:1, which refuses.
@Suite(.serialized, .enabled(if: DockerEngine.available || DockerEngine.required))
struct DockerStateTests {
    let root = tempDir()
    let suffix = UUID().uuidString.prefix(8).lowercased()
    var container: String { "brine-st-\(suffix)" }

    init() throws {
        #expect(DockerEngine.available, "the Docker engine is not running (scripts/test starts it)")
        _ = try DockerEngine.base.get()
        try FileManager.default.createDirectory(atPath: root + "/states", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        try "file_client: local\nroot_dir: \(root)\nfile_roots: {base: [\(root)/states]}\n".write(toFile: root + "/minion", atomically: true, encoding: .utf8)
    }

    /// Applies `text` as an SLS; the returns in run order.
    func apply(_ text: String, _ extra: String...) throws -> [Value] {
        try text.write(toFile: root + "/states/d.sls", atomically: true, encoding: .utf8)
        let run = try brine(["call", "--local", "-c", root, "state.apply", "d", "--out", "json"] + extra)
        let decoded = try JSON.decode(run.stdout)
        let returns: [Value] = decoded["local"]?.mapValue.map { Array($0.values) } ?? []
        #expect(!returns.isEmpty, "\(run.stdout)\(run.stderr)")
        func order(_ v: Value) -> Int { v["__run_num__"]?.intValue ?? 0 }
        return returns.sorted { order($0) < order($1) }
    }

    func web(env: String) -> String {
        """
        \(container):
          docker_container.running:
            - image: \(DockerEngine.baseImage)
            - command: sleep 1000
            - environment:
              - A: '\(env)'
            - labels: [role=web]
            - network_mode: none
            - binds: \(root)/data:/data:ro
            - working_dir: /data
            - shutdown_timeout: 1
        """
    }

    @Test func containerLifecycle() throws {
        defer { _ = try? shell("docker rm -f \(container) >/dev/null 2>&1; rm -rf \(root)") }
        let preview = try apply(web(env: "1"), "test=True")
        #expect(preview[0]["comment"] == .string("Container '\(container)' would be created") && preview[0]["result"] == .null)
        let created = try apply(web(env: "1"))
        #expect(created[0]["comment"] == .string("Created container '\(container)'"), "\(created)")
        #expect(created[0]["changes"]?["state"] == ["old": .null, "new": "running"])
        let inspect = try shell("docker inspect -f '{{json .Config.Env}} {{.Config.WorkingDir}} {{json .HostConfig.Binds}} {{.HostConfig.NetworkMode}} {{.State.Running}}' \(container)").stdout
        #expect(inspect.contains("\"A=1\"") && inspect.contains("/data [\"\(root)/data:/data:ro\"] none true"), "\(inspect)")

        let again = try apply(web(env: "1"))
        #expect(again[0]["comment"] == .string("Container '\(container)' is already configured as specified") && again[0]["changes"] == .emptyMap)

        let changedPreview = try apply(web(env: "2"), "test=True")
        #expect(changedPreview[0]["comment"] == .string("Container '\(container)' would be replaced"))
        let oldID = try shell("docker inspect -f '{{.Id}}' \(container)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let changed = try apply(web(env: "2"))
        #expect(changed[0]["comment"] == .string("Replaced container '\(container)'"), "\(changed)")
        let diff = changed[0]["changes"]?["container"]?["Config"]?["Env"]
        #expect(diff?["old"]?.listValue?.contains("A=1") == true && diff?["new"]?.listValue?.contains("A=2") == true, "\(String(describing: diff))")
        // Salt's removed: every container gone between its before and after listings (other tests' too, when they run alongside)
        #expect(changed[0]["changes"]?["container_id"]?["removed"]?.listValue?.contains(.string(oldID)) == true, "\(changed)")

        let stopped = try apply("\(container):\n  docker_container.stopped:\n    - shutdown_timeout: 1\n")
        #expect(stopped[0]["comment"] == .string("The following container(s) were stopped: \(container)"))
        #expect(stopped[0]["changes"]?[container]?["state"] == ["old": "running", "new": "stopped"])
        let restarted = try apply(web(env: "2"))
        #expect(restarted[0]["comment"] == .string("Container '\(container)' is already configured as specified. State changed from 'stopped' to 'running'."))

        let missing = try apply("nothere-\(suffix):\n  docker_container.running:\n    - image: 127.0.0.1:1/nothere:1\n")
        #expect(missing[0]["result"] == false)
        let pullComment = missing[0]["comment"]?.stringValue ?? ""
        #expect(pullComment.hasPrefix("Failed to pull 127.0.0.1:1/nothere:1: Error 500:"), "\(pullComment)")

        let running = try brine(["call", "--local", "-c", root, "docker.state", container]).stdout
        #expect(running == "local:\n    running\n")
        let refused = try apply("\(container):\n  docker_container.absent: []\n")
        #expect(refused[0]["comment"] == "Container is running, set force to True to forcibly remove it")
        let removed = try apply("\(container):\n  docker_container.absent:\n    - force: True\n")
        #expect(removed[0]["comment"] == .string("Forcibly removed container '\(container)'"))
        #expect(try shell("docker inspect \(container) >/dev/null 2>&1").code != 0)
    }

    @Test func volumesNetworksImages() throws {
        let (volume, network, image) = ("brine-vol-\(suffix)", "brine-net-\(suffix)", "brine-test/loaded-\(suffix)")
        defer { _ = try? shell("docker volume rm \(volume); docker network rm \(network); docker rmi \(image):v1 \(image):built; rm -rf \(root)") }
        let first = try apply("""
            \(volume):
              docker_volume.present: []
            \(network):
              docker_network.present:
                - internal: True
            """)
        #expect(first[0]["changes"]?["created"]?["Name"] == .string(volume) && first[0]["comment"] == "")
        #expect(first[1]["changes"] == ["created": true] && first[1]["comment"] == .string("Network '\(network)' created"))
        let again = try apply("\(volume):\n  docker_volume.present: []\n\(network):\n  docker_network.present:\n    - internal: True\n")
        #expect(again[0]["comment"] == .string("Volume '\(volume)' already exists."))
        #expect(again[1]["comment"] == .string("Network '\(network)' already exists, and is configured as specified"))
        let gone = try apply("\(volume):\n  docker_volume.absent: []\n\(network):\n  docker_network.absent: []\n")
        #expect(gone[0]["changes"] == ["removed": true] && gone[1]["comment"] == .string("Removed network '\(network)'"))

        // load from a tar (docker save of the base image), then absent
        #expect(try shell("docker save -o \(root)/base.tar \(DockerEngine.baseImage)").code == 0)
        let loaded = try apply("\(image):\n  docker_image.present:\n    - load: \(root)/base.tar\n    - tag: v1\n")
        #expect(loaded[0]["comment"] == .string("Image '\(image):v1' was loaded"), "\(loaded)")
        #expect(try apply("\(image):\n  docker_image.present:\n    - tag: v1\n")[0]["comment"] == .string("Image \(image):v1 already present"))

        // built from SLS by Brine's image builder, the same as `brine build`
        try "/etc/brine-built:\n  file.managed:\n    - contents: built by docker_image.present\n"
            .write(toFile: root + "/states/content.sls", atomically: true, encoding: .utf8)
        let built = try apply("""
            \(image):
              docker_image.present:
                - tag: built
                - sls: content
                - base: \(DockerEngine.baseImage)
            """)
        #expect(built[0]["comment"] == .string("Image '\(image):built' was built"), "\(built)")
        #expect(try shell("docker run --rm --network none \(image):built cat /etc/brine-built").stdout == "built by docker_image.present\n")

        let absent = try apply("\(image):\n  docker_image.absent:\n    - images: ['\(image):v1']\n")
        #expect(absent[0]["comment"] == .string("Image \(image):v1 was removed"), "\(absent)")
    }

    @Test func containerNetworks() throws {
        let (a, b, box) = ("brine-na-\(suffix)", "brine-nb-\(suffix)", "brine-nc-\(suffix)")
        defer { _ = try? shell("docker rm -f \(box); docker network rm \(a) \(b); rm -rf \(root)") }
        func boxState(_ nets: String) -> String {
            "\(box):\n  docker_container.running:\n    - image: \(DockerEngine.baseImage)\n    - command: sleep 1000\n    - shutdown_timeout: 1\n    - networks: [\(nets)]\n"
        }
        let missing = try apply(boxState(a))
        #expect(missing[0]["comment"] == .string("The following networks are not present: \(a)") && missing[0]["result"] == false)
        _ = try apply("\(a):\n  docker_network.present:\n    - internal: True\n\(b):\n  docker_network.present:\n    - internal: True\n")
        let created = try apply(boxState(a))
        #expect(created[0]["comment"] == .string("Created container '\(box)'"))
        #expect(created[0]["changes"]?["container"]?["Networks"]?[a]?["IPAddress"]?["old"] == .null, "\(created)")
        let preview = try apply(boxState("\(a), \(b)"), "test=True")
        #expect(preview[0]["comment"] == .string("Container '\(box)' is already configured as specified. Network configuration would be updated."))
        #expect(preview[0]["changes"]?["container"]?["Networks"]?[b] == ["IPConfiguration": ["old": "not connected", "new": "automatic"]])
        let connected = try apply(boxState("\(a), \(b)"))
        #expect(connected[0]["comment"] == .string("Container '\(box)' is already configured as specified. Connected to network '\(b)'."), "\(connected)")
        let moved = try apply(boxState(b))
        #expect(moved[0]["comment"] == .string("Container '\(box)' is already configured as specified. Disconnected from network '\(a)'."), "\(moved)")
        let networks = try shell("docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' \(box)").stdout
        #expect(networks == "\(b) \n", "\(networks)")
    }
}
