import BrineCore
import BrineModules
import Foundation

/// `slsutil.renderer`: Salt's render pipeline as a function, for a file
/// (`salt://…` or a local path) or a string. It lives beside the state
/// engine because the renderers do; `Modules.loader` files it under
/// `slsutil` with the rest of that module.
enum SlsutilRendering {
    static let functions: [ExecutionFunction] = [
        ExecutionFunction("renderer", doc: "Render a file (salt:// or local path) or string= through a render pipeline (default jinja|yaml).",
                          [Parameter("path", default: .null), Parameter("string", default: .null),
                           Parameter("default_renderer", default: "jinja|yaml")], kwargs: true) { args, ctx in
            try render(args, ctx)
        },
    ]

    static func render(_ args: Arguments, _ ctx: ExecutionContext) throws -> Value {
        let path = args.string("path"), string = args.string("string")
        guard path != nil || string != nil else { throw BrineError(.arguments, "Must pass path or string.") }
        guard path == nil || string == nil else { throw BrineError(.arguments, "Must not pass both path and string.") }
        let saltenv = args.extraKeywords["saltenv"]?.stringValue ?? "base"
        var text = string ?? ""
        var file = ":string:"
        if let path {
            let local = path.hasPrefix("salt://") ? try ctx.fileClient.cache(path, saltenv: saltenv) : path
            guard let local, let data = FileManager.default.contents(atPath: local) else {
                throw BrineError(.arguments, "Template was specified incorrectly: \(path)")
            }
            text = String(decoding: data, as: UTF8.self)
            file = local
        }
        let renderer = try RendererCache(context: ctx).renderer(for: saltenv)
        var variables: Renderer.Variables = ["grains": try ctx.grains(), "pillar": try ctx.pillar(),
                                             "opts": .map(ctx.opts.options), "saltenv": .string(saltenv)]
        for (key, value) in args.extraKeywords { variables[key] = value }
        let pipeline = try Renderer.pipeline(args.string("default_renderer") ?? "jinja|yaml", file: file)
        return try renderer.render(text, name: file, file: file, variables: variables, pipeline: pipeline)
    }
}
