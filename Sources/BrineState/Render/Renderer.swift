import BrineCore
import BrineModules
import Foundation
import Jinja

/// Salt's render pipeline for SLS, top and pillar files: the `#!` line
/// (or the `renderer` option) names the steps, `jinja|yaml` by default.
public struct Renderer: Sendable {
    public enum Step: String, Sendable {
        case jinja, yaml, json
    }

    /// The variables templates see besides `salt` (grains, pillar, opts,
    /// saltenv, sls, slspath, tpldir, …).
    public typealias Variables = [String: BrineCore.Value]

    let environment: Jinja.Environment
    let defaultPipeline: [Step]
    let salt: SaltFunctions
    let converted = ConvertedVariables()

    /// - Parameters:
    ///   - roots: the directories `{% include %}`/`{% import %}` search
    ///     (the saltenv's file or pillar roots).
    public init(roots: [String], context: ExecutionContext) throws(BrineError) {
        try self.init(loader: FileSystemLoader(searchPath: roots), context: context)
    }

    /// Templates (`{% include %}`, `{% import %}`, `import_yaml`) come
    /// through the file client: file_roots when masterless, the master's
    /// file server on a minion.
    public init(files: any FileClient, saltenv: String, context: ExecutionContext) throws(BrineError) {
        let loader = FunctionLoader { name in
            guard let local = try files.cache("salt://" + name, saltenv: saltenv),
                let data = FileManager.default.contents(atPath: local)
            else { return nil }
            return TemplateSource(source: String(decoding: data, as: UTF8.self), filename: local, version: nil)
        }
        try self.init(loader: loader, context: context)
    }

    init(loader: any Jinja.Loader, context: ExecutionContext) throws(BrineError) {
        let env = Jinja.Environment(loader: loader)
        env.undefined = .strict
        env.extensions = [.do, .loopControls]
        env.trimBlocks = context.opts.bool("jinja_trim_blocks")
        env.lstripBlocks = context.opts.bool("jinja_lstrip_blocks")
        SaltJinja.install(into: env)
        env.joinPath = SaltJinja.relativeName
        env.volatileGlobals = Renderer.perFileVariables
        env.loadedTemplateGlobals = Renderer.loadedTemplateVariables
        environment = env
        defaultPipeline = try Renderer.pipeline(context.opts.string("renderer") ?? "jinja|yaml", file: "renderer option")
        salt = SaltFunctions(context: context)
    }

    /// Variables that differ from one rendered file to the next.
    static let perFileVariables: Set<String> = ["sls", "slspath", "sls_path", "slsdotpath", "slscolonpath",
                                                "tplpath", "tplfile", "tpldir", "tpldot", "saltenv", "env"]

    /// What Salt's loader sets for a template it loads by name: its own
    /// directory and file (`tpldir` is `.` at the top of the roots).
    @Sendable static func loadedTemplateVariables(_ name: String) -> [String: Jinja.Value] {
        let dir = FileOps.dirname(name)
        return ["tplfile": .string(name), "tpldir": .string(dir.isEmpty ? "." : dir),
                "tpldot": .string(dir.replacingOccurrences(of: "/", with: "."))]
    }

    static func pipeline(_ spec: String, file: String) throws(BrineError) -> [Step] {
        var steps: [Step] = []
        for word in spec.split(separator: "|") {
            let name = word.trimmingCharacters(in: .whitespaces)
            guard let step = Step(rawValue: name) else {
                throw BrineError(.template, "unknown renderer '\(name)'", at: SourceLocation(file: file, line: 1),
                                 hint: "Brine renders jinja, yaml and json")
            }
            steps.append(step)
        }
        return steps
    }

    /// Renders a file's text to data. `name` is the template name relative
    /// to the roots (for relative imports and messages), `file` the path
    /// shown in errors.
    /// `sharedConversions`: reuse the converted grains, pillar and opts of
    /// earlier renders (for SLS files, rendered one after another; file
    /// templates may render on several threads and convert their own).
    public func render(_ text: String, name: String, file: String, variables: Variables,
                       sharedConversions: Bool = false, pipeline: [Step]? = nil) throws(BrineError) -> BrineCore.Value {
        var body = text
        var steps = pipeline ?? defaultPipeline
        if text.hasPrefix("#!") {
            let firstLine = text.prefix { $0 != "\n" }
            steps = try Renderer.pipeline(String(firstLine.dropFirst(2)), file: file)
            // Keep the line count so error lines still match the file.
            body = "\n" + text.dropFirst(firstLine.count + (text.count > firstLine.count ? 1 : 0))
        }
        var data: BrineCore.Value? = nil
        for step in steps {
            switch step {
            case .jinja:
                body = try renderJinja(body, name: name, file: file, variables: variables, sharedConversions: sharedConversions)
            case .yaml:
                data = try YAML.decode(body, file: file)
            case .json:
                data = try JSON.decode(body, file: file)
            }
        }
        return data ?? .string(body)
    }

    public func renderJinja(_ text: String, name: String, file: String, variables: Variables,
                            sharedConversions: Bool = false) throws(BrineError) -> String {
        do {
            let template = try environment.fromString(text, name: name)
            var context: [(String, Jinja.Value)] = [("salt", .object(salt))]
            if sharedConversions { context.append((SharedPillar.variable, .object(salt.sharedPillar))) }
            for (key, value) in variables {
                context.append((key, sharedConversions ? converted.value(key, value) : ConvertedVariables.convert(key, value)))
            }
            // Salt also makes the variables the environment's globals: a
            // template imported without context sees `salt`, `grains`,
            // `pillar`, `sls`, … too.
            let output = try template.render(ordered: context, globals: Dictionary(context, uniquingKeysWith: { $1 }))
            // Jinja drops the template's final newline; Salt puts it back
            // (a block scalar ending the file keeps its "\n").
            return text.hasSuffix("\n") ? output + "\n" : output
        } catch let error as JinjaError {
            let where_ = error.templateName.map { $0 == name ? file : $0 } ?? file
            throw BrineError(.template, "Jinja \(error.kind.rawValue): \(error.message)",
                             at: SourceLocation(file: where_, line: error.line))
        } catch let error as BrineError {
            throw error
        } catch {
            throw BrineError(.template, "\(error)", at: SourceLocation(file: file))
        }
    }
}

/// The template values of `grains`, `pillar` and `opts`, converted once per
/// renderer rather than for every file it renders (a formula's SLS and its
/// includes see the same ones). Like Salt's, they are the same objects in
/// every file, so a template that changes pillar changes it for the files
/// rendered after it, as in Salt; and `with context` imports can be reused
/// (ImportCache.swift), which needs the same objects coming back.
final class ConvertedVariables: @unchecked Sendable {
    private let lock = NSLock()
    private var cache: [String: (source: BrineCore.Value, value: Jinja.Value)] = [:]
    static let shared: Set<String> = ["grains", "pillar", "opts"]

    /// A render variable as a template value: pillar is Salt's OrderedDicts.
    static func convert(_ key: String, _ source: BrineCore.Value) -> Jinja.Value {
        JinjaBridge.toJinja(source, ordered: key == "pillar")
    }

    func value(_ key: String, _ source: BrineCore.Value) -> Jinja.Value {
        guard ConvertedVariables.shared.contains(key) else { return ConvertedVariables.convert(key, source) }
        lock.lock()
        defer { lock.unlock() }
        if let known = cache[key], known.source == source { return known.value }
        let value = ConvertedVariables.convert(key, source)
        cache[key] = (source, value)
        return value
    }
}
