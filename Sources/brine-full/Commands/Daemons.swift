import ArgumentParser
import BrineAPI
import BrineCommandLine
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

    /// Detaches for `-d` and drops root for `user` (see DaemonSupport).
    func relaunchIfNeeded(user: String?, paths: DaemonSupport.OwnedPaths, logFile: String?) throws -> Bool {
        try DaemonSupport.relaunchIfNeeded(daemon: daemon, user: user, paths: paths, logFile: logFile)
    }

    /// Loads the configuration; prints it and returns nil for --show-config.
    func load(_ role: Role) throws -> Config? {
        let opts = try config.load(role)
        guard showConfig else { return opts }
        print(opts.shown(json: out == "json"), terminator: "")
        return nil
    }
}

/// `brine master` (salt-master), in the foreground.
struct Master: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "master", abstract: "Run the master daemon (salt-master).")
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
            let monitor = daemon.monitorStore(jobs: jobs)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await daemon.run() }
                group.addTask {
                    try await MasterHTTP(jobs: jobs, monitor: monitor, stateRuns: daemon.stateRunStore(jobs: jobs), host: http.interface, port: http.port, restAPI: http.restAPI ? daemon : nil,
                                         certificate: http.certificate, monitoringIsPublic: http.monitoringIsPublic).run { port in
                        let scheme = http.certificate == nil ? "http" : "https"
                        daemon.logger.info("HTTP port on \(scheme)://\(http.interface):\(port)/ (\(http.restAPI ? "REST API, " : "")monitor API, stats, metrics, fleet page)")
                    }
                }
                if http.monitor {
                    if let problem = http.pingHistoryProblem { daemon.logger.error("\(problem)") }
                    group.addTask {
                        await daemon.runMonitor(MonitorPoller(store: monitor, concurrency: http.concurrency, timeout: http.timeout,
                                                              caFile: http.caFile, pingHistory: http.pingHistoryDays * 86_400))
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }
}

/// `brine minion` (salt-minion). `BrineCommand.main` hands the arguments to
/// `MinionLauncher` before parsing; this command is here for `brine --help`.
struct Minion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "minion", abstract: "Run the minion daemon (salt-minion); see 'brine minion --help'.")
    @Argument(parsing: .captureForPassthrough) var arguments: [String] = []

    func run() async throws {
        await MinionLauncher.run(arguments)
    }
}

/// Runs the minion in the lean `brine-minion` executable when it sits beside
/// this one (same options; an idle minion then stays small), else in-process.
enum MinionLauncher {
    static func run(_ arguments: [String]) async -> Never {
        if let lean = SiblingExecutable.path("brine-minion") { SiblingExecutable.exec(lean, arguments: arguments) }
        await MinionCommandLine.main(arguments)
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
    /// The monitoring routes (`/api/…`, `/metrics`, `/`) answer without a
    /// token only when `monitor: {enabled: true}` asks for them (as the
    /// uptime app's API, which minions' monitor states call) and not
    /// `public: false`; otherwise they need a REST API token.
    var monitoringIsPublic: Bool
    var concurrency: Int
    var timeout: Double
    /// `rest_api: {ssl_crt, ssl_key}` (salt-api's names): HTTPS.
    var certificate: (String, String)?
    /// `monitor: {ca_file}`: trust these roots for https:// checks, besides the system's.
    var caFile: String?
    /// `monitor: {ping_history}`: days pings are kept (the uptime app's three months); 0 keeps all.
    var pingHistoryDays: Double
    /// A `ping_history` that is not a number of days ≥ 0: said in the log, and every ping is kept.
    var pingHistoryProblem: String?

    init?(_ opts: Config) {
        let monitorConfig = opts["monitor"] ?? .emptyMap, rest = opts["rest_api"] ?? .emptyMap
        monitor = monitorConfig["enabled"]?.asFlag == true
        restAPI = rest["enabled"]?.asFlag == true
        guard monitor || restAPI else { return nil }
        monitoringIsPublic = monitor && monitorConfig["public"]?.asFlag != false
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
        switch monitorConfig["ping_history"] {
        case nil:
            pingHistoryDays = 93
        case let value?:
            if let days = value.doubleValue ?? value.stringValue.flatMap(Double.init), days >= 0, days.isFinite {
                pingHistoryDays = days
            } else {
                // Nothing is dropped on a word that cannot be read.
                pingHistoryDays = 0
                pingHistoryProblem = "monitor: ping_history must be a number of days, 0 or more (got \(value)): every ping is kept"
            }
        }
    }
}
