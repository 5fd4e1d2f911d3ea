import BrineCore
import BrineModules
import Foundation
import Testing

/// The Docker engine the container tests use: `scripts/test` starts one;
/// with `BRINE_REQUIRE_DOCKER=1` (set there) its absence fails the tests
/// instead of skipping them.
enum DockerEngine {
    static let socket = "/var/run/docker.sock"
    static let baseImage = "brine-test/bookworm:minbase"

    static var available: Bool {
        geteuid() == 0 && (try? sh("docker version --format '{{.Server.Version}}'").code) == 0
    }

    static var required: Bool { ProcessInfo.processInfo.environment["BRINE_REQUIRE_DOCKER"] == "1" }

    static func sh(_ command: String) throws -> Run { try shell(command) }

    /// The base image, bootstrapped from Debian's mirror on first use.
    static let base: Result<String, BootstrapFailure> = {
        let made = try? brine(["image", "bootstrap", "--if-missing", "--suite", "bookworm", baseImage])
        guard let made, made.code == 0 else { return .failure(BootstrapFailure(output: "\(made?.stdout ?? "")\(made?.stderr ?? "")")) }
        return .success(baseImage)
    }()

    struct BootstrapFailure: Error { var output: String }
}

/// Writes each path → text under root, making directories as needed.
func writeFiles(_ files: [String: String], under root: String) throws {
    for (path, content) in files {
        let full = root + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try content.write(toFile: full, atomically: true, encoding: .utf8)
    }
}

/// Builds real images in a real engine: users, a package from a .deb the
/// test makes, a service through `service`, files from templates with pillar.
@Suite(.serialized, .enabled(if: DockerEngine.available || DockerEngine.required))
struct ImageBuildTests {
    let root = tempDir()
    let image = "brine-test/web:\(UUID().uuidString.prefix(8).lowercased())"
    /// In every cache key: layers of earlier test runs are never reused.
    let runID = UUID().uuidString

    init() throws {
        #expect(DockerEngine.available, "the Docker engine is not running (scripts/test starts it)")
        _ = try DockerEngine.base.get()
    }

    func write(_ files: [String: String]) throws { try writeFiles(files, under: root) }

    /// A package with a program, an init script and a config file.
    func buildPackage() throws {
        let pkg = root + "/pkgroot"
        try write([
            "pkgroot/DEBIAN/control": "Package: hello-svc\nVersion: 1.0\nArchitecture: all\nMaintainer: Brine <brine@localhost>\nDescription: test service\n",
            "pkgroot/usr/bin/hello-svc": "#!/bin/sh\nwhile true; do sleep 60; done\n",
            "pkgroot/etc/init.d/hello-svc": """
                #!/bin/sh
                ### BEGIN INIT INFO
                # Provides:          hello-svc
                # Required-Start:
                # Required-Stop:
                # Default-Start:     2 3 4 5
                # Default-Stop:      0 1 6
                # Short-Description: test service
                ### END INIT INFO
                PID=/var/run/hello-svc.pid
                running() { [ -f $PID ] && kill -0 "$(cat $PID)" 2>/dev/null; }
                case "$1" in
                  start) running || { setsid /usr/bin/hello-svc >/dev/null 2>&1 & echo $! > $PID; }; echo started >> /var/log/hello-svc.log ;;
                  stop) running && kill "$(cat $PID)"; rm -f $PID ;;
                  restart) $0 stop; $0 start ;;
                  status) running ;;
                  *) exit 2 ;;
                esac
                """,
        ])
        chmod(pkg + "/usr/bin/hello-svc", 0o755)
        chmod(pkg + "/etc/init.d/hello-svc", 0o755)
        try FileManager.default.createDirectory(atPath: root + "/salt/debs", withIntermediateDirectories: true)
        let built = try DockerEngine.sh("dpkg-deb --build --root-owner-group \(pkg) \(root)/salt/debs/hello-svc_1.0_all.deb")
        #expect(built.code == 0, "\(built.stdout)")
    }

