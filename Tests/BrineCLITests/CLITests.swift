import BrineCore
import BrineModules
import Foundation
import Testing

/// The `brine` binary next to this test bundle (or `BRINE_BIN`).
let brineBinary: String = {
    if let explicit = ProcessInfo.processInfo.environment["BRINE_BIN"] { return explicit }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/brine").path
}()

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

struct Run {
    var stdout: String
    var stderr: String
    var code: Int32
}

/// Runs the binary with arguments (and optionally as another argv[0]).
func brine(_ arguments: [String], as name: String? = nil, environment: [String: String] = [:]) throws -> Run {
    let process = Process()
    var executable = brineBinary
    if let name {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brine-alias-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        executable = dir + "/" + name
        try FileManager.default.createSymbolicLink(atPath: executable, withDestinationPath: brineBinary)
    }
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["BRINE_CONFIG_DIR"] = nil
    env["SALT_CONFIG_DIR"] = nil
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self),
               code: process.terminationStatus)
}

/// A shell command through Brine's process runner (its own process group,
/// no inherited descriptors: init scripts it starts cannot hold our pipes);
/// stderr merged into stdout.
func shell(_ command: String, cwd: String? = nil, timeout: Double = 900) throws -> Run {
    let result = try ProcessRunner().run(Command(["/bin/sh", "-c", command], cwd: cwd, timeout: timeout, mergeStderr: true))
    return Run(stdout: result.stdout, stderr: "", code: Int32(result.retcode))
}

