import BrineCore
import BrineModules
import Foundation
import Testing

@Suite struct GrainsTests {
    @Test func coreGrainsMatchTheSystem() throws {
        let ctx = try makeContext()
        let grains = try call(ctx, "grains.items")
        let osRelease = try String(contentsOfFile: "/etc/os-release", encoding: .utf8)
        if osRelease.contains("ID=debian") {
            #expect(grains["os"] == "Debian")
            #expect(grains["os_family"] == "Debian")
        }
        let codename = osRelease.split(separator: "\n").first { $0.hasPrefix("VERSION_CODENAME=") }
            .map { String($0.dropFirst("VERSION_CODENAME=".count)) }
        if let codename { #expect(grains["oscodename"] == .string(codename)) }
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(grains["kernelrelease"] == .string(release))
        #expect(grains["kernel"] == "Linux")
        // Salt counts the `processor` lines of /proc/cpuinfo.
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        #expect(grains["num_cpus"] == .int(cpuinfo.split(separator: "\n").filter { $0.hasPrefix("processor") }.count))
        #expect((grains["mem_total"]?.intValue ?? 0) > 0)
        #expect(grains["ipv4"]?.listValue?.contains("127.0.0.1") == true)
        #expect(grains["id"] == "testminion")
        #expect(grains["virtual"]?.stringValue?.isEmpty == false)
        #expect(try call(ctx, "grains.get", "os_family") == grains["os_family"])
        #expect(try call(ctx, "grains.get", "locale_info:defaultlanguage") != "")
        #expect(try call(ctx, "grains.get", "nope", "default=x") == "x")
        #expect(try call(ctx, "grains.item", "os", "kernel") == ["os": grains["os"] ?? nil, "kernel": "Linux"])
        let ls = try call(ctx, "grains.ls").listValue ?? []
        #expect(ls.contains("osmajorrelease"))
    }

    @Test func filterByLikeSalt() throws {
        let ctx = try makeContext()
        let lookup: Value = ["Debian": ["pkg": "apache2"], "RedHat": ["pkg": "httpd"], "default": ["pkg": "apache"],
                             "base": ["port": 80]]
        #expect(try callWith(ctx, "grains.filter_by", [lookup]) == ["pkg": "apache2"])
        #expect(try callWith(ctx, "grains.filter_by", [lookup], ["grain": "kernel"]) == ["pkg": "apache"])
        #expect(try callWith(ctx, "grains.filter_by", [lookup], ["base": "base"]) == ["port": 80, "pkg": "apache2"])
        #expect(try callWith(ctx, "grains.filter_by", [lookup], ["merge": ["pkg": "custom"]]) == ["pkg": "custom"])
        #expect(try callWith(ctx, "grains.filter_by", [["Deb*": "glob"]]) == "glob")
    }
}

@Suite struct PillarModuleTests {
    let pillar: Value = ["apache": ["sites": ["example.org": ["port": 80]]], "secret": "s3cr3t", "tags": ["a", "b"]]

    @Test func directCallsAreMaskedUnlessUnmask() throws {
        let ctx = try makeContext(pillar: pillar)
        #expect(try call(ctx, "pillar.get", "secret") == "**********")
        #expect(try call(ctx, "pillar.get", "secret", "unmask=True") == "s3cr3t")
        #expect(try call(ctx, "pillar.items")["tags"] == ["**********", "**********"])
        #expect(try call(ctx, "pillar.items", "unmask=True") == pillar)
        #expect(try call(ctx, "pillar.get", "missing", "default=dflt") == "dflt")
    }

    @Test func templatesSeeRealValues() throws {
        let ctx = try makeContext(pillar: pillar, direct: false)
        #expect(try call(ctx, "pillar.get", "apache:sites:example.org:port") == 80)
        #expect(try call(ctx, "pillar.get", "apache/sites/example.org/port", "delimiter=/") == 80)
        #expect(try call(ctx, "pillar.item", "secret", "tags") == ["secret": "s3cr3t", "tags": ["a", "b"]])
        #expect(try call(ctx, "pillar.keys", "apache:sites") == ["example.org"])
        #expect(try callWith(ctx, "pillar.get", ["apache:sites"], ["default": ["other.org": [:]], "merge": true])
            == ["other.org": [:], "example.org": ["port": 80]])
        #expect(try call(ctx, "pillar.ls") == ["apache", "secret", "tags"])
    }
}

@Suite(.serialized) struct PkgTests {
    @Test func versionsComeFromDpkg() throws {
        let ctx = try makeContext()
        let expected = try ProcessRunner().run(Command(["dpkg-query", "-W", "-f=${Version}", "dpkg"])).stdout
        #expect(try call(ctx, "pkg.version", "dpkg") == .string(expected))
        #expect(try call(ctx, "pkg.version", "no-such-package-brine") == "")
        let both = try call(ctx, "pkg.version", "dpkg", "no-such-package-brine")
        #expect(both == ["dpkg": .string(expected), "no-such-package-brine": ""])
        let all = try call(ctx, "pkg.list_pkgs")
        #expect(all["dpkg"] == .string(expected))
        #expect((all.mapValue?.count ?? 0) > 50)
    }