    func writeTree(greeting: String = "Hello") throws {
        try buildPackage()
        try write([
            "salt/users.sls": """
                web:
                  group.present: []
                  user.present:
                    - gid: web
                    - home: /srv/web
                    - createhome: True
                    - require:
                      - group: web
                """,
            "salt/web/init.sls": """
                hello-svc:
                  pkg.installed:
                    - sources:
                      - hello-svc: salt://debs/hello-svc_1.0_all.deb
                  service.running:
                    - enable: True
                    - watch:
                      - file: /etc/hello-svc.conf
                /etc/hello-svc.conf:
                  file.managed:
                    - source: salt://web/hello.conf.j2
                    - template: jinja
                    - user: web
                    - mode: '0640'
                    - require:
                      - pkg: hello-svc
                """,
            "salt/web/hello.conf.j2": "greeting={{ pillar['greeting'] }}\nport={{ pillar['web']['port'] }}\nos={{ grains['os'] }}\n",
            "pillar/top.sls": "base:\n  '*':\n    - web\n",
            "pillar/web.sls": "web:\n  port: 8080\n",
            "brine-build.yaml": """
                from: \(DockerEngine.baseImage)
                image: \(image)
                sls: [users, web]
                pillar:
                  greeting: \(greeting)
                grains:
                  test_run: \(runID)
                config:
                  cmd: [cat, /etc/hello-svc.conf]
                  expose: [8080]
                  env: {GREETING: "\(greeting)"}
                  labels: {team: ops}
                """,
        ])
    }

    func build(_ extra: [String] = []) throws -> Run {
        try brine(["build", root + "/brine-build.yaml", "--no-color"] + extra)
    }

    func cleanUp() {
        _ = try? DockerEngine.sh("docker rmi -f \(image) >/dev/null 2>&1; docker ps -aq --filter name=brine-build-web | xargs -r docker rm -f")
        try? FileManager.default.removeItem(atPath: root)
    }

    @Test func buildsCachesAndRebuildsFromTheChangedLayer() throws {
        defer { cleanUp() }
        try writeTree()
        let cold = try build()
        #expect(cold.code == 0, "\(cold.stdout)\(cold.stderr)")
        #expect(cold.stdout.contains("Step 1/2 users: applying 2 states"))
        #expect(cold.stdout.contains("changed pkg.installed hello-svc"))
        #expect(cold.stdout.contains("changed service.running hello-svc"))
        #expect(cold.stdout.contains("2 layers built, 0 from cache"))

        // The image has what the states made.
        let run = try DockerEngine.sh("docker run --rm --network none \(image)")
        #expect(run.stdout == "greeting=Hello\nport=8080\nos=Debian\n", "\(run.stdout)")
        let inside = try DockerEngine.sh("""
            docker run --rm --network none --entrypoint /bin/sh \(image) -c \
            'id web; stat -c "%U %a" /etc/hello-svc.conf; dpkg-query -W -f "\\${Status}\\n" hello-svc; \
            ls /etc/rc2.d | grep -c hello-svc; cat /var/log/hello-svc.log; test -d /srv/web && echo home; echo "$GREETING"'
            """)
        #expect(inside.stdout.contains("uid=1000(web) gid=1000(web)"), "\(inside.stdout)")
        #expect(inside.stdout.contains("web 640\ninstall ok installed\n1\nstarted\n"), "\(inside.stdout)")
        #expect(inside.stdout.hasSuffix("home\nHello\n"), "\(inside.stdout)")

        // No agent, key, configuration or state tree in the image.
        let leftovers = try DockerEngine.sh("""
            docker run --rm --network none --entrypoint /bin/sh \(image) -c \
            'ls -A /run/brine 2>/dev/null; find / -xdev \\( -name "brine*" -o -name "*.sls" -o -name "*.pem" -o -name "minion" \\) -print; \
            ls /var/cache/brine /etc/brine 2>/dev/null; echo done'
            """)
        #expect(leftovers.stdout == "done\n", "\(leftovers.stdout)")
        let config = try DockerEngine.sh("docker inspect -f '{{json .Config.Labels}} {{json .Config.Cmd}} {{json .Config.Entrypoint}} {{.Config.User}}' \(image)")
        #expect(config.stdout.contains("\"io.brine.sls\":\"users,web\""), "\(config.stdout)")
        #expect(config.stdout.contains("\"team\":\"ops\""))
        #expect(config.stdout.contains("[\"cat\",\"/etc/hello-svc.conf\"] null root"), "\(config.stdout)")
        let history = try DockerEngine.sh("docker history --no-trunc --format '{{.CreatedBy}}' \(image)")
        #expect(history.stdout.contains("build-step -c /run/brine/etc users"), "\(history.stdout)")
        #expect(!history.stdout.contains("greeting"), "pillar stays out of the history: \(history.stdout)")

        // Nothing changed: every layer from cache, the same image.
        let id = try DockerEngine.sh("docker inspect -f '{{.Id}}' \(image)").stdout
        let again = try build()
        #expect(again.code == 0 && again.stdout.contains("0 layers built, 2 from cache"), "\(again.stdout)\(again.stderr)")
        #expect(try DockerEngine.sh("docker inspect -f '{{.Id}}' \(image)").stdout == id)

        // A template of the second SLS changes: the first layer is reused.
        try write(["salt/web/hello.conf.j2": "greeting={{ pillar['greeting'] }}!\n"])
        let partial = try build()
        #expect(partial.stdout.contains("Step 1/2 users: cached"), "\(partial.stdout)")
        #expect(partial.stdout.contains("1 layer built, 1 from cache"), "\(partial.stdout)")
        #expect(try DockerEngine.sh("docker run --rm --network none \(image)").stdout == "greeting=Hello!\n")

        // Pillar is part of every key.
        try writeTree(greeting: "Hi")
        let repillared = try build()
        #expect(repillared.stdout.contains("2 layers built, 0 from cache"), "\(repillared.stdout)")
        #expect(try build(["--no-cache"]).stdout.contains("2 layers built, 0 from cache"))

        // On a terminal: the same lines, and a progress bar redrawn under them.
        let terminal = try DockerEngine.sh("script -qec '\(brineBinary) build --no-color --no-cache \(root)/brine-build.yaml' /dev/null")
        #expect(terminal.stdout.contains("2 layers built, 0 from cache"), "\(terminal.stdout)")
        #expect(terminal.stdout.contains("] 1/3 ") && terminal.stdout.contains("\u{1B}[2K"), "\(terminal.stdout)")
    }