func tempDir() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("brine-cli-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct CallCLITests {
    let config = tempDir()

    @Test func pingInEveryOutputter() throws {
        let nested = try brine(["call", "--local", "-c", config, "test.ping"])
        #expect(nested.stdout == "local:\n    True\n")
        #expect(nested.code == 0)
        #expect(try brine(["call", "--local", "-c", config, "test.ping", "--out=json"]).stdout == "{\n    \"local\": true\n}\n")
        #expect(try brine(["call", "--local", "-c", config, "--out", "txt", "test.ping"]).stdout == "local: True\n")
        #expect(try brine(["call", "--local", "-c", config, "--out", "yaml", "test.ping"]).stdout == "local: true\n")
        #expect(try brine(["call", "--local", "-c", config, "--out", "quiet", "test.ping"]).stdout == "")
        #expect(try brine(["call", "--local", "-c", config, "--out-indent", "-1", "--out", "json", "test.arg", "a"]).stdout
            == "{\"local\": {\"args\": [\"a\"], \"kwargs\": {}}}\n")
        #expect(try brine(["call", "--local", "-c", config, "--force-color", "test.ping"]).stdout
            == "\u{1B}[0;36mlocal\u{1B}[0;0m:\n    \u{1B}[0;1;33mTrue\u{1B}[0;0m\n")
    }

    /// salt-call's options as salt-call's parser takes them (recorded from
    /// salt-call 3008.4): anywhere among the words, `--opt=value`, `-lLEVEL`,
    /// `--` ends them; an unknown one exits 64 with salt-call's two lines.
    @Test func saltCallOptions() throws {
        let unknown = try brine(["call", "--local", "-c", config, "--nosuch", "test.ping"])
        #expect(unknown.code == 64)
        #expect(unknown.stderr == "Usage: brine call [options] <function> [arguments]\n\nbrine call: error: no such option: --nosuch\n")
        let negative = try brine(["call", "--local", "-c", config, "test.arg", "-1"])
        #expect(negative.code == 64 && negative.stderr.contains("no such option: -1"))
        let words = try brine(["call", "--local", "-c", config, "test.arg", "a", "--out=json", "--out-indent=-1", "-lerror", "--", "-1"])
        #expect(words.stdout == "{\"local\": {\"args\": [\"a\", -1], \"kwargs\": {}}}\n")
        let text = try brine(["call", "--local", "-c", config, "--no-parse=b", "--out=json", "--out-indent=-1", "test.arg", "a=1", "b=1"])
        #expect(text.stdout == "{\"local\": {\"args\": [], \"kwargs\": {\"a\": 1, \"b\": \"1\"}}}\n")
        let metadata = try brine(["call", "--local", "-c", config, "--id", "m1", "--metadata", "--out=json", "test.ping"])
        let meta = try JSON.decode(metadata.stdout)["local"]
        #expect(meta?.mapValue.map { Array($0.keys) } == ["jid", "return", "retcode", "id", "fun", "fun_args"])
        #expect(meta?["id"] == "m1" && meta?["return"] == true)
        let report = try brine(["call", "-V"])
        #expect(report.code == 0 && report.stdout.hasPrefix("Brine Version:\n         Brine: ") && report.stdout.contains("\nSystem Versions:\n"))
        let doc = try brine(["call", "--local", "-c", config, "-d", "test.ping"])
        #expect(doc.stdout.hasPrefix("test.ping:\n\n    "))
        let ignored = try brine(["call", "--local", "-c", config, "-t", "5", "--hard-crash", "test.true"])
        #expect(ignored.code == 0 && ignored.stderr.contains("accepts and ignores -t, --hard-crash"))
        let help = try brine(["call", "--help"])
        #expect(help.stdout.hasPrefix("Usage: brine call [options] <function> [arguments]") && help.stdout.contains("--retcode-passthrough"))
    }

    @Test func argsFromStandardInput() throws {
        let run = try shell("printf 'x=1\\nhello\\n' | \(brineBinary) call --local -c \(config) --args-stdin --out=json --out-indent=-1 test.arg")
        #expect(run.stdout == "{\"local\": {\"args\": [\"hello\"], \"kwargs\": {\"x\": 1}}}\n")
    }

    @Test func outFile() throws {
        let file = config + "/out.json"
        let run = try brine(["call", "--local", "-c", config, "--out", "json", "--out-file", file, "test.echo", "hi"])
        #expect(run.stdout == "")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "{\n    \"local\": \"hi\"\n}\n")
    }

    @Test func saltCallAlias() throws {
        let run = try brine(["--local", "-c", config, "cmd.run", "echo hi"], as: "salt-call")
        #expect(run.stdout == "local:\n    hi\n")
    }

    @Test func errorsAreOneLineAndNonZero() throws {
        let unknown = try brine(["call", "--local", "-c", config, "test.nosuch"])
        #expect(unknown.code == 1)
        #expect(unknown.stdout == "")
        #expect(unknown.stderr.hasPrefix("Error: 'test.nosuch' is not available."))
        #expect(unknown.stderr.split(separator: "\n").count == 1)

        let missing = try brine(["call", "--local", "-c", config, "test.echo"])
        #expect(missing.code == 1)
        #expect(missing.stderr.contains("missing required argument 'text'"))

        let noFunction = try brine(["call", "--local", "-c", config])
        #expect(noFunction.code != 0)
        #expect(noFunction.stderr.contains("no function given"))

        let badOut = try brine(["call", "--local", "-c", config, "--out", "fancy", "test.ping"])
        #expect(badOut.code == 1)
        #expect(badOut.stderr.contains("unknown outputter 'fancy'"))

        for run in [unknown, missing, noFunction, badOut] {
            #expect(!run.stderr.contains("Fatal error"))
            #expect(!run.stderr.contains("Stack dump"))
        }
    }

    @Test func failingCommandExitCodes() throws {
        let run = try brine(["call", "--local", "-c", config, "cmd.run", "echo out; exit 3"])
        #expect(run.stdout == "local:\n    out\n")
        #expect(run.code == 1)
        #expect(try brine(["call", "--local", "-c", config, "--retcode-passthrough", "cmd.run", "exit 3"]).code == 3)
    }

    @Test func pillarFromPillarRoots() throws {
        let pillar = config + "/pillar"
        try FileManager.default.createDirectory(atPath: pillar, withIntermediateDirectories: true)
        try "base:\n  '*':\n    - app\n  'other*':\n    - hidden\n".write(toFile: pillar + "/top.sls", atomically: true, encoding: .utf8)
        try """
            {% set port = 8000 + 80 %}
            app:
              port: {{ port }}
              os: {{ grains['os_family'] }}
              kernel: {{ salt['grains.get']('kernel') }}
            """.write(toFile: pillar + "/app.sls", atomically: true, encoding: .utf8)
        try "hidden: true\n".write(toFile: pillar + "/hidden.sls", atomically: true, encoding: .utf8)
        let run = try brine(["call", "--local", "-c", config, "--pillar-root", pillar, "--out", "json", "pillar.items", "unmask=True"])
        #expect(run.code == 0, "\(run.stderr)")
        let data = try JSON.decode(run.stdout)
        #expect(data["local"]?["app"]?["port"] == 8080)
        #expect(data["local"]?["app"]?["kernel"] == "Linux")
        #expect(data["local"]?["hidden"] == nil)
        let masked = try brine(["call", "--local", "-c", config, "--pillar-root", pillar, "pillar.get", "app:port"])
        #expect(masked.stdout == "local:\n    **********\n")

        try "app: {{ missing_variable }}\n".write(toFile: pillar + "/app.sls", atomically: true, encoding: .utf8)
        // As Salt: pillar.items answers (exit 0) and names the SLS under _errors;
        // the details, file and line, go to stderr at CRITICAL.
        let broken = try brine(["call", "--local", "-c", config, "--pillar-root", pillar, "pillar.items", "unmask=True"])
        #expect(broken.code == 0)
        #expect(broken.stdout.contains("_errors:\n        - Rendering SLS 'app' failed. Please see master log for details."), "\(broken.stdout)")
        #expect(broken.stderr.contains("[CRITICAL] Rendering SLS 'app' failed, render error:"))
        #expect(broken.stderr.contains(pillar + "/app.sls, line 1"))
        #expect(broken.stderr.contains("'missing_variable' is undefined"))
    }
}

