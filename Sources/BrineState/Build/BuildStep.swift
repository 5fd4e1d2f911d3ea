import BrineCore
import BrineModules
import Foundation

/// What runs inside a build's containers (`brine build-plan`, `brine
/// build-step`), and the one channel it reports on.
///
/// The channel is the process's standard output, JSON lines only, each a
/// `BuildStep.Event`: a state's result as the state finishes, then the
/// plan or the step's result last. Standard error is for people (warnings,
/// logs) and is never parsed. Nothing else writes to standard output in
/// these commands: modules return values, and the processes they start
/// have their output captured.
public enum BuildStep {
    /// The build's pillar, written by the host into the step's config directory.
    public static let pillarFile = "build-pillar.json"
    /// Written (empty) by the host when the build keeps apt's cache.
    public static let aptCacheFile = "build-apt-cache"
    /// Where a step's container has the apt cache volume (under `/run`, a tmpfs).
    public static let aptCacheMount = "/run/brine/cache/apt"

    public enum Event: Sendable, Equatable {
        /// One state finished (its tag and Salt's return map).
        case state(tag: String, result: Value)
        /// `build-plan`'s answer: each step's lowstate and the files it reads.
        case plan(Value)
        /// `build-step`'s answer: the state run's return.
        case result(Value)

        /// One line of the channel, newline included.
        public var line: String {
            let value: Value =
                switch self {
                case .state(let tag, let result): ["event": "state", "tag": .string(tag), "result": result]
                case .plan(let plan): ["event": "plan", "plan": plan]
                case .result(let result): ["event": "result", "result": result]
                }
            return JSON.encode(value, indent: nil) + "\n"
        }

        /// Reads one line of the channel; nil for anything that is not an event.
        public init?(line: String) {
            guard let value = try? JSON.decode(line), let event = value["event"]?.stringValue else { return nil }
            switch event {
            case "state":
                guard let tag = value["tag"]?.stringValue else { return nil }
                self = .state(tag: tag, result: value["result"] ?? .null)
            case "plan": self = .plan(value["plan"] ?? .null)
            case "result": self = .result(value["result"] ?? .null)
            default: return nil
            }
        }
    }

    /// `@highstate`, or comma-separated SLS names.
    public static func names(_ step: String) -> [String]? {
        step == "@highstate" ? nil : step.split(separator: ",").map(String.init)
    }

    public static func pillar(configDir: String) throws -> Value {
        let path = configDir + "/" + pillarFile
        return FileManager.default.fileExists(atPath: path) ? try JSON.decode(try String(contentsOfFile: path, encoding: .utf8), file: path) : .emptyMap
    }

    /// `brine build-plan STEP…`: the plan, as the channel's last event.
    public static func plan(steps: [String], opts: Config, configDir: String, emit: (Event) -> Void) throws {
        emit(.plan(try BuildPlanner.plan(steps: steps.map(names), opts: opts, configDir: configDir, pillar: try pillar(configDir: configDir))))
    }

    /// `brine build-step STEP`: applies the step's states with the build's
    /// pillar, each state reported as it finishes, then the run's return.
    /// - Returns: the run's retcode.
    public static func apply(step: String, opts: Config, configDir: String, emit: @escaping @Sendable (Event) -> Void) throws -> Int {
        // Before any thread starts: the environment is the processes' (apt-get, cmd.run) too.
        let aptCache = try openAptCache(configDir: configDir)
        defer { aptCache?.close() }
        if let aptCache { setenv("APT_CONFIG", aptCache.configFile, 1) }
        var context = try LocalContext.make(opts: opts, configDir: configDir, pillarOverride: try pillar(configDir: configDir))
        context.stateProgress = StateProgress { tag, result in emit(.state(tag: tag, result: result)) }
        let result: Value
        if let names = names(step) {
            result = try context.loader.call("state.sls", CallArguments(positional: [.string(names.joined(separator: ","))]), context: context)
        } else {
            result = try context.loader.call("state.highstate", CallArguments(), context: context)
        }
        emit(.result(result))
        return context.outcome.retcode
    }

    /// The step's copy of the apt cache, when the host asked for one and mounted it.
    static func openAptCache(configDir: String) throws -> AptBuildCache? {
        let path = configDir + "/" + aptCacheFile
        guard FileManager.default.fileExists(atPath: path), FileOps.isDirectory(aptCacheMount) else { return nil }
        do {
            return try AptBuildCache.open(mount: aptCacheMount)
        } catch {
            throw BrineError(.io, "cannot prepare the build's apt cache in \(aptCacheMount): \(error.localizedDescription)",
                             hint: "remove the volume (docker volume rm brine-apt-cache) or build with 'apt_cache: false'")
        }
    }
}