    @Test func aFailingStateTagsNothingAndKeepsTheContainerOnlyWhenAsked() throws {
        defer { cleanUp() }
        try writeTree()
        try write(["salt/web/init.sls": "broken:\n  cmd.run:\n    - name: 'echo about to fail; exit 3'\n"])
        let failed = try build()
        #expect(failed.code == 1)
        #expect(failed.stdout.contains("Step 2/2 web: applying 1 state"))
        #expect(failed.stdout.contains("      Result: False"), "\(failed.stdout)")
        #expect(failed.stdout.contains("about to fail"))
        #expect(failed.stdout.contains("Failed:    1"))
        #expect(failed.stderr.contains("Build failed; no image tagged"))
        #expect(try DockerEngine.sh("docker image inspect \(image)").code != 0)
        #expect(try DockerEngine.sh("docker ps -aq --filter name=brine-build-web").stdout.isEmpty)

        let kept = try build(["--keep-failed"])
        #expect(kept.code == 1)
        let name = kept.stderr.split(separator: " ").first { $0.hasPrefix("brine-build-web-") }.map(String.init) ?? "?"
        #expect(try DockerEngine.sh("docker inspect -f '{{.State.ExitCode}}' \(name)").stdout == "1\n", "\(kept.stderr)")
        // The users layer was committed before the failure: the retry reused it.
        #expect(kept.stdout.contains("Step 1/2 users: cached"))
    }

    @Test func aTemplateErrorFailsBeforeAnyStep() throws {
        defer { cleanUp() }
        try writeTree()
        try write(["salt/web/init.sls": "x:\n  file.managed:\n    - name: /x\n    - contents: {{ pillar['nope']['deeper'] }}\n"])
        let failed = try build()
        #expect(failed.code == 1)
        #expect(!failed.stdout.contains("Step 1/2"), "\(failed.stdout)")
        #expect(failed.stdout.contains("Rendering SLS 'base:web' failed"), "\(failed.stdout)")
    }

    @Test func badInputIsExplained() throws {
        defer { cleanUp() }
        try write(["salt/a.sls": "a:\n  test.nop: []\n", "brine-build.yaml": "from: nowhere/none:1\nimage: x/y:1\nsls: [a]\n"])
        let missing = try build()
        #expect(missing.code == 1)
        #expect(missing.stderr.contains("brine-build.yaml, line 1"), "\(missing.stderr)")
        #expect(missing.stderr.contains("base image 'nowhere/none:1' is not in the Docker engine"))
        #expect(missing.stderr.contains("brine image bootstrap --suite bookworm nowhere/none:1"))
        try write(["brine-build.yaml": "from: a\nimage: b\nsls: [a]\nlayers: sometimes\n"])
        let bad = try build()
        #expect(bad.code == 1 && bad.stderr.contains("line 4") && bad.stderr.contains("'layers' must be per-sls or single"), "\(bad.stderr)")
        try write(["brine-build.yaml": "from: a\nimage: b\nsls: [a]\napt_cache: sometimes\n"])
        let cache = try build()
        #expect(cache.code == 1 && cache.stderr.contains("line 4") && cache.stderr.contains("'apt_cache' must be true or false"), "\(cache.stderr)")
    }