@Suite struct ConfigCLITests {
    @Test func seedMasterShowsResolvedPaths() throws {
        let seed = packageRoot + "/examples/seed/etc/salt"
        let run = try brine(["master", "-c", seed, "--show-config"])
        #expect(run.code == 0, "\(run.stderr)")
        #expect(run.stdout.contains("pidfile: /home/david/salt/var/run/salt-master.pid\n"))
        #expect(run.stdout.contains("pki_dir: /home/david/salt/etc/salt/pki/master\n"))
        #expect(run.stdout.contains("sock_dir: /home/david/salt/var/run/salt/master\n"))
        #expect(run.stdout.contains("file_roots:\n  base:\n  - /home/david/salt/states\n  - /home/david/salt/formulas/cubicweb\n"))
        // SALT_CONFIG_DIR replaces -c, as in the seed.
        let viaEnv = try brine(["--show-config", "--out", "json"], as: "salt-master", environment: ["SALT_CONFIG_DIR": seed])
        let data = try JSON.decode(viaEnv.stdout)
        #expect(data["cachedir"] == "/home/david/salt/var/cache/salt/master")
        #expect(data["interface"] == "192.168.127.1")
    }

    @Test func badConfigNamesFileAndLine() throws {
        let dir = tempDir()
        try "interface: 127.0.0.1\nret_port: [1, 2]\n".write(toFile: dir + "/master", atomically: true, encoding: .utf8)
        let run = try brine(["master", "-c", dir, "--show-config"])
        #expect(run.code == 1)
        #expect(run.stderr.contains("\(dir)/master, line 2: option 'ret_port' must be an integer"))
        try "a: [1\n".write(toFile: dir + "/master", atomically: true, encoding: .utf8)
        let yaml = try brine(["master", "-c", dir, "--show-config"])
        #expect(yaml.code == 1)
        #expect(yaml.stderr.contains("\(dir)/master, line"))
    }
}

/// One `apt-get update` per refresh_interval / cache_valid_time, whatever
/// asks for it (the seed's sprint: one refresh_db across package modules).
@Suite(.serialized, .enabled(if: geteuid() == 0)) struct RefreshDBTests {
    @Test func aFreshIndexIsNotFetchedAgain() throws {
        let fetched = try brine(["call", "--local", "pkg.refresh_db", "--out", "json"])
        #expect(fetched.code == 0, "\(fetched.stderr)")
        #expect((try JSON.decode(fetched.stdout)["local"]?.mapValue?.isEmpty) == false, "\(fetched.stdout)")
        let skipped = try brine(["call", "--local", "pkg.refresh_db", "cache_valid_time=86400", "--out", "json"])
        #expect(try JSON.decode(skipped.stdout) == ["local": [:]])
        let config = tempDir()
        try "refresh_interval: 86400\n".write(toFile: config + "/minion", atomically: true, encoding: .utf8)
        #expect(try JSON.decode(try brine(["call", "--local", "-c", config, "pkg.refresh_db", "--out", "json"]).stdout) == ["local": [:]])
    }
}

/// Logging as salt-call does it: levels on the console (`-l`), the log file
/// at `log_level_logfile` in Salt's file format, Salt's messages for
/// commands and states, template `log.*` calls.
@Suite struct LoggingCLITests {
    let config = tempDir()

