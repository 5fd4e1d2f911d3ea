import BrineCore

/// Resolves `salt://` URLs to local files: through `file_roots` when
/// masterless, through the master's file server on a minion.
public protocol FileClient: Sendable {
    /// A local path holding the file's content, or nil when there is none.
    func cache(_ url: String, saltenv: String) throws -> String?
    /// Every file below `file_roots` of an environment, relative paths.
    func listFiles(saltenv: String) throws -> [String]
    /// Fetches the pillar's external sources again (`saltutil.refresh_pillar`).
    func refreshPillar(_ opts: Config) throws
}

extension FileClient {
    /// Masterless: the git and hg pillar repositories are fetched here.
    public func refreshPillar(_ opts: Config) throws {
        try VCSPillar.refreshAll(opts)
    }
}

/// What an execution function can see of the world it runs in (Salt's
/// `__opts__`, `__grains__`, `__pillar__`, `__salt__`, `__context__`).
public struct ExecutionContext: Sendable {
    public var opts: Config
    public var grainsSource: Lazy<Value>
    public var pillarSource: Lazy<Value>
    public var loader: Loader
    public var runner: ProcessRunner
    public var fileClient: any FileClient
    /// True when a user called the function directly (CLI, remote job);
    /// false for calls from templates and states. Salt defaults
    /// `python_shell` to True only for direct calls.
    public var isDirectCall: Bool
    /// Whether `cmd.*` runs through a shell when `python_shell` is not
    /// given: true for direct calls and for templates (where the seed's
    /// SLS, written for Salt 2014, relies on globs like `/etc/apache*`),
    /// false for calls from state code, as in current Salt.
    public var shellByDefault: Bool
    /// The template engine for functions that render text they are given
    /// (`cmd.run template=jinja`); the state system fills it, nil elsewhere.
    public var templates: (any TemplateRendering)?
    public var saltenv: String
    /// `saltenv=` given for a state run: only that environment's top file.
    public var saltenvOverride: String? = nil
    /// Shared by nested calls: a failing command sets the exit code.
    public var outcome: Outcome
    /// Told about each state as it finishes (`brine build-step`, which
    /// `brine build` reads to show a build's progress line by line).
    public var stateProgress: StateProgress? = nil

    public init(opts: Config, grains: Lazy<Value>, pillar: Lazy<Value>, loader: Loader,
                runner: ProcessRunner = ProcessRunner(), fileClient: any FileClient, isDirectCall: Bool = true,
                saltenv: String = "base", outcome: Outcome = Outcome())
    {
        self.outcome = outcome
        self.opts = opts
        self.grainsSource = grains
        self.pillarSource = pillar
        self.loader = loader
        self.runner = runner
        self.fileClient = fileClient
        self.isDirectCall = isDirectCall
        self.shellByDefault = isDirectCall
        self.saltenv = saltenv
    }

    public func grains() throws -> Value { try grainsSource.get() }
    public func pillar() throws -> Value { try pillarSource.get() }

    /// Calls another execution function the way `__salt__['mod.fun']` does.
    public func call(_ name: String, _ positional: [Value] = [], _ keyword: [String: Value] = [:]) throws -> Value {
        var nested = self
        nested.isDirectCall = false
        nested.shellByDefault = false
        var kw = CallArguments().keyword
        for (k, v) in keyword.sorted(by: { $0.key < $1.key }) { kw[k] = v }
        return try loader.call(name, CallArguments(positional: positional, keyword: kw), context: nested)
    }
}

/// Receives each state's result (its tag and Salt's return map) as the
/// state finishes, from whichever thread ran it (a build step reports it
/// on its channel: `BuildStep.Event`).
public struct StateProgress: Sendable {
    public let report: @Sendable (_ tag: String, _ result: Value) -> Void

    public init(_ report: @escaping @Sendable (_ tag: String, _ result: Value) -> Void) {
        self.report = report
    }
}

extension ExecutionContext {
    /// Salt's `template=` argument on commands and file names: the named
    /// arguments rendered through the engine first (jinja only).
    public func renderingTemplate(_ args: Arguments, _ keys: [String]) throws -> Arguments {
        guard let engine = args.string("template") else { return args }
        guard engine == "jinja" else {
            throw BrineError(.arguments, "Attempted to render file paths with unavailable engine \(engine)", hint: "Brine renders jinja")
        }
        guard let templates else {
            throw BrineError(.arguments, "template=jinja needs the template engine, which this context does not have")
        }
        var out = args
        for key in keys {
            guard let text = args.string(key) else { continue }
            out.values[key] = .string(try templates.render(text, name: "<\(key)>", file: "<\(key)>", variables: [:], context: self))
        }
        return out
    }
}
