import Foundation

/// A filter: input value, call arguments, and the render context.
public typealias FilterFunction = @Sendable (Value, Arguments, CallContext) throws -> Value
/// A test (`x is odd`): input value, arguments, render context.
public typealias TestFunction = @Sendable (Value, Arguments, CallContext) throws -> Bool

/// Jinja2's optional built-in extensions.
public enum BuiltinExtension: String, Sendable, Hashable {
    case `do` = "jinja2.ext.do"
    case loopControls = "jinja2.ext.loopcontrols"
    case debug = "jinja2.ext.debug"
}

/// Sandbox flavours (Jinja2's SandboxedEnvironment / ImmutableSandboxedEnvironment).
public enum SandboxMode: Sendable {
    case none, sandboxed, immutable
}

/// Whether output is HTML-escaped, possibly per template name.
public enum Autoescape: Sendable {
    case disabled
    case enabled
    case byName(@Sendable (String?) -> Bool)

    func enabled(for name: String?) -> Bool {
        switch self {
        case .disabled: return false
        case .enabled: return true
        case .byName(let f): return f(name)
        }
    }
}

/// Shared configuration, host filters/tests/globals/tags, loader and the
/// parsed-template cache. Configure it before rendering; rendering only
/// reads it (the cache has its own lock), so one environment can serve
/// concurrent renders. For the same reason the properties renders read on
/// every output, call or look-up skip the dynamic exclusivity checks.
public final class Environment: @unchecked Sendable {
    public var blockStartString = "{%"
    public var blockEndString = "%}"
    public var variableStartString = "{{"
    public var variableEndString = "}}"
    public var commentStartString = "{#"
    public var commentEndString = "#}"
    public var lineStatementPrefix: String? = nil
    public var lineCommentPrefix: String? = nil
    public var trimBlocks = false
    public var lstripBlocks = false
    public var newlineSequence = "\n"
    public var keepTrailingNewline = false
    @exclusivity(unchecked) public var autoescape: Autoescape = .disabled
    @exclusivity(unchecked) public var undefined: UndefinedKind = .default
    @exclusivity(unchecked) public var extensions: Set<BuiltinExtension> = []
    /// Host tags by tag name.
    public var tagExtensions: [String: any TagExtension] = [:]
    @exclusivity(unchecked) public var filters: [String: FilterFunction]
    @exclusivity(unchecked) public var tests: [String: TestFunction]
    @exclusivity(unchecked) public var globals: [String: Value]
    /// Filters whose result depends only on their input and arguments, with
    /// no side effect: Jinja2's built-ins except `random`. A `with context`
    /// import using only these may be reused (ImportCache.swift). A host
    /// that replaces a built-in filter by an impure one removes its name.
    @exclusivity(unchecked) public var pureFilters: Set<String>
    /// Tests with the same property (all of Jinja2's built-ins).
    @exclusivity(unchecked) public var pureTests: Set<String>
    public var loader: (any Loader)?
    /// Applied to every `{{ }}` result before it is printed.
    @exclusivity(unchecked) public var finalize: (@Sendable (Value) throws -> Value)? = nil
    /// Jinja2 policies (`json.dumps_kwargs`, `truncate.leeway`, `urlize.rel`, …).
    @exclusivity(unchecked) public var policies: [String: Value] = [:]
    /// Maximum nesting of macro calls/includes before a RecursionError.
    @exclusivity(unchecked) public var maxRecursionDepth = 500
    /// Jinja2's SandboxedEnvironment rules: `_`-prefixed attributes are
    /// blocked, ranges are capped, and (immutable) mutating methods refused.
    @exclusivity(unchecked) public var sandbox: SandboxMode = .none

    private let cacheLock = NSLock()
    /// Parsed templates by name, with where and when they were loaded
    /// (`TemplateSource` without its text).
    private var cache: [String: (Template, TemplateSource)] = [:]

    public init(loader: (any Loader)? = nil) {
        self.loader = loader
        filters = BuiltinFilters.all
        tests = BuiltinTests.all
        globals = BuiltinGlobals.all
        pureFilters = Set(BuiltinFilters.all.keys).subtracting(["random"])
        pureTests = Set(BuiltinTests.all.keys)
        policies = [
            "truncate.leeway": .int(5),
            "urlize.rel": .string("noopener"),
            "urlize.target": .none,
            "urlize.extra_schemes": .none,
            "json.dumps_kwargs": .dict([(.string("sort_keys"), .bool(true))]),
        ]
    }

