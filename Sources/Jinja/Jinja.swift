/// # Jinja
///
/// A Jinja2 3.1-compatible template engine in pure Swift: the same template
/// and context render the same text as Python's Jinja2 3.1.6.
///
/// ```swift
/// let env = Environment(loader: FileSystemLoader(searchPath: "/srv/salt"))
/// env.extensions = [.do, .loopControls]
/// env.filters["yaml"] = { value, args, ctx in .string(try myYAMLDump(value)) }
/// env.globals["salt"] = .dict(["pillar.get": .function(Function("pillar.get") { args, ctx in … })])
/// env.tagExtensions["import_yaml"] = MyImportYAMLTag()
/// let text = try env.getTemplate("nginx/init.sls").render(["grains": grains, "pillar": pillar])
/// ```
///
/// Pipeline: `Lexer` (tokens, whitespace control) → `Parser` (AST in
/// Nodes.swift, validated and compiled to closures once per template) →
/// `Runtime` (executes statements; one per render). Parsed templates are
/// cached by `Environment.getTemplate` and revalidated with the loader's
/// modification time; `{% import %}` without context reuses each template's
/// rendered module.
///
/// Values (`Value`) follow Python semantics: lists and dicts are shared by
/// reference, dicts keep insertion order, `str()`/`repr()` print as CPython.
/// Errors are `JinjaError` values with Jinja2's error kind, the template
/// name and the line; runaway recursion ends in `.recursionError`.
public enum JinjaModule {
    /// The Jinja2 version whose behaviour this engine reproduces.
    public static let compatibleJinja2Version = "3.1.6"
}
