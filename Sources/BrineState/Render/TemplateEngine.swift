import BrineCore
import BrineModules
import Foundation

/// Renders `template: jinja` file sources with Salt's variables
/// (`salt`, `grains`, `pillar`, `opts`, `saltenv`) plus the state's
/// `defaults` and `context`.
public struct JinjaTemplates: TemplateRendering {
    /// A run's renderers; nil: a renderer made for each call (functions
    /// called outside a state run, such as `cmd.run template=jinja`).
    let renderers: RendererCache?

    init(renderers: RendererCache) {
        self.renderers = renderers
    }

    /// For contexts outside a state run: each call makes its renderer.
    public init() {
        renderers = nil
    }

    public func render(_ text: String, name: String, file: String, variables: [String: BrineCore.Value],
                       context: ExecutionContext) throws -> String
    {
        let renderer = try (renderers ?? RendererCache(context: context)).renderer(for: context.saltenv)
        var vars: Renderer.Variables = ["grains": try context.grains(), "pillar": try context.pillar(),
                                        "opts": .map(context.opts.options), "saltenv": .string(context.saltenv),
                                        "source": .string(name)]
        for (k, v) in variables { vars[k] = v }
        var output = try renderer.renderJinja(text, name: name, file: file, variables: vars)
        // Jinja drops a template's final newline; Salt puts it back for files.
        if text.hasSuffix("\n") && !output.hasSuffix("\n") { output += "\n" }
        return output
    }
}
