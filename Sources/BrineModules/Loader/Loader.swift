import BrineCore

/// The execution-function table (Salt's loader for `__salt__`).
public struct Loader: Sendable {
    public private(set) var functions: [String: ExecutionFunction] = [:]
    public private(set) var moduleNames: [String] = []

    public init(modules: [any ExecutionModule.Type]) {
        for module in modules { register(module) }
    }

    /// Every execution module Brine ships.
    public static let standard = Loader(modules: [
        TestModule.self, CmdModule.self, GrainsModule.self, PkgModule.self, FileModule.self,
        ServiceModule.self, SysModule.self, ConfigModule.self, PillarModule.self, SlsutilModule.self,
        DefaultsModule.self, LogModule.self, CpModule.self, MonitorModule.self, UptimeModule.self, PostgresModule.self, MySQLModule.self, DockerModule.self, PipModule.self, SaltutilModule.self,
        UserModule.self, GroupModule.self, AlternativesModule.self, MineModule.self, NetworkModule.self, StatusModule.self,
        GitModule.self, SshModule.self, DebconfModule.self, CronModule.self, HostsModule.self, TimezoneModule.self, LocaleModule.self, SysctlModule.self, AliasesModule.self,
        MatchModule.self, EnvironModule.self, HashutilModule.self, RandomModule.self,
    ])

    public mutating func register(_ module: any ExecutionModule.Type) {
        if !moduleNames.contains(module.name) { moduleNames.append(module.name) }
        for function in module.functions {
            functions["\(module.name).\(function.name)"] = function
        }
    }

    public mutating func register(_ function: ExecutionFunction, module: String) {
        if !moduleNames.contains(module) { moduleNames.append(module) }
        functions["\(module).\(function.name)"] = function
    }

    public func function(_ name: String) throws(BrineError) -> ExecutionFunction {
        guard let function = functions[name] else {
            let module = name.split(separator: ".").first.map(String.init) ?? name
            let hint = moduleNames.contains(module)
                ? "see 'sys.list_functions \(module)' for what the \(module) module has"
                : "see 'sys.list_modules' for the modules Brine has"
            throw BrineError(.notAvailable, "'\(name)' is not available.", hint: hint)
        }
        return function
    }

    public func call(_ name: String, _ arguments: CallArguments, context: ExecutionContext) throws -> Value {
        let function = try function(name)
        let bound = try function.bind(arguments, fullName: name)
        return try function.body(bound, context)
    }
}