    var lexerConfig: LexerConfig {
        LexerConfig(blockStart: blockStartString, blockEnd: blockEndString,
                    variableStart: variableStartString, variableEnd: variableEndString,
                    commentStart: commentStartString, commentEnd: commentEndString,
                    lineStatementPrefix: lineStatementPrefix, lineCommentPrefix: lineCommentPrefix,
                    trimBlocks: trimBlocks, lstripBlocks: lstripBlocks,
                    newlineSequence: newlineSequence, keepTrailingNewline: keepTrailingNewline)
    }

    /// Parses a template from source text (not cached).
    public func fromString(_ source: String, name: String? = nil, globals: [String: Value] = [:]) throws -> Template {
        let parsed = try parse(source, name: name)
        return Template(environment: self, name: name, source: source, parsed: parsed, globals: globals)
    }

    func parse(_ source: String, name: String?) throws -> ParsedTemplate {
        var lexer = Lexer(config: lexerConfig, name: name)
        let tokens = try lexer.tokenize(source)
        var parser = Parser(tokens: tokens, name: name, environment: self)
        return try parser.parseTemplate()
    }

    /// Render globals (see `Template.render(ordered:globals:)`) that change
    /// from one render to the next, such as Salt's `sls`: a module imported
    /// without context that may read one is made again when it changed.
    public var volatileGlobals: Set<String> = []

    /// Globals of a template loaded by name (Salt's loader gives each
    /// loaded template its own `tpldir`, `tplfile` and `tpldot`).
    public var loadedTemplateGlobals: (@Sendable (String) -> [String: Value])? = nil

    /// Jinja2's `join_path`: turns a template name used inside another
    /// (`import`, `include`, `extends`) into the name to load. Without it the
    /// name is used as written.
    public var joinPath: (@Sendable (_ name: String, _ parent: String?) throws -> String)? = nil

    /// The name to load for `name` referred to from the template `parent`.
    public func resolveName(_ name: String, parent: String?) throws -> String {
        guard let joinPath else { return name }
        return try joinPath(name, parent)
    }

    /// Loads (or returns the cached) template by name. A cached template is
    /// reused while the loader reports the same version stamp.
    public func getTemplate(_ name: String) throws -> Template {
        cacheLock.lock()
        let cached = cache[name]
        cacheLock.unlock()
        if let (t, loaded) = cached {
            if loaded.version == nil || loader?.isUpToDate(name, loaded: loaded) == true { return t }
        }
        guard let loader = loader else {
            throw JinjaError(.templateNotFound, name, templateName: name)
        }
        guard let src = try loader.load(name) else {
            throw JinjaError(.templateNotFound, name, templateName: name)
        }
        let parsed = try parse(src.source, name: name)
        let t = Template(environment: self, name: name, source: src.source, parsed: parsed, globals: loadedTemplateGlobals?(name) ?? [:])
        cacheLock.lock()
        let replaced = cache.updateValue((t, TemplateSource(source: "", filename: src.filename, version: src.version)), forKey: name)
        cacheLock.unlock()
        replaced?.0.dropModule()
        return t
    }

    /// The first template of `names` that exists.
    public func selectTemplate(_ names: [Value]) throws -> Template {
        if names.isEmpty {
            throw JinjaError(.templatesNotFound, "Tried to select from an empty list of templates.")
        }
        for n in names {
            if case .object(let o) = n, let t = o as? Template { return t }
            guard let s = n.stringValue else { continue }
            do { return try getTemplate(s) } catch let e as JinjaError where e.kind == .templateNotFound { continue }
        }
        let list = names.map { (try? $0.str()) ?? "" }
        throw JinjaError(.templatesNotFound, "none of the templates given were found: \(list.joined(separator: ", "))")
    }

    /// Drops all cached templates. A cached template refers to its
    /// environment, so an environment that cached templates is only freed
    /// once they are dropped: hosts that make an environment per job call
    /// this when the job is done (and no render with it is still running:
    /// the macros of modules imported without context stop working).
    public func clearCache() {
        cacheLock.lock()
        let old = cache
        cache = [:]
        cacheLock.unlock()
        for (t, _) in old.values { t.dropModule(releasing: true) }
    }
}
