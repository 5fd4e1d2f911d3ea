import BrineCore
import Foundation
import OrderedCollections
import Synchronization

/// What one state function returns (Salt's `ret` dict before the runner
/// adds `__id__`, `__run_num__`, timings).
public struct StateResult: Sendable, Equatable {
    public var name: String
    /// `nil` is Salt's `None`: test mode, "would change".
    public var result: Bool?
    public var changes: OrderedDictionary<String, Value>
    public var comment: String
    /// Other keys a state adds (`skip_watch`, `warnings`).
    public var extra: OrderedDictionary<String, Value> = [:]

    public init(name: String, result: Bool? = true, changes: OrderedDictionary<String, Value> = [:], comment: String = "") {
        self.name = name
        self.result = result
        self.changes = changes
        self.comment = comment
    }

    public static func failed(_ name: String, _ comment: String) -> StateResult {
        StateResult(name: name, result: false, comment: comment)
    }
}

/// Renders `template: jinja` sources for `file.managed` and friends; the
/// state system supplies it (the engine lives above this target).
public protocol TemplateRendering: Sendable {
    func render(_ text: String, name: String, file: String, variables: [String: Value], context: ExecutionContext)
        throws -> String
}

/// Facts shared by all states of one run: the package index is refreshed
/// at most once per run, whatever the number of `pkg` states; the run's
/// accumulators.
public final class RunFacts: Sendable {
    private let refreshed = Mutex(false)
    /// `file.accumulated`'s texts, for the `file.managed`/`blockreplace` states after it.
    public let accumulators = Mutex(Accumulators())

    public init() {}

    /// True the first time it is asked in a run.
    public func claimRefresh() -> Bool {
        refreshed.withLock { done in
            defer { done = true }
            return !done
        }
    }
}

/// One state function call: the low chunk's arguments bound to the
/// function's parameters, plus the run's test flag.
public struct StateCall: Sendable {
    public var name: String
    public var arguments: Arguments
    public var test: Bool
    public var context: ExecutionContext
    public var templates: (any TemplateRendering)?
    public var facts: RunFacts
    /// For `mod_watch`: the function that was watching (`running`).
    public var watchingFunction: String?
    /// For `mod_watch`: the watched states that changed, as `state: id`
    /// (what Salt's `__low__['__reqs__']['watch']` lets `test.mod_watch` list).
    public var watchedChanges: [String] = []
    /// The state's ID and SLS (Salt's `__low__['__id__']`, `['__sls__']`).
    public var id = ""
    public var sls = ""

    public init(name: String, arguments: Arguments, test: Bool, context: ExecutionContext,
                templates: (any TemplateRendering)? = nil, facts: RunFacts = RunFacts(), watchingFunction: String? = nil)
    {
        self.name = name
        self.arguments = arguments
        self.test = test
        self.context = context
        self.templates = templates
        self.facts = facts
        self.watchingFunction = watchingFunction
    }

    public subscript(key: String) -> Value { arguments[key] }
    public func string(_ key: String) -> String? { arguments.string(key) }
    public func bool(_ key: String) -> Bool { arguments.bool(key) }
    /// A flag whose default is true when not given.
    public func flag(_ key: String, default fallback: Bool) -> Bool {
        guard let v = arguments.values[key], !v.isNull else { return fallback }
        return v.asFlag
    }

    /// Calls an execution function as a state would (`__salt__[...]`).
    /// A failing command inside a state does not set the run's exit code:
    /// the state's result does.
    public func call(_ function: String, _ positional: [Value] = [], _ keyword: [String: Value] = [:]) throws -> Value {
        var isolated = context
        isolated.outcome = Outcome()
        return try isolated.call(function, positional, keyword)
    }
}

public typealias StateBody = @Sendable (StateCall) throws -> StateResult

/// One state function (`file.managed`). Arguments a state does not declare
/// are ignored, as Salt ignores them.
public struct StateFunction: Sendable {
    public var name: String
    public var doc: String
    public var parameters: [Parameter]
    public var body: StateBody

    public init(_ name: String, doc: String, _ parameters: [Parameter] = [], body: @escaping StateBody) {
        self.name = name
        self.doc = doc
        self.parameters = [Parameter("name")] + parameters
        self.body = body
    }
}

public protocol StateModule {
    static var name: String { get }
    static var functions: [StateFunction] { get }
}

/// The state-function table (Salt's `__states__`).
public struct StateLoader: Sendable {
    public private(set) var functions: [String: StateFunction] = [:]

    public init(modules: [any StateModule.Type]) {
        for module in modules {
            for function in module.functions { functions["\(module.name).\(function.name)"] = function }
        }
    }

    public static let standard = StateLoader(modules: [
        TestState.self, CmdState.self, FileState.self, PkgState.self, ServiceState.self, UserState.self, GroupState.self,
        MonitorState.self, UptimeState.self, PostgresClusterState.self, PostgresUserState.self, PostgresGroupState.self, PostgresDatabaseState.self, PostgresSchemaState.self, PostgresExtensionState.self, PostgresPrivilegesState.self, PostgresTablespaceState.self, MySQLDatabaseState.self, MySQLUserState.self, MySQLGrantsState.self, MySQLQueryState.self, DockerContainerState.self, DockerImageState.self, DockerNetworkState.self, DockerVolumeState.self, PipState.self, ModuleState.self, GitState.self, SshAuthState.self, ArchiveState.self, DebconfState.self, PkgrepoState.self, CronState.self, HostState.self, AlternativesState.self, TimezoneState.self, LocaleState.self, SysctlState.self, AliasState.self, SshKnownHostsState.self,
    ])

    public func has(_ name: String) -> Bool { functions[name] != nil }

    /// Binds a low chunk's arguments: declared parameters by name, the rest
    /// dropped; missing required ones are an error naming the state.
    public func bind(_ name: String, _ low: OrderedDictionary<String, Value>) throws(BrineError) -> Arguments {
        guard let function = functions[name] else {
            throw BrineError(.state, "State '\(name)' was not found in SLS")
        }
        var bound = Arguments()
        for parameter in function.parameters {
            if let value = low[parameter.name] {
                bound.values[parameter.name] = value
            } else if let fallback = parameter.defaultValue {
                bound.values[parameter.name] = fallback
            } else {
                throw BrineError(.arguments, "Missing parameter \(parameter.name) for state \(name)")
            }
        }
        for (key, value) in low where bound.values[key] == nil && !key.hasPrefix("__") {
            bound.extraKeywords[key] = value
        }
        return bound
    }
}

extension Array where Element == Parameter {
    /// Parameters that default to None.
    static func optional(_ names: String...) -> [Parameter] { names.map { Parameter($0, default: .null) } }
}
