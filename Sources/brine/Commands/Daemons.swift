import ArgumentParser
import BrineAPI
import BrineCore
import BrineMaster
import BrineMinion
import CBrineShims
import Foundation

/// What `brine master` and `brine minion` share: `-c`, `--show-config`.
struct DaemonOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Flag(name: .customLong("show-config"), help: "Print the resolved configuration (paths joined to root_dir) and exit.")
    var showConfig = false

    @Option(name: .customLong("out"), help: "Output format for --show-config: yaml or json.")
    var out = "yaml"

    @Flag(name: [.customShort("d"), .customLong("daemon")], help: "Run in the background (writes the pidfile).")
    var daemon = false

    /// Runs this same command again in a child when it must: detached for
    /// `-d`, and as `user` when started as root (the child never holds root,
    /// on any thread). Returns false when this process should serve itself.
    func relaunchIfNeeded(user: String?, paths: (privateDirs: [String], other: [String]), logFile: String?) throws -> Bool {
        let target = try DaemonSupport.targetUser(user)
        guard daemon || target != nil else { return false }
        if let target {
            for dir in paths.privateDirs { try? PrivateDirectory.make(dir) }
            // `other` holds directories (the pidfile's) and files (log_file).
            for path in paths.other {
                if path == paths.other.last, logFile == path {
                    try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                             withIntermediateDirectories: true)
                    if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
                } else {
                    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                }
            }
            DaemonSupport.handOver(paths.privateDirs + paths.other, to: target.uid, target.gid)
        }
        let arguments = CommandLine.arguments.filter { $0 != "-d" && $0 != "--daemon" }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var environment = ProcessInfo.processInfo.environment
        if let target {
            environment["USER"] = target.name
            environment["LOGNAME"] = target.name
            if let pw = getpwnam(target.name) { environment["HOME"] = String(cString: pw.pointee.pw_dir) }
        }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let pid = target.map { brine_spawn_as_user("/proc/self/exe", argv, envp, $0.uid, $0.gid, daemon ? 1 : 0) }
            ?? brine_spawn_detached("/proc/self/exe", argv, envp)
        guard pid > 0 else {
            throw BrineError(.execution, "cannot start the daemon: \(systemError(errno))")
        }
        if daemon { return true }
        // Foreground as another user: stay as its parent, pass on SIGTERM/SIGINT.
        let child = pid
        let forward = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { kill(child, number) }
            source.resume()
            return source
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        withExtendedLifetime(forward) {}
        throw ExitCode(status & 0x7f == 0 ? (status >> 8) & 0xff : 1)
    }

    /// Loads the configuration; prints it and returns nil for --show-config.
    func load(_ role: Role) throws -> Config? {
        let opts = try config.load(role)
        guard showConfig else { return opts }
        let data = BrineCore.Value.map(opts.options)
        print(out == "json" ? JSON.encode(data) : YAML.encode(data), terminator: out == "json" ? "\n" : "")
        return nil
    }
}

/// `brine master` (salt-master), in the foreground.
struct Master: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the master daemon (salt-master).")
    @OptionGroup var options: DaemonOptions

    func run() async throws {
        try await reportingErrors {
            guard let opts = try options.load(.master) else { return }
            if try options.relaunchIfNeeded(user: opts.string("user"), paths: MasterDaemon.ownedPaths(opts), logFile: opts.string("log_file")) { return }
            let daemon = try MasterDaemon(opts: opts, withJobCache: true)
            guard let http = HTTPSettings(opts), let jobs = daemon.jobs else {
                try await daemon.run()
                return
            }
            // The HTTP port and the monitor's poller live and die with the master.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await daemon.run() }
                group.addTask {
                    try await MasterHTTP(jobs: jobs, host: http.interface, port: http.port, restAPI: http.restAPI ? daemon : nil,
                                         certificate: http.certificate).run { port in
                        daemon.log("HTTP port on \(http.certificate == nil ? "http" : "https")://\(http.interface):\(port)/ "
                            + "(\(http.restAPI ? "REST API, " : "")monitor API, stats, metrics, fleet page)")
                    }
                }
                if http.monitor {
                    group.addTask {
                        await MonitorPoller(store: MonitorStore(jobs: jobs), concurrency: http.concurrency, timeout: http.timeout,
                                            caFile: http.caFile) { daemon.log($0) }.run()
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }
}

/// `brine minion` (salt-minion), in the foreground.
struct Minion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the minion daemon (salt-minion).")
    @OptionGroup var options: DaemonOptions

    @Option(name: .customLong("swarm"), help: "Benchmark mode: serve this many minion identities (ID-0000…) from one process.")
    var swarm: Int?

    func run() async throws {
        try await reportingErrors {
            guard let opts = try options.load(.minion) else { return }
            let minionPaths = ([opts.string("pki_dir"), opts.string("cachedir")].compactMap { $0 }, [opts.string("log_file") ?? ""].filter { !$0.isEmpty })
            if try options.relaunchIfNeeded(user: opts.string("user"), paths: minionPaths, logFile: opts.string("log_file")) { return }
            let daemon = MinionDaemon(opts: opts, configDir: options.config.directory)
            if let swarm {
                guard swarm > 0 else { throw BrineError(.usage, "--swarm needs a positive count") }
                try await daemon.runSwarm(count: swarm)
            } else {
                try await daemon.run()
        }
        }
    }
}
/// The master's HTTP port: on when `monitor: {enabled: true}` or
/// `rest_api: {enabled: true}`; `port` and `interface` from either (the
/// REST API's first), else `http_port` on loopback. The monitor's poller
/// runs with the monitor (`concurrency`, `timeout`).
struct HTTPSettings {
    var interface: String
    var port: Int
    var monitor: Bool
    var restAPI: Bool
    var concurrency: Int
    var timeout: Double
    /// `rest_api: {ssl_crt, ssl_key}` (salt-api's names): HTTPS.
    var certificate: (String, String)?
    /// `monitor: {ca_file}`: trust these roots for https:// checks, besides the system's.
    var caFile: String?

    init?(_ opts: Config) {
        let monitorConfig = opts["monitor"] ?? .emptyMap, rest = opts["rest_api"] ?? .emptyMap
        monitor = monitorConfig["enabled"]?.asFlag == true
        restAPI = rest["enabled"]?.asFlag == true
        guard monitor || restAPI else { return nil }
        interface = rest["interface"]?.stringValue ?? monitorConfig["interface"]?.stringValue ?? "127.0.0.1"
        port = rest["port"]?.intValue ?? monitorConfig["port"]?.intValue ?? opts.int("http_port") ?? 8000
        concurrency = monitorConfig["concurrency"]?.intValue ?? 16
        timeout = monitorConfig["timeout"]?.doubleValue ?? 10
        if let crt = rest["ssl_crt"]?.stringValue ?? monitorConfig["ssl_crt"]?.stringValue,
            let key = rest["ssl_key"]?.stringValue ?? monitorConfig["ssl_key"]?.stringValue
        {
            certificate = (crt, key)
        }
        caFile = monitorConfig["ca_file"]?.stringValue
    }
}