    @Test func packagesFromTheMirrorWithoutRecommends() throws {
        defer { cleanUp() }
        try write([
            "salt/tools.sls": "curl:\n  pkg.installed:\n    - refresh: True\n    - install_recommends: False\n",
            "brine-build.yaml": "from: \(DockerEngine.baseImage)\nimage: \(image)\nsls: [tools]\ngrains: {test_run: \(runID)}\n",
        ])
        let built = try build()
        #expect(built.code == 0 && built.stdout.contains("changed pkg.installed curl"), "\(built.stdout)\(built.stderr)")
        // curl recommends ca-certificates: not installed.
        let status = try DockerEngine.sh("docker run --rm --network none --entrypoint sh \(image) -c 'dpkg-query -W -f \"\\${Status}\" curl; echo; test -d /usr/share/ca-certificates && echo has-ca || echo no-ca'")
        #expect(status.stdout.hasPrefix("install ok installed\n"), "\(status.stdout)")
        #expect(status.stdout.hasSuffix("no-ca\n"), "\(status.stdout)")
    }

    @Test func anInterruptedBuildLeavesNothingBehind() throws {
        defer { cleanUp() }
        try write([
            "salt/slow.sls": "wait:\n  cmd.run:\n    - name: sleep 60\n",
            "brine-build.yaml": "from: \(DockerEngine.baseImage)\nimage: \(image)\nid: interrupted\nsls: [slow]\ngrains: {test_run: \(runID)}\n",
        ])
        let build = try Daemon(["build", root + "/brine-build.yaml", "--no-color"], log: root + "/build.log")
        #expect(eventually(30) { build.output.contains("Step 1/1 slow: applying") }, "\(build.output)")
        #expect(eventually(60) { (try? DockerEngine.sh("docker ps -q --filter name=brine-build-interrupted").stdout.isEmpty) == false })
        kill(build.process.processIdentifier, SIGINT)
        build.process.waitUntilExit()
        #expect(build.process.terminationStatus == 130, "\(build.output)")
        #expect(build.output.contains("Interrupted; removing the build's containers"))
        #expect(try DockerEngine.sh("docker ps -aq --filter name=brine-build-interrupted").stdout.isEmpty)
        #expect(try DockerEngine.sh("docker image inspect \(image)").code != 0)
    }

    @Test func theBootstrappedBaseImageIsDebianMinbase() throws {
        let config = try DockerEngine.sh("docker inspect -f '{{json .Config.Cmd}} {{index .Config.Labels \"io.brine.bootstrap\"}}' \(DockerEngine.baseImage)")
        #expect(config.stdout == "[\"bash\"] bookworm minbase\n", "\(config.stdout)")
        let os = try DockerEngine.sh("docker run --rm --network none \(DockerEngine.baseImage) sh -c '. /etc/os-release; echo $VERSION_CODENAME'")
        #expect(os.stdout == "bookworm\n")
    }
}

/// The seed's interactive workflow: containers as minions of a running
/// master, keys accepted, ping, a state, commit, run the new image.
@Suite(.serialized, .enabled(if: DockerEngine.available || DockerEngine.required))
struct ContainerMinionTests {
    let root = tempDir()
    let port = testPort()
    let suffix = UUID().uuidString.prefix(6).lowercased()

    var env: [String: String] { ["BRINE_CONFIG_DIR": root + "/etc"] }