    func writeMinion(_ extra: String = "") throws -> String {
        let log = config + "/log/minion"
        try "log_file: \(log)\nnot_an_option: 1\n\(extra)".write(toFile: config + "/minion", atomically: true, encoding: .utf8)
        return log
    }

    @Test func consoleLevels() throws {
        _ = try writeMinion()
        let quiet = try brine(["call", "--local", "-c", config, "test.true"])
        #expect(quiet.stderr == "[WARNING ] \(config)/minion: unknown option 'not_an_option' ignored by Brine\n")
        let errorsOnly = try brine(["call", "--local", "-c", config, "-l", "error", "test.true"])
        #expect(errorsOnly.stderr == "")
        let debug = try brine(["call", "--local", "-c", config, "-l", "debug", "cmd.run", "echo hi"])
        #expect(debug.stderr.contains("[DEBUG   ] Reading configuration from \(config)/minion\n"))
        #expect(debug.stderr.contains("[INFO    ] Executing command 'echo' in directory '"))
        #expect(debug.stderr.contains("[DEBUG   ] stdout: hi\n") && debug.stderr.contains("[DEBUG   ] output: hi\n"))
        let failing = try brine(["call", "--local", "-c", config, "-l", "warning", "cmd.run", "echo out; exit 3"])
        #expect(failing.stderr.contains("[ERROR   ] Command 'echo' failed with return code: 3\n[ERROR   ] stdout: out\n[ERROR   ] retcode: 3\n"))
        #expect(try brine(["call", "--local", "-c", config, "-l", "quiet", "cmd.run", "exit 3"]).stderr == "")
        let refused = try brine(["call", "--local", "-c", config, "-l", "loud", "test.true"])
        #expect(refused.code == 64 && refused.stderr.contains("option -l/--log-level: invalid choice: 'loud'"))
        let template = try brine(["call", "--local", "-c", config, "-l", "debug", "slsutil.renderer",
                                  "string={% do salt['log.debug']('seen %s', 'here') %}x", "default_renderer=jinja"])
        #expect(template.stderr.contains("[DEBUG   ] seen here\n"))
        let missing = try brine(["call", "--local", "-c", config + "/nowhere", "test.true"])
        #expect(missing.stderr.hasPrefix("WARNING: CONFIG '\(config)/nowhere' directory does not exist.\n"))
    }

    @Test func logFileInSaltsFormat() throws {
        let log = try writeMinion("log_level_logfile: info\n")
        _ = try brine(["call", "--local", "-c", config, "cmd.run", "echo hi"])
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let line = text.split(separator: "\n").first { $0.contains("Executing command") }.map(String.init) ?? ""
        let pattern = #"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[brine\.loaded\.cmd *:\d+ *\]\[INFO    \]\[\d+\] Executing command 'echo' in directory '.*'$"#
        #expect(line.range(of: pattern, options: .regularExpression) != nil, "\(text)")
        #expect(text.contains("[WARNING ]") && !text.contains("[DEBUG   ]"))
        // --log-file and --log-file-level on the command line win.
        let other = config + "/other.log"
        _ = try brine(["call", "--local", "-c", config, "--log-file", other, "--log-file-level", "debug", "test.true"])
        #expect((try? String(contentsOfFile: other, encoding: .utf8))?.contains("[DEBUG   ]") == true)
    }

    @Test func failingStateLogsItsComment() throws {
        _ = try writeMinion("file_roots:\n  base:\n    - \(config)/states\n")
        try FileManager.default.createDirectory(atPath: config + "/states", withIntermediateDirectories: true)
        try "broken:\n  test.fail_without_changes:\n    - comment: it broke\n".write(toFile: config + "/states/f.sls", atomically: true, encoding: .utf8)
        let run = try brine(["call", "--local", "-c", config, "-l", "error", "state.apply", "f"])
        #expect(run.stderr == "[ERROR   ] it broke\n")
        let info = try brine(["call", "--local", "-c", config, "-l", "info", "state.apply", "f"])
        #expect(info.stderr.contains("[INFO    ] Running state [broken] at time "))
        #expect(info.stderr.contains("[INFO    ] Executing state test.fail_without_changes for [broken]"))
        #expect(info.stderr.contains("[INFO    ] Completed state [broken] at time "))
    }
}
