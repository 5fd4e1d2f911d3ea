import BrineCore
import BrineModules
import Foundation
import Testing

/// `sysctl.present` against the real kernel, in a network namespace of
/// its own (`unshare -n`): net.* parameters there belong to that namespace,
/// so the machine's own settings are never touched. Expected returns are
/// Salt 3008.4's for the same calls in the same order.
@Suite(.enabled(if: geteuid() == 0 && CmdModuleProbe.has("unshare") && CmdModuleProbe.has("sysctl")))
struct SysctlStateTests {
    let root = tempDir()

    @Test func presentSetsTheKernelAndTheConfigFileAsSaltDoes() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = root + "/s.conf"
        let calls = [
            "name=net.ipv4.ip_forward value=1 test=True",
            "name=net.ipv4.ip_forward value=1",
            "name=net.ipv4.ip_forward value=1",
            "name=net.ipv4.ip_forward value=1 test=True",
            "name=net.ipv4.ping_group_range 'value=0  10'",
            "name=net.ipv4.no_such value=1",
        ].map { "\(brineBinary) call --local -c \(root) --out json state.single sysctl.present \($0) config=\(config) 2>/dev/null" }
        // One namespace for all six calls: the second sees what the first set.
        let script = calls.map { "\($0); echo '<end>'" }.joined(separator: "\n")
        let run = try shell("unshare -n sh -c \(shellQuote(script))")
        let answers = try run.stdout.components(separatedBy: "<end>\n").dropLast().map { text -> Value in
            let local = try JSON.decode(text)["local"] ?? .null
            return local.mapValue?.values.first ?? .null
        }
        try #require(answers.count == 6, "\(run.stdout)")
        #expect(answers[0]["result"] == .null && answers[0]["changes"] == .emptyMap)
        // The namespace starts from the host's value: "would be changed" or "not in a config file".
        #expect(answers[0]["comment"]?.stringValue?.hasPrefix("Sysctl ") == true, "\(answers[0])")
        #expect(answers[1]["result"] == true && answers[1]["changes"] == ["net.ipv4.ip_forward": 1])
        #expect(answers[1]["comment"] == "Updated sysctl value net.ipv4.ip_forward = 1")
        #expect(answers[2]["result"] == true && answers[2]["changes"] == .emptyMap)
        #expect(answers[2]["comment"] == "Sysctl value net.ipv4.ip_forward = 1 is already set")
        #expect(answers[3]["result"] == true && answers[3]["comment"] == "Sysctl value net.ipv4.ip_forward = 1 is already set")
        #expect(answers[4]["changes"] == ["net.ipv4.ping_group_range": "0  10"])
        #expect(answers[4]["comment"] == "Updated sysctl value net.ipv4.ping_group_range = 0  10")
        #expect(answers[5]["result"] == false)
        #expect(answers[5]["comment"] == "Failed to set net.ipv4.no_such to 1: sysctl net.ipv4.no_such does not exist")
        // Salt's file, byte for byte: its header, one line per name (written before the kernel refused no_such).
        #expect(try String(contentsOfFile: config, encoding: .utf8)
            == "#\n# Kernel sysctl configuration\n#\nnet.ipv4.ip_forward = 1\nnet.ipv4.ping_group_range = 0  10\nnet.ipv4.no_such = 1\n")
    }

    @Test func aNameThatWouldLeaveProcSysIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let run = try brine(["call", "--local", "-c", root, "--out", "json", "sysctl.assign", "net/../../../etc/x", "1"])
        #expect(run.code != 0 && (run.stdout + run.stderr).contains("does not exist"), "\(run.stdout)\(run.stderr)")
        // An option is not a name: `sysctl -n --system` would load every config file into the kernel.
        for option in ["--system", "-p/etc/sysctl.conf"] {
            let read = try brine(["call", "--local", "-c", root, "--out", "json", "sysctl.get", "name=\(option)"])
            #expect(read.code != 0 && (read.stdout + read.stderr).contains("does not exist"), "\(option): \(read.stdout)\(read.stderr)")
        }
    }
}

/// Is a program on this machine's PATH (test preconditions).
enum CmdModuleProbe {
    static func has(_ program: String) -> Bool {
        ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(program)") }
    }
}

func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// timezone, locale, service masking and list contents inside a real
/// image build (they change the machine they run on): applied from a
/// Debian minbase with packages from the mirror, checked in the image,
/// then applied again on the image: nothing changes.
@Suite(.serialized, .enabled(if: DockerEngine.available || DockerEngine.required))
struct SystemSettingsImageTests {
    let root = tempDir()
    let image = "brine-test/settings:\(UUID().uuidString.prefix(8).lowercased())"
    let runID = UUID().uuidString