    func writeMaster() throws {
        for dir in ["etc", "states", "pillar"] { try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        try "interface: 127.0.0.1\nret_port: \(port)\nroot_dir: \(root)/\nfile_roots:\n  base: [\(root)/states]\npillar_roots:\n  base: [\(root)/pillar]\n"
            .write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        try "base:\n  '*':\n    - motd\n".write(toFile: root + "/pillar/top.sls", atomically: true, encoding: .utf8)
        try "motd: built by states\n".write(toFile: root + "/pillar/motd.sls", atomically: true, encoding: .utf8)
        try "/etc/motd:\n  file.managed:\n    - contents: \"{{ pillar['motd'] }} on {{ grains['id'] }}\"\n"
            .write(toFile: root + "/states/motd.sls", atomically: true, encoding: .utf8)
    }

    @Test func seedWorkflow() throws {
        _ = try DockerEngine.base.get()
        try writeMaster()
        let master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master.log")
        defer { master.stop() }
        let jessie = "jessie1-\(suffix)", other = "53bf7d8db530-\(suffix)", committed = "brine-test/\(jessie):committed"
        defer {
            _ = try? brine(["container", "rm", jessie, other], environment: env)
            _ = try? DockerEngine.sh("docker rmi -f \(committed)")
        }
        #expect(eventually { FileManager.default.fileExists(atPath: root + "/var/run/brine/master/brine-master.sock") }, "\(master.output)")

        for id in [jessie, other] {
            let started = try brine(["container", "run", "--pending", "--name", id, DockerEngine.baseImage], environment: env)
            #expect(started.code == 0 && started.stdout.contains("key pending"), "\(started.stdout)\(started.stderr)")
        }
        let keys = try brine(["key", "-l", "un"], environment: env)
        #expect(keys.stdout.contains(jessie) && keys.stdout.contains(other), "\(keys.stdout)")
        for id in [jessie, other] { #expect(try brine(["key", "-y", "-a", id], environment: env).code == 0) }

        var ping = Run(stdout: "", stderr: "", code: -1)
        #expect(try eventually {
            ping = try brine(["*-\(suffix)", "test.ping"], environment: env)
            return ping.code == 0
        }, "\(ping.stdout)\(ping.stderr)\n\(master.output)")
        #expect(ping.stdout.contains("\(jessie):\n    True\n") && ping.stdout.contains("\(other):\n    True\n"))
        let grains = try brine([jessie, "grains.item", "virtual", "--out", "json"], environment: env)
        #expect(grains.stdout.contains("\"container\"") || grains.stdout.contains("\"docker\""), "\(grains.stdout)")

        let applied = try brine([jessie, "state.sls", "motd"], environment: env)
        #expect(applied.code == 0 && applied.stdout.contains("Succeeded: 1 (changed=1)"), "\(applied.stdout)\(applied.stderr)")

        let listed = try brine(["container", "ls"], environment: env).stdout
        #expect(listed.contains("\(jessie)\t") && listed.contains("\(other)\t") && listed.contains("Up "), "\(listed)")
        let commit = try brine(["container", "commit", jessie, committed, "--change", "CMD [\"cat\", \"/etc/motd\"]"], environment: env)
        #expect(commit.code == 0, "\(commit.stderr)")
        let run = try DockerEngine.sh("docker run --rm --network none \(committed)")
        #expect(run.stdout == "built by states on \(jessie)\n", "\(run.stdout)")
        let leftovers = try DockerEngine.sh("docker run --rm --network none \(committed) sh -c 'ls -A /run/brine 2>/dev/null; find / -xdev -name \"*.pem\"; echo done'")
        #expect(leftovers.stdout == "done\n", "\(leftovers.stdout)")

        // rm removes the container and its key.
        #expect(try brine(["container", "rm", jessie], environment: env).code == 0)
        #expect(!(try brine(["key", "-L"], environment: env).stdout.contains(jessie)))
        #expect(try DockerEngine.sh("docker inspect \(jessie)").code != 0)
        let again = try brine(["container", "run", "--name", other, DockerEngine.baseImage], environment: env)
        #expect(again.code == 1 && again.stderr.contains("already exists"), "\(again.stderr)")
    }

    /// With `cluster_database` the master's keys are the database's: a
    /// container's key goes there (it went to `pki_dir`, which no clustered
    /// master reads: the container waited for ever), and `rm` takes it out.
    @Test(.enabled(if: ClusterPostgres.usable)) func aClusteredMastersContainersAreAcceptedThere() throws {
        _ = try DockerEngine.base.get()
        let database = ClusterPostgres()
        defer { database.remove() }
        try database.startWithDatabase()
        try writeMaster()
        let config = try String(contentsOfFile: root + "/etc/master", encoding: .utf8)
        try (config + "cluster_id: test\ncluster_pki_dir: \(root)/cluster\ncluster_database: \(database.url)\nmaster_id: a\n")
            .write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        let master = try Daemon(["master", "-c", root + "/etc"], log: root + "/master.log")
        defer { master.stop() }
        let id = "clustered-\(suffix)"
        defer { _ = try? brine(["container", "rm", id], environment: env) }
        #expect(eventually { FileManager.default.fileExists(atPath: root + "/var/run/brine/master/brine-master.sock") }, "\(master.output)")

        let started = try brine(["container", "run", "--name", id, DockerEngine.baseImage], environment: env)
        #expect(started.code == 0 && started.stdout.contains("connected"), "\(started.stdout)\(started.stderr)\n\(master.output)")
        #expect(try brine(["key", "-l", "acc"], environment: env).stdout.contains(id))
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/brine/pki/master/minions/\(id)"))
        #expect(try eventually { try brine([id, "test.ping"], environment: env).stdout == "\(id):\n    True\n" }, "\(master.output)")

        #expect(try brine(["container", "rm", id], environment: env).code == 0)
        #expect(!(try brine(["key", "-L"], environment: env).stdout.contains(id)))
    }
}