    /// Builds a real .deb with dpkg-deb, installs it from `sources`, removes it.
    @Test(.enabled(if: isRoot)) func installAndRemoveALocalDeb() throws {
        let dir = makeTempDir("deb")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = "brine-test-hello"
        let root = dir + "/pkg"
        try FileManager.default.createDirectory(atPath: root + "/DEBIAN", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/usr/share/\(name)", withIntermediateDirectories: true)
        try write("Package: \(name)\nVersion: 1.2-3\nArchitecture: all\nMaintainer: Brine <brine@localhost>\nDescription: test package\n",
                  to: root + "/DEBIAN/control")
        try write("hello\n", to: root + "/usr/share/\(name)/hello.txt")
        let build = try ProcessRunner().run(Command(["dpkg-deb", "--build", "--root-owner-group", root, dir + "/\(name).deb"]))
        #expect(build.retcode == 0, "\(build.stderr)")
        let ctx = try makeContext()
        _ = try? call(ctx, "pkg.purge", name)  // apt-get waits for the dpkg lock (DPkg::Lock::Timeout)
        let installed = try callWith(ctx, "pkg.install", [], ["sources": .list([.map([name: .string(dir + "/\(name).deb")])])])
        #expect(installed == .map([name: ["old": "", "new": "1.2-3"]]))
        #expect(try call(ctx, "pkg.version", name) == "1.2-3")
        #expect(FileManager.default.fileExists(atPath: "/usr/share/\(name)/hello.txt"))
        let removed = try call(ctx, "pkg.remove", name)
        #expect(removed == .map([name: ["old": "1.2-3", "new": ""]]))
        #expect(try call(ctx, "pkg.version", name) == "")
        #expect(try call(ctx, "pkg.remove", name) == [:])
    }
}

/// A real SysV init script driven through the `service` command, the way
/// services run inside containers (no systemd as PID 1).
@Suite(.serialized) struct ServiceTests {
    @Test(.enabled(if: isRoot && !ServiceModule.usesSystemd)) func initScriptLifecycle() throws {
        let name = "brine-test-svc"
        let script = "/etc/init.d/\(name)"
        let pidfile = "/run/\(name).pid"
        let body = """
            #!/bin/sh
            ### BEGIN INIT INFO
            # Provides:          \(name)
            # Required-Start:
            # Required-Stop:
            # Default-Start:     2 3 4 5
            # Default-Stop:      0 1 6
            # Short-Description: brine test service
            ### END INIT INFO
            PIDFILE=\(pidfile)
            running() { [ -f $PIDFILE ] && kill -0 "$(cat $PIDFILE)" 2>/dev/null; }
            case "$1" in
              start) running || { setsid sleep 1000 >/dev/null 2>&1 & echo $! > $PIDFILE; } ;;
              stop) running && kill "$(cat $PIDFILE)"; rm -f $PIDFILE ;;
              restart|reload) $0 stop; $0 start ;;
              status) running ;;
              *) exit 2 ;;
            esac
            """
        try write(body, to: script)
        chmod(script, 0o755)
        defer {
            _ = try? ProcessRunner().run(Command([script, "stop"]))
            _ = try? ProcessRunner().run(Command(["update-rc.d", "-f", name, "remove"]))
            try? FileManager.default.removeItem(atPath: script)
        }
        let ctx = try makeContext()
        #expect(try call(ctx, "service.available", name) == true)
        #expect(try call(ctx, "service.missing", name) == false)
        #expect(try call(ctx, "service.status", name) == false)
        #expect(try call(ctx, "service.start", name) == true)
        #expect(try call(ctx, "service.status", name) == true)
        let firstPid = try String(contentsOfFile: pidfile, encoding: .utf8)
        #expect(try call(ctx, "service.restart", name) == true)
        #expect(try String(contentsOfFile: pidfile, encoding: .utf8) != firstPid)
        #expect(try call(ctx, "service.stop", name) == true)
        #expect(try call(ctx, "service.status", name) == false)
        #expect(try call(ctx, "service.enabled", name) == false)
        #expect(try call(ctx, "service.enable", name) == true)
        #expect(try call(ctx, "service.enabled", name) == true)
        #expect(try call(ctx, "service.disable", name) == true)
        #expect(try call(ctx, "service.enabled", name) == false)
        #expect(try call(ctx, "service.get_all").listValue?.contains(.string(name)) == true)
        #expect(try call(ctx, "service.available", "no-such-service-brine") == false)
        #expect(throws: BrineError.self) { try call(ctx, "service.start", "../etc/passwd") }
    }
}