    init() throws {
        #expect(DockerEngine.available, "the Docker engine is not running (scripts/test starts it)")
        _ = try DockerEngine.base.get()
    }

    func write(_ files: [String: String]) throws { try writeFiles(files, under: root) }

    @Test func timezoneLocaleMaskAndContentsInAnImage() throws {
        defer {
            _ = try? DockerEngine.sh("docker rmi -f \(image) \(image)-again >/dev/null 2>&1")
            try? FileManager.default.removeItem(atPath: root)
        }
        let states = """
            # No refresh given: the run's first install brings the index up to date (minbase has none).
            system-packages:
              pkg.installed:
                - pkgs: [{tzdata: latest}, locales]
                - install_recommends: False
            Europe/Paris:
              timezone.system:
                - require: [{pkg: system-packages}]
            en_US.UTF-8 UTF-8:
              locale.present:
                - require: [{pkg: system-packages}]
            en_US.UTF-8:
              locale.system:
                - require: [{locale: en_US.UTF-8 UTF-8}]
            cron:
              service.masked: []
            ssh:
              service.unmasked: []
            /etc/brine-lines:
              file.managed:
                - contents_pillar: lines
            """
        try write([
            "salt/settings.sls": states,
            "pillar/top.sls": "base:\n  '*':\n    - lines\n",
            "pillar/lines.sls": "lines:\n  - first\n  - 2\n  - \"three\\nfour\"\n",
            "brine-build.yaml": "from: \(DockerEngine.baseImage)\nimage: \(image)\nsls: [settings]\ngrains: {test_run: \(runID)}\n",
            "again.yaml": "from: \(image)\nimage: \(image)-again\nsls: [settings]\ngrains: {test_run: \(runID)}\n",
        ])
        let built = try brine(["build", root + "/brine-build.yaml", "--no-color"])
        #expect(built.code == 0, "\(built.stdout)\(built.stderr)")
        for line in ["changed timezone.system Europe/Paris", "changed locale.present en_US.UTF-8 UTF-8", "changed locale.system en_US.UTF-8",
                     "changed service.masked cron", "changed file.managed /etc/brine-lines"] {
            #expect(built.stdout.contains(line), "\(line) in \(built.stdout)")
        }
        let inside = try DockerEngine.sh("""
            docker run --rm --network none --entrypoint sh \(image) -c 'cat /etc/timezone; readlink /etc/localtime; \
            locale -a | grep en_US; grep ^LANG= /etc/default/locale; readlink /etc/systemd/system/cron.service; cat /etc/brine-lines'
            """)
        #expect(inside.stdout == """
            Europe/Paris
            /usr/share/zoneinfo/Europe/Paris
            en_US.utf8
            LANG="en_US.UTF-8"
            /dev/null
            first
            2
            three
            four

            """, "\(inside.stdout)")
        #expect(built.stdout.contains("ok      service.unmasked ssh"), "\(built.stdout)")
        let again = try brine(["build", root + "/again.yaml", "--no-color", "--no-cache"])
        #expect(again.code == 0 && !again.stdout.contains("changed "), "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("ok      pkg.installed system-packages"), "\(again.stdout)")
    }
}

extension SystemSettingsImageTests {
    /// A package built by the test, version 1.0 (in the state tree) or 2.0
    /// (in a flat APT repository the image gets).
    func makePackage(version: String, into directory: String, package: String = "hello-up") throws -> String {
        let build = root + "/pkg-\(package)-\(version)"
        try write(["pkg-\(package)-\(version)/DEBIAN/control": "Package: \(package)\nVersion: \(version)\nArchitecture: all\nMaintainer: Brine <brine@localhost>\nDescription: upgrade test\n",
                   "pkg-\(package)-\(version)/usr/share/\(package)/version": version + "\n"])
        try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        let deb = "\(root)/\(directory)/\(package)_\(version)_all.deb"
        let made = try DockerEngine.sh("dpkg-deb --build --root-owner-group \(build) \(deb)")
        #expect(made.code == 0, "\(made.stdout)")
        return deb
    }

    /// A flat APT repository of one package, as apt reads it: Packages with
    /// the .deb's size and hash, Release with the Packages' hash.
    func writeRepository(_ deb: String, version: String, into directory: String, package: String = "hello-up") throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: deb))
        let packages = "Package: \(package)\nVersion: \(version)\nArchitecture: all\nMaintainer: Brine <brine@localhost>\nDescription: upgrade test\n"
            + "Filename: ./\((deb as NSString).lastPathComponent)\nSize: \(bytes.count)\nSHA256: \(ASCIIText.hex(Hashing.sha256([UInt8](bytes))))\n\n"
        let release = "Origin: brine-test\nLabel: brine-test\nSHA256:\n \(ASCIIText.hex(Hashing.sha256(Array(packages.utf8)))) \(packages.utf8.count) Packages\n"
        try write([directory + "/Packages": packages, directory + "/Release": release])
    }

    /// pkg.uptodate: 1.0 installed from a file, 2.0 offered by a local
    /// repository (Packages and Release written here, as apt reads them):
    /// upgraded, named in changes; applied again: up to date.
    @Test func uptodateUpgradesFromARepository() throws {
        defer {
            _ = try? DockerEngine.sh("docker rmi -f \(image) \(image)-again >/dev/null 2>&1")
            try? FileManager.default.removeItem(atPath: root)
        }
        _ = try makePackage(version: "1.0", into: "salt/debs")
        try writeRepository(try makePackage(version: "2.0", into: "salt/repo"), version: "2.0", into: "salt/repo")
        try write([
            "salt/upgrade.sls": """
                hello-up-1:
                  pkg.installed:
                    - name: hello-up
                    - sources:
                      - hello-up: salt://debs/hello-up_1.0_all.deb
                /srv/repo:
                  file.recurse:
                    - source: salt://repo
                local-repo:
                  pkgrepo.managed:
                    - name: deb [trusted=yes] file:/srv/repo ./
                    - file: /etc/apt/sources.list.d/local.list
                    - require: [{file: /srv/repo}]
                everything:
                  pkg.uptodate:
                    - refresh: True
                    - pkgs: [hello-up]
                    - require: [{pkgrepo: local-repo}, {pkg: hello-up-1}]
                """,
            "brine-build.yaml": "from: \(DockerEngine.baseImage)\nimage: \(image)\nsls: [upgrade]\ngrains: {test_run: \(runID)}\n",
            "again.yaml": "from: \(image)\nimage: \(image)-again\nsls: [upgrade]\ngrains: {test_run: \(runID)}\n",
        ])
        let built = try brine(["build", root + "/brine-build.yaml", "--no-color"])
        #expect(built.code == 0 && built.stdout.contains("changed pkg.uptodate everything"), "\(built.stdout)\(built.stderr)")
        let version = try DockerEngine.sh("docker run --rm --network none --entrypoint sh \(image) -c 'dpkg-query -W -f \"\\${Version}\" hello-up'")
        #expect(version.stdout == "2.0", "\(version.stdout)")
        let again = try brine(["build", root + "/again.yaml", "--no-color", "--no-cache"])
        #expect(again.code == 0 && again.stdout.contains("ok      pkg.uptodate everything"), "\(again.stdout)\(again.stderr)")
    }

    /// `brine build`'s apt cache: the lists and the .deb fetched from a
    /// repository served on 127.0.0.1 stay out of the image, and a second
    /// build installs the package with the .deb gone from the repository
    /// (from the cache volume); with `apt_cache: false` that build fails.
    @Test func aptCacheKeepsDownloadsOutOfTheImage() throws {
        let package = "brine-cache-\(runID.prefix(8).lowercased())"
        defer {
            _ = try? DockerEngine.sh("docker rmi -f \(image) \(image)-again >/dev/null 2>&1")
            try? FileManager.default.removeItem(atPath: root)
        }
        let deb = try makePackage(version: "1.0", into: "repo", package: package)
        try writeRepository(deb, version: "1.0", into: "repo", package: package)
        let port = testPort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-m", "http.server", "--bind", "127.0.0.1", "--directory", root + "/repo", String(port)]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        #expect(eventually(60) { (try? HTTPClient.request("GET", "http://127.0.0.1:\(port)/Release", timeout: 1))?.status == 200 })
        let build = "from: \(DockerEngine.baseImage)\nsls: [cached]\ngrains: {test_run: \(runID)}\n"
        try write([
            "salt/cached.sls": """
                local-repo:
                  pkgrepo.managed:
                    - name: deb [trusted=yes] http://127.0.0.1:\(port)/ ./
                    - file: /etc/apt/sources.list.d/\(package).list
                \(package):
                  pkg.installed:
                    - require: [{pkgrepo: local-repo}]
                """,
            "brine-build.yaml": build + "image: \(image)\n",
            "again.yaml": build + "image: \(image)-again\n",
            "uncached.yaml": build + "image: \(image)-uncached\napt_cache: false\n",
        ])
        let built = try brine(["build", root + "/brine-build.yaml", "--no-color"])
        #expect(built.code == 0 && built.stdout.contains("changed pkg.installed \(package)"), "\(built.stdout)\(built.stderr)")
        let inside = try DockerEngine.sh("""
            docker run --rm --network none --entrypoint sh \(image) -c 'dpkg-query -W -f "\\${Version}\\n" \(package); \
            ls /var/lib/apt/lists /var/cache/apt/archives | grep -c -e Packages -e "[.]deb$"; ls /var/cache/apt | grep -c "[.]bin$"'
            """)
        #expect(inside.stdout == "1.0\n0\n0\n", "installed, no lists, no .debs, no binary caches in the image: \(inside.stdout)")
        try FileManager.default.removeItem(atPath: deb)
        let again = try brine(["build", root + "/again.yaml", "--no-color", "--no-cache"])
        #expect(again.code == 0 && again.stdout.contains("changed pkg.installed \(package)"), "\(again.stdout)\(again.stderr)")
        let uncached = try brine(["build", root + "/uncached.yaml", "--no-color", "--no-cache"])
        #expect(uncached.code != 0 && uncached.stdout.contains(package), "\(uncached.stdout)\(uncached.stderr)")
    }
}

/// `alias.present`/`absent` on a real aliases file (`aliases.file`), the
/// steps and the file Salt 3008.4 gave for the same calls.
@Suite struct AliasStateTests {
    let root = tempDir()

    @Test func aliasesAsSaltEditsThem() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = root + "/aliases"
        try "# See man 5 aliases\npostmaster:    root\n  # indented\n\nroot : old # note\nwebmaster: root, admin\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        try "aliases.file: \(file)\n".write(toFile: root + "/minion", atomically: true, encoding: .utf8)
        func apply(_ arguments: String) throws -> Value {
            let run = try brine(["call", "--local", "-c", root, "--out", "json", "state.single"] + arguments.split(separator: " ").map(String.init))
            return try JSON.decode(run.stdout)["local"]?.mapValue?.values.first ?? .null
        }
        let steps: [(String, Value, Value, String)] = [
            ("alias.present name=root target=admin test=True", .null, .emptyMap, "Alias root -> admin is set to be added"),
            ("alias.present name=root target=admin", true, ["alias": "root"], "Set email alias root -> admin"),
            ("alias.present name=root target=admin", true, .emptyMap, "Alias root already present"),
            ("alias.present name=abuse target=[root,admin]", true, ["alias": "abuse"], "Set email alias abuse -> ['root', 'admin']"),
            ("alias.absent name=webmaster", true, ["alias": "webmaster"], "Removed alias webmaster"),
            ("alias.absent name=webmaster", true, .emptyMap, "Alias webmaster already absent"),
        ]
        for (arguments, result, changes, comment) in steps {
            let ret = try apply(arguments)
            #expect(ret["result"] == result && ret["changes"] == changes && ret["comment"] == .string(comment), "\(arguments): \(ret)")
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8)
            == "# See man 5 aliases\npostmaster: root\n # indented\n\nroot : old # note\nroot: admin\nabuse: root, admin\n")
    }
}

/// file.managed's contents arguments, refused as Salt 3008.4 refuses them.
@Suite struct ManagedContentsTests {
    let root = tempDir()

    func apply(_ arguments: [String]) throws -> Value {
        let run = try brine(["call", "--local", "-c", root, "--out", "json", "state.single", "file.managed", "name=\(root)/f"] + arguments)
        return try JSON.decode(run.stdout)["local"]?.mapValue?.values.first ?? .null
    }

    @Test func conflictsAndEmptyContents() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let both = try apply(["contents=a", "source=/etc/hostname"])
        #expect(both["result"] == false && both["comment"] == "'source' cannot be used in combination with 'contents', 'contents_pillar', or 'contents_grains'", "\(both)")
        let two = try apply(["contents=a", "contents_grains=id"])
        #expect(two["result"] == false && two["comment"] == "Only one of 'contents', 'contents_pillar', and 'contents_grains' is permitted", "\(two)")
        let empty = try apply(["contents=", "allow_empty=False"])
        #expect(empty["result"] == false, "\(empty)")
        #expect(empty["comment"] == "'contents' value would result in empty contents. Set allow_empty to True to allow the managed file to be empty.")
        #expect(!FileManager.default.fileExists(atPath: root + "/f"))
        let allowed = try apply(["contents="])
        #expect(allowed["result"] == true && (try? Data(contentsOf: URL(fileURLWithPath: root + "/f")))?.isEmpty == true, "\(allowed)")
    }
}
