/// The parsed template tree. Expressions and statements are plain enums so
/// a parsed template is an immutable, `Sendable` value that can be cached
/// and rendered concurrently.
indirect enum Expr: Sendable {
    case const(Value)
    case name(String)
    case getattr(Expr, String)
    case getitem(Expr, Expr)
    case slice(Expr?, Expr?, Expr?)
    case binop(BinOp, Expr, Expr)
    case neg(Expr)
    case pos(Expr)
    case not(Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case compare(Expr, [(CmpOp, Expr)])
    case concat([Expr])
    case cond(Expr, Expr, Expr?)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    case call(Expr, CallArgs)
    case filter(Expr?, FilterRef, CallArgs, line: Int)
    case test(Expr, TestRef, CallArgs, negated: Bool, line: Int)
    /// The same expression compiled to closures (see Compiler.swift).
    case compiled(CompiledExpr)
}

/// A filter name with the function it resolved to when the template was
/// parsed (saves a dictionary lookup per application; nil when unknown then,
/// in which case it is looked up again at render time).
struct FilterRef: Sendable {
    let name: String
    let fn: FilterFunction?
    /// In the environment's `pureFilters` when parsed.
    var pure: Bool = false
}

/// A test name with the function it resolved to at parse time.
struct TestRef: Sendable {
    let name: String
    let fn: TestFunction?
    /// In the environment's `pureTests` when parsed.
    var pure: Bool = false
}

enum BinOp: String, Sendable { case add = "+", sub = "-", mul = "*", div = "/", floordiv = "//", mod = "%", pow = "**" }
enum CmpOp: String, Sendable { case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=", `in` = "in", notin = "not in" }

struct CallArgs: Sendable {
    var args: [Expr] = []
    var kwargs: [(String, Expr)] = []
    var dynArgs: Expr? = nil
    var dynKwargs: Expr? = nil
    static let empty = CallArgs()
}

/// Assignment targets: `x`, `a, b`, `ns.attr`.
indirect enum Target: Sendable {
    case name(String)
    case tuple([Target])
    case nsattr(String, String)
}

struct MacroDef: Sendable {
    var name: String
    var params: [(String, Expr?)]
    var body: [Stmt]
    var usesCaller: Bool
    var usesVarargs: Bool
    var usesKwargs: Bool
    /// The body defines macros/call blocks that close over the call's scope.
    var capturesScope: Bool = false
    /// The parameters' names with their fingerprints (set when compiled).
    var paramNames: [VarName] = []
    /// Bytes to reserve for a call's output: the body's text length.
    var outputHint: Int = 0
}

struct ForNode: Sendable {
    var target: Target
    var iter: Expr
    var filter: Expr?
    var body: [Stmt]
    var elseBody: [Stmt]
    var recursive: Bool
    var usesLoop: Bool
    /// The body assigns variables, so every iteration gets a fresh scope.
    var freshScopes: Bool = true
    /// Fresh per-iteration scopes may reuse one table (nothing captures it).
    var reuseScope: Bool = false
}

struct BlockNode: Sendable {
    var name: String
    var body: [Stmt]
    var scoped: Bool
    var required: Bool
}

enum ImportNames: Sendable {
    case module(String)
    case names([(String, String)])
}

indirect enum Stmt: Sendable {
    case text(String)
    case output(Expr, line: Int)
    case ifs([(Expr, [Stmt])], [Stmt]?, line: Int)
    case forLoop(ForNode, line: Int)
    case assign(Target, Expr, line: Int)
    case assignBlock(Target, Expr?, [Stmt], line: Int)
    case macro(MacroDef, line: Int)
    case callBlock(Expr, MacroDef, line: Int)
    case filterBlock(Expr, [Stmt], line: Int)
    case with([(Target, Expr)], [Stmt], line: Int)
    case block(String, line: Int)
    case extends(Expr, line: Int)
    case include(Expr, ignoreMissing: Bool, withContext: Bool, line: Int)
    case importStmt(Expr, ImportNames, withContext: Bool, line: Int)
    case exprStmt(Expr, line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
    case autoescape(Expr, [Stmt], line: Int)
    case scope([Stmt])
    case ext(ExtensionStatement, line: Int)
    case debug(line: Int)
    /// A body compiled to one closure (see StatementCompiler.swift); keeps
    /// the statements for analysis passes.
    case compiledBody(CompiledBody)
}

/// A whole parsed template.
struct ParsedTemplate: Sendable {
    var body: [Stmt]
    var blocks: [String: BlockNode]
}
