/// Host-defined tags, e.g. Salt's `{% import_yaml "x" as y %}` or
/// `{% load_yaml as y %}…{% endload %}`. The extension parses its tag with
/// a `TagParser` (after the tag name) and returns an `ExtensionStatement`
/// whose `run` closure executes at render time.
public protocol TagExtension: Sendable {
    /// Parses from just after the tag name up to (not including) the block end.
    func parse(tag: String, parser: inout TagParser) throws -> ExtensionStatement
}

/// An opaque parsed expression an extension can evaluate later.
public struct ParsedExpression: Sendable { let expr: Expr }
/// An opaque parsed template body an extension can render later.
public struct ParsedBody: Sendable { let body: [Stmt] }

/// The parsed form of a host tag.
public struct ExtensionStatement: Sendable {
    public var run: @Sendable (inout ExtensionRuntime) throws -> Void
    public init(run: @escaping @Sendable (inout ExtensionRuntime) throws -> Void) { self.run = run }
}

/// The parser surface offered to tag extensions.
public struct TagParser {
    var parser: Parser

    /// Parses an expression (like `"x.yaml"` or `foo ~ '.json'`).
    public mutating func parseExpression() throws -> ParsedExpression {
        ParsedExpression(expr: Compiler.c(try parser.parseExpression()))
    }
    /// Consumes a name token and returns it.
    public mutating func expectName() throws -> String { try parser.expectName() }
    /// Consumes the given keyword (`as`), failing with a syntax error otherwise.
    public mutating func expectKeyword(_ k: String) throws { try parser.expectName(k) }
    /// Consumes the keyword if present.
    public mutating func skipKeyword(_ k: String) -> Bool { parser.skipName(k) }
    /// True when the tag has no more tokens.
    public var atTagEnd: Bool { parser.current.kind == .blockEnd }
    /// Parses a body up to `{% endTag %}`, consuming the end tag name.
    public mutating func parseBody(until endTags: [String]) throws -> ParsedBody {
        ParsedBody(body: Compiler.compile(try parser.parseStatements(endTags, dropNeedle: true)))
    }
    /// A syntax error at the current line.
    public func error(_ message: String) -> Error { parser.fail(message) }
}

/// What a host tag can do at render time.
public struct ExtensionRuntime {
    let runtime: Runtime
    var frame: Frame
    var output: String = ""

    public var context: CallContext { CallContext(runtime: runtime, frame: frame) }
    public func evaluate(_ e: ParsedExpression) throws -> Value { try runtime.eval(e.expr, frame) }
    public func render(_ b: ParsedBody) throws -> String {
        var out = Output()
        try runtime.exec(b.body, frame, &out)
        return out.string
    }
    /// Assigns a variable in the current scope (exported at top level, like `set`).
    public func assign(_ name: String, _ value: Value) throws {
        try runtime.assign(.name(name), value, frame)
    }
    /// Loads a template's source text through the environment's loader.
    public func loadSource(_ name: String) throws -> String {
        try runtime.env.getTemplate(runtime.env.resolveName(name, parent: frame.template.name)).source
    }
    /// Renders another template by name with the current variables.
    public func renderTemplate(_ name: String) throws -> String {
        let t = try runtime.env.getTemplate(runtime.env.resolveName(name, parent: frame.template.name))
        var out = Output()
        try runtime.renderInclude(t, frame, withContext: true, &out)
        return out.string
    }
    public mutating func write(_ text: String) { output += text }
}
