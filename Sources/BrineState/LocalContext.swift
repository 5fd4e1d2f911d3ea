import BrineCore
import BrineModules
import Foundation

/// The execution context of a masterless call: grains detected here plus
/// the `grains` option and the config dir's `grains` file, pillar compiled
/// from `pillar_roots` on first use, files from `file_roots`.
public enum LocalContext {
    public static func make(opts: Config, configDir: String, pillarOverride: BrineCore.Value = .null) throws -> ExecutionContext {
        let configuredID = opts.string("id")
        let grainsFile = configDir + "/grains"
        let grains = Lazy<BrineCore.Value> {
            var detected = CoreGrains.detect(id: configuredID)
            if FileOps.isFile(grainsFile) {
                let extra = try YAML.decode(try FileOps.readText(grainsFile), file: grainsFile)
                if case .map = extra { detected = detected.merged(with: extra) }
            }
            if case .map = opts["grains"] ?? .null { detected = detected.merged(with: opts["grains"] ?? .emptyMap) }
            return detected
        }
        let pillar = Lazy<BrineCore.Value> {
            let g = try grains.get()
            let id = g["id"]?.pythonString ?? configuredID ?? CoreGrains.hostName()
            return try PillarCompiler(config: opts, minionID: id, grains: g, overrides: pillarOverride).compile()
        }
        var context = ExecutionContext(opts: opts, grains: grains, pillar: pillar, loader: Modules.loader,
                                       fileClient: LocalFileClient(config: opts), isDirectCall: true)
        context.templates = JinjaTemplates()
        return context
    }
}
