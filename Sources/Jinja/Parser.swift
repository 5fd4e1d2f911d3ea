/// Recursive-descent parser following jinja2/parser.py's grammar so that
/// precedence, tuple rules and error kinds match.
public struct Parser {
    var tokens: [Token]
    var i = 0
    let name: String?
    let environment: Environment
    var blocks: [String: BlockNode] = [:]
    /// Nesting depth of expressions/statements being parsed; bounded so a
    /// hostile template cannot overflow the stack of the parser or evaluator.
    var depth = 0
    let stack = StackGuard()
    static let maxDepth = 200
    /// Longest left-deep operator chain (`a + b + c …`) accepted in one expression.
    static let maxChain = 256

    init(tokens: [Token], name: String?, environment: Environment) {
        self.tokens = tokens
        self.name = name
        self.environment = environment
    }

    // MARK: token stream

    var current: Token { tokens[min(i, tokens.count - 1)] }
    var look: Token { tokens[min(i + 1, tokens.count - 1)] }
    mutating func advance() { if i < tokens.count - 1 { i += 1 } }

    func fail(_ msg: String, line: Int? = nil) -> JinjaError {
        .syntax(msg, line: line ?? current.line, name: name)
    }

    func isName(_ t: Token, _ n: String) -> Bool { if case .name(let v) = t.kind { return v == n }; return false }
    func isOp(_ t: Token, _ o: String) -> Bool { if case .op(let v) = t.kind { return v == o }; return false }
    var currentName: String? { if case .name(let v) = current.kind { return v }; return nil }

    mutating func skipName(_ n: String) -> Bool {
        if isName(current, n) { advance(); return true }
        return false
    }
    mutating func skipOp(_ o: String) -> Bool {
        if isOp(current, o) { advance(); return true }
        return false
    }
    mutating func expectOp(_ o: String) throws {
        guard skipOp(o) else { throw fail("expected token '\(o)', got \(describe(current))") }
    }
    mutating func expectName() throws -> String {
        guard let n = currentName else { throw fail("expected token 'name', got \(describe(current))") }
        advance()
        return n
    }
    mutating func expectName(_ n: String) throws {
        guard skipName(n) else { throw fail("expected token '\(n)', got \(describe(current))") }
    }
    mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else { throw fail("expected token 'end of statement block', got \(describe(current))") }
        advance()
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .name(let n): return "'\(n)'"
        case .op(let o): return "'\(o)'"
        case .string: return "string"
        case .integer, .bigInteger: return "integer"
        case .float: return "float"
        case .data: return "template data"
        case .blockBegin: return "'begin of statement block'"
        case .blockEnd: return "'end of statement block'"
        case .variableBegin: return "'begin of print statement'"
        case .variableEnd: return "'end of print statement'"
        case .eof: return "end of template"
        }
    }

    // MARK: templates and statements

    mutating func parseTemplate() throws -> ParsedTemplate {
        let body = try subparse(endTokens: nil)
        if current.kind != .eof { throw fail("unexpected \(describe(current))") }
        let v = Validator(env: environment, name: name)
        try v.check(body, false)
        for b in blocks.values { try v.check(b.body, false) }
        var compiledBlocks: [String: BlockNode] = [:]
        for (n, b) in blocks {
            var cb = b
            cb.body = Compiler.compile(b.body)
            compiledBlocks[n] = cb
        }
        return ParsedTemplate(body: Compiler.compile(body), blocks: compiledBlocks)
    }

    func atEnd(_ endTokens: [String]?) -> Bool {
        guard let ends = endTokens, let n = currentName else { return false }
        return ends.contains(n)
    }

    mutating func subparse(endTokens: [String]?) throws -> [Stmt] {
        var body: [Stmt] = []
        while true {
            let t = current
            switch t.kind {
            case .data(let s):
                body.append(.text(s))
                advance()
            case .variableBegin:
                advance()
                let e = try parseTuple(withCondexpr: true)
                guard current.kind == .variableEnd else {
                    throw fail("expected token 'end of print statement', got \(describe(current))")
                }
                advance()
                body.append(.output(e, line: t.line))
            case .blockBegin:
                advance()
                if atEnd(endTokens) { return body }
                let s = try parseStatement()
                body.append(contentsOf: s)
                try expectBlockEnd()
            case .eof:
                if let ends = endTokens {
                    throw fail("Unexpected end of template. Jinja was looking for the following tags: \(ends.map { "'\($0)'" }.joined(separator: " or ")).")
                }
                return body
            default:
                throw fail("unexpected \(describe(t))")
            }
        }
    }

    mutating func parseStatements(_ ends: [String], dropNeedle: Bool = false) throws -> [Stmt] {
        _ = skipOp(":")
        try expectBlockEnd()
        let body = try subparse(endTokens: ends)
        if current.kind == .eof { throw fail("Unexpected end of template") }
        if dropNeedle { advance() }
        return body
    }

    mutating func parseStatement() throws -> [Stmt] {
        guard let tag = currentName else { throw fail("tag name expected") }
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maxDepth || !stack.hasRoom() { throw fail("statements nested too deeply") }
        let line = current.line
        switch tag {
        case "for": return [try parseFor()]
        case "if": return [try parseIf()]
        case "block": return [try parseBlock()]
        case "extends":
            advance()
            return [.extends(try parseExpression(), line: line)]
        case "print":
            advance()
            var items: [Stmt] = []
            repeat { items.append(.output(try parseExpression(), line: line)) } while skipOp(",")
            return items
        case "macro": return [try parseMacro()]
        case "include": return [try parseInclude()]
        case "from": return [try parseFrom()]
        case "import": return [try parseImport()]
        case "set": return [try parseSet()]
        case "with": return [try parseWith()]
        case "autoescape":
            advance()
            let e = try parseExpression()
            let body = try parseStatements(["endautoescape"], dropNeedle: true)
            return [.autoescape(e, body, line: line)]
        case "call": return [try parseCallBlock()]
        case "filter": return [try parseFilterBlock()]
        case "do" where environment.extensions.contains(.do):
            advance()
            return [.exprStmt(try parseTuple(withCondexpr: true), line: line)]
        case "break" where environment.extensions.contains(.loopControls):
            advance(); return [.breakLoop(line: line)]
        case "continue" where environment.extensions.contains(.loopControls):
            advance(); return [.continueLoop(line: line)]
        case "debug" where environment.extensions.contains(.debug):
            advance(); return [.debug(line: line)]
        default:
            if let ext = environment.tagExtensions[tag] {
                advance()
                var tp = TagParser(parser: self)
                let st = try ext.parse(tag: tag, parser: &tp)
                self = tp.parser
                return [.ext(st, line: line)]
            }
            throw fail("Encountered unknown tag '\(tag)'.")
        }
    }

    mutating func parseFor() throws -> Stmt {
        let line = current.line
        advance()
        let target = try parseAssignTarget(extraEnd: ["in"])
        if case .name("loop") = target {
            throw JinjaError(.templateAssertionError, "Can't assign to special loop variable in for-loop target", templateName: name, line: line)
        }
        try expectName("in")
        let iter = try parseTuple(withCondexpr: false, extraEnd: ["recursive"])
        var filter: Expr? = nil
        if skipName("if") { filter = try parseExpression() }
        let recursive = skipName("recursive")
        let body = try parseStatements(["endfor", "else"])
        var elseBody: [Stmt] = []
        if currentName == "endfor" { advance() } else {
            advance()
            elseBody = try parseStatements(["endfor"], dropNeedle: true)
        }
        let uses = NameScan.references(body, "loop") || (filter.map { NameScan.references($0, "loop") } ?? false)
        return .forLoop(ForNode(target: target, iter: iter, filter: filter, body: body, elseBody: elseBody,
                                recursive: recursive, usesLoop: uses || recursive,
                                freshScopes: NameScan.assigns(body), reuseScope: !NameScan.capturesScope(body)), line: line)
    }

    mutating func parseIf() throws -> Stmt {
        let line = current.line
        advance()
        var branches: [(Expr, [Stmt])] = []
        var elseBody: [Stmt]? = nil
        var test = try parseTuple(withCondexpr: false)
        while true {
            let body = try parseStatements(["elif", "else", "endif"])
            branches.append((test, body))
            let tok = currentName
            advance()
            if tok == "elif" {
                test = try parseTuple(withCondexpr: false)
                continue
            } else if tok == "else" {
                elseBody = try parseStatements(["endif"], dropNeedle: true)
            }
            break
        }
        return .ifs(branches, elseBody, line: line)
    }

    mutating func parseBlock() throws -> Stmt {
        let line = current.line
        advance()
        let bname = try expectName()
        let scoped = skipName("scoped")
        let required = skipName("required")
        if isOp(current, "-") {
            throw fail("Block names in Jinja have to be valid Python identifiers and may not contain hyphens, use an underscore instead.")
        }
        let body = try parseStatements(["endblock"], dropNeedle: true)
        if required {
            for s in body {
                guard case .text(let t) = s, t.allSatisfy({ $0.isWhitespace }) else {
                    throw fail("Required blocks can only contain comments or whitespace", line: line)
                }
            }
        }
        _ = skipName(bname)
        if blocks[bname] != nil {
            throw JinjaError(.templateAssertionError, "block '\(bname)' defined twice", templateName: name, line: line)
        }
        blocks[bname] = BlockNode(name: bname, body: body, scoped: scoped, required: required)
        return .block(bname, line: line)
    }

    mutating func parseImportContext(default d: Bool) -> Bool {
        if let n = currentName, n == "with" || n == "without", isName(look, "context") {
            advance(); advance()
            return n == "with"
        }
        return d
    }

    mutating func parseInclude() throws -> Stmt {
        let line = current.line
        advance()
        let tmpl = try parseExpression()
        var ignore = false
        if isName(current, "ignore") && isName(look, "missing") { advance(); advance(); ignore = true }
        let ctx = parseImportContext(default: true)
        return .include(tmpl, ignoreMissing: ignore, withContext: ctx, line: line)
    }

    mutating func parseImport() throws -> Stmt {
        let line = current.line
        advance()
        let tmpl = try parseExpression()
        try expectName("as")
        let target = try expectName()
        let ctx = parseImportContext(default: false)
        return .importStmt(tmpl, .module(target), withContext: ctx, line: line)
    }

    mutating func parseFrom() throws -> Stmt {
        let line = current.line
        advance()
        let tmpl = try parseExpression()
        try expectName("import")
        var names: [(String, String)] = []
        var withContext = false
        func parseContext(_ p: inout Parser) -> Bool {
            if let n = p.currentName, n == "with" || n == "without", p.isName(p.look, "context") {
                withContext = n == "with"
                p.advance(); p.advance()
                return true
            }
            return false
        }
        while true {
            if !names.isEmpty { try expectOp(",") }
            if currentName != nil {
                if parseContext(&self) { break }
                let n = try expectName()
                if n.hasPrefix("_") {
                    throw JinjaError(.templateAssertionError, "names starting with an underline can not be imported", templateName: name, line: line)
                }
                if skipName("as") { names.append((n, try expectName())) } else { names.append((n, n)) }
                if parseContext(&self) || !isOp(current, ",") { break }
            } else {
                _ = try expectName()
            }
        }
        return .importStmt(tmpl, .names(names), withContext: withContext, line: line)
    }

    mutating func parseSet() throws -> Stmt {
        let line = current.line
        advance()
        let target = try parseAssignTarget(withNamespace: true)
        if skipOp("=") {
            return .assign(target, try parseTuple(withCondexpr: true), line: line)
        }
        var filter: Expr? = nil
        if isOp(current, "|") { filter = try parseFilter(nil, startInline: false) }
        let body = try parseStatements(["endset"], dropNeedle: true)
        return .assignBlock(target, filter, body, line: line)
    }

    mutating func parseWith() throws -> Stmt {
        let line = current.line
        advance()
        var pairs: [(Target, Expr)] = []
        while current.kind != .blockEnd {
            if !pairs.isEmpty { try expectOp(",") }
            let t = try parseAssignTarget()
            try expectOp("=")
            pairs.append((t, try parseExpression()))
        }
        let body = try parseStatements(["endwith"], dropNeedle: true)
        return .with(pairs, body, line: line)
    }

    mutating func parseSignature() throws -> [(String, Expr?)] {
        var params: [(String, Expr?)] = []
        try expectOp("(")
        var sawDefault = false
        while !isOp(current, ")") {
            if !params.isEmpty { try expectOp(",") }
            let n = try expectName()
            if skipOp("=") {
                params.append((n, try parseExpression()))
                sawDefault = true
            } else {
                if sawDefault { throw fail("non-default argument follows default argument") }
                params.append((n, nil))
            }
        }
        try expectOp(")")
        return params
    }

    func makeMacro(_ name: String, _ params: [(String, Expr?)], _ body: [Stmt]) throws -> MacroDef {
        if params.contains(where: { $0.0 == "caller" && $0.1 == nil }) {
            throw JinjaError(.templateAssertionError, "When defining macros or call blocks the special \"caller\" argument must be omitted or be given a default.", templateName: self.name, line: current.line)
        }
        let defaults = params.compactMap { $0.1 }
        return MacroDef(name: name, params: params, body: body,
                        usesCaller: NameScan.references(body, "caller") || defaults.contains { NameScan.references($0, "caller") },
                        usesVarargs: NameScan.references(body, "varargs"),
                        usesKwargs: NameScan.references(body, "kwargs"),
                        capturesScope: NameScan.capturesScope(body))
    }

    mutating func parseMacro() throws -> Stmt {
        let line = current.line
        advance()
        let mname = try expectName()
        let params = try parseSignature()
        let body = try parseStatements(["endmacro"], dropNeedle: true)
        return .macro(try makeMacro(mname, params, body), line: line)
    }

    mutating func parseCallBlock() throws -> Stmt {
        let line = current.line
        advance()
        var params: [(String, Expr?)] = []
        if isOp(current, "(") { params = try parseSignature() }
        let call = try parseExpression()
        guard case .call = call else { throw fail("expected call", line: line) }
        let body = try parseStatements(["endcall"], dropNeedle: true)
        return .callBlock(call, try makeMacro("caller", params, body), line: line)
    }

    mutating func parseFilterBlock() throws -> Stmt {
        let line = current.line
        advance()
        guard let f = try parseFilter(nil, startInline: true) else { throw fail("expected filter") }
        let body = try parseStatements(["endfilter"], dropNeedle: true)
        return .filterBlock(f, body, line: line)
    }

    // MARK: expressions

    mutating func parseAssignTarget(withTuple: Bool = true, extraEnd: [String] = [], withNamespace: Bool = false) throws -> Target {
        if withNamespace {
            var targets: [Target] = []
            var sawComma = false
            repeat {
                if isOp(current, "=") || current.kind == .blockEnd || isOp(current, "|") { break }
                if isOp(look, "."), case .name = current.kind {
                    let ns = try expectName()
                    advance()
                    targets.append(.nsattr(ns, try expectName()))
                } else {
                    targets.append(try toTarget(try parsePrimary()))
                }
                if isOp(current, ",") { sawComma = true }
            } while skipOp(",")
            if targets.count == 1 && !sawComma { return targets[0] }
            if targets.isEmpty { throw fail("expected assignment target") }
            return .tuple(targets)
        }
        let e: Expr = withTuple ? try parseTuple(simplified: true, extraEnd: extraEnd) : try parsePrimary()
        return try toTarget(e)
    }

    func toTarget(_ e: Expr) throws -> Target {
        switch e {
        case .name(let n):
            if ["true", "false", "none", "True", "False", "None"].contains(n) { throw fail("can't assign to '\(n)'") }
            return .name(n)
        case .tuple(let items): return .tuple(try items.map(toTarget))
        default: throw fail("can't assign to expression")
        }
    }

    mutating func parseExpression(withCondexpr: Bool = true) throws -> Expr {
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maxDepth || !stack.hasRoom() { throw fail("expression nested too deeply") }
        return withCondexpr ? try parseCondexpr() : try parseOr()
    }

    func checkChain(_ n: inout Int) throws {
        n += 1
        if n > Parser.maxChain { throw fail("expression too long") }
    }

    mutating func parseCondexpr() throws -> Expr {
        var e = try parseOr()
        var n = 0
        while skipName("if") {
            try checkChain(&n)
            let test = try parseOr()
            let elseE: Expr? = skipName("else") ? try parseCondexpr() : nil
            e = .cond(test, e, elseE)
        }
        return e
    }

    mutating func parseOr() throws -> Expr {
        var l = try parseAnd()
        var n = 0
        while skipName("or") { try checkChain(&n); l = .or(l, try parseAnd()) }
        return l
    }

    mutating func parseAnd() throws -> Expr {
        var l = try parseNot()
        var n = 0
        while skipName("and") { try checkChain(&n); l = .and(l, try parseNot()) }
        return l
    }

    mutating func parseNot() throws -> Expr {
        if skipName("not") {
            depth += 1
            defer { depth -= 1 }
            if depth > Parser.maxDepth || !stack.hasRoom() { throw fail("expression nested too deeply") }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> Expr {
        let e = try parseMath1()
        var ops: [(CmpOp, Expr)] = []
        while true {
            if case .op(let o) = current.kind, let op = CmpOp(rawValue: o), op != .in, op != .notin {
                advance()
                ops.append((op, try parseMath1()))
            } else if skipName("in") {
                ops.append((.in, try parseMath1()))
            } else if isName(current, "not") && isName(look, "in") {
                advance(); advance()
                ops.append((.notin, try parseMath1()))
            } else { break }
        }
        return ops.isEmpty ? e : .compare(e, ops)
    }

    mutating func parseMath1() throws -> Expr {
        var l = try parseConcat()
        var n = 0
        while true {
            if isOp(current, "+") || isOp(current, "-") { try checkChain(&n) }
            if skipOp("+") { l = .binop(.add, l, try parseConcat()) }
            else if skipOp("-") { l = .binop(.sub, l, try parseConcat()) }
            else { return l }
        }
    }

    mutating func parseConcat() throws -> Expr {
        var items = [try parseMath2()]
        while skipOp("~") { items.append(try parseMath2()) }
        return items.count == 1 ? items[0] : .concat(items)
    }

    mutating func parseMath2() throws -> Expr {
        var l = try parsePow()
        var n = 0
        while true {
            if isOp(current, "*") || isOp(current, "/") || isOp(current, "//") || isOp(current, "%") { try checkChain(&n) }
            if skipOp("*") { l = .binop(.mul, l, try parsePow()) }
            else if skipOp("/") { l = .binop(.div, l, try parsePow()) }
            else if skipOp("//") { l = .binop(.floordiv, l, try parsePow()) }
            else if skipOp("%") { l = .binop(.mod, l, try parsePow()) }
            else { return l }
        }
    }

    mutating func parsePow() throws -> Expr {
        var l = try parseUnary()
        var n = 0
        while skipOp("**") { try checkChain(&n); l = .binop(.pow, l, try parseUnary()) }
        return l
    }

    mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        var e: Expr
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maxDepth || !stack.hasRoom() { throw fail("expression nested too deeply") }
        if skipOp("-") { e = .neg(try parseUnary(withFilter: false)) }
        else if skipOp("+") { e = .pos(try parseUnary(withFilter: false)) }
        else { e = try parsePrimary() }
        e = try parsePostfix(e)
        if withFilter { e = try parseFilterExpr(e) }
        return e
    }

    mutating func parsePrimary() throws -> Expr {
        let t = current
        switch t.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .const(.bool(true))
            case "false", "False": return .const(.bool(false))
            case "none", "None": return .const(.none)
            default: return .name(n)
            }
        case .string(var s):
            advance()
            while case .string(let more) = current.kind { s += more; advance() }
            return .const(.string(s))
        case .integer(let v): advance(); return .const(.int(v))
        case .bigInteger(let v): advance(); return .const(.integer(v))
        case .float(let v): advance(); return .const(.float(v))
        case .op("("):
            advance()
            let e = try parseTuple(explicitParens: true)
            try expectOp(")")
            return e
        case .op("["):
            advance()
            var items: [Expr] = []
            while !isOp(current, "]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp(current, "]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return .list(items)
        case .op("{"):
            advance()
            var items: [(Expr, Expr)] = []
            while !isOp(current, "}") {
                if !items.isEmpty { try expectOp(",") }
                if isOp(current, "}") { break }
                let k = try parseExpression()
                try expectOp(":")
                items.append((k, try parseExpression()))
            }
            try expectOp("}")
            return .dict(items)
        default:
            throw fail("unexpected \(describe(t))")
        }
    }

    func isTupleEnd(_ extraEnd: [String]) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .op(")"), .eof: return true
        case .name(let n): return extraEnd.contains(n)
        default: return false
        }
    }

    mutating func parseTuple(simplified: Bool = false, withCondexpr: Bool = true, extraEnd: [String] = [], explicitParens: Bool = false) throws -> Expr {
        var args: [Expr] = []
        var isTuple = false
        while true {
            if !args.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            if simplified { args.append(try parsePrimary()) }
            else { args.append(try parseExpression(withCondexpr: withCondexpr)) }
            if isOp(current, ",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let a = args.first { return a }
            if !explicitParens { throw fail("Expected an expression, got \(describe(current))") }
        }
        return .tuple(args)
    }

    mutating func parsePostfix(_ e: Expr) throws -> Expr {
        var e = e
        var n = 0
        while true {
            try checkChain(&n)
            if isOp(current, ".") || isOp(current, "[") { e = try parseSubscript(e) }
            else if isOp(current, "(") { e = .call(e, try parseCallArgs()) }
            else { return e }
        }
    }

    mutating func parseFilterExpr(_ e: Expr) throws -> Expr {
        var e = e
        var n = 0
        while true {
            try checkChain(&n)
            if isOp(current, "|") { e = try parseFilter(e, startInline: false) ?? e }
            else if isName(current, "is") { e = try parseTest(e) }
            else if isOp(current, "(") { e = .call(e, try parseCallArgs()) }
            else { return e }
        }
    }

    mutating func parseSubscript(_ e: Expr) throws -> Expr {
        if skipOp(".") {
            switch current.kind {
            case .name(let n): advance(); return .getattr(e, n)
            case .integer(let v): advance(); return .getitem(e, .const(.int(v)))
            default: throw fail("expected name or number")
            }
        }
        try expectOp("[")
        var args: [Expr] = []
        while !isOp(current, "]") {
            if !args.isEmpty { try expectOp(",") }
            args.append(try parseSubscribed())
        }
        try expectOp("]")
        if args.count == 1 { return .getitem(e, args[0]) }
        return .getitem(e, .tuple(args))
    }

    mutating func parseSubscribed() throws -> Expr {
        var parts: [Expr?] = []
        if isOp(current, ":") {
            advance()
            parts = [nil]
        } else {
            let n = try parseExpression()
            if !isOp(current, ":") { return n }
            advance()
            parts = [n]
        }
        if isOp(current, ":") { parts.append(nil) }
        else if !isOp(current, "]") && !isOp(current, ",") { parts.append(try parseExpression()) }
        else { parts.append(nil) }
        if skipOp(":") {
            if !isOp(current, "]") && !isOp(current, ",") { parts.append(try parseExpression()) } else { parts.append(nil) }
        } else { parts.append(nil) }
        return .slice(parts[0], parts[1], parts[2])
    }

    mutating func parseCallArgs() throws -> CallArgs {
        try expectOp("(")
        var ca = CallArgs()
        var requireComma = false
        while !isOp(current, ")") {
            if requireComma {
                try expectOp(",")
                if isOp(current, ")") { break }
            }
            if skipOp("*") {
                guard ca.dynArgs == nil && ca.dynKwargs == nil else { throw fail("Invalid argument syntax") }
                ca.dynArgs = try parseExpression()
            } else if skipOp("**") {
                guard ca.dynKwargs == nil else { throw fail("Invalid argument syntax") }
                ca.dynKwargs = try parseExpression()
            } else if let n = currentName, isOp(look, "=") {
                guard ca.dynKwargs == nil else { throw fail("Invalid argument syntax") }
                advance(); advance()
                ca.kwargs.append((n, try parseExpression()))
            } else {
                guard ca.dynArgs == nil && ca.dynKwargs == nil && ca.kwargs.isEmpty else { throw fail("Invalid argument syntax") }
                ca.args.append(try parseExpression())
            }
            requireComma = true
        }
        try expectOp(")")
        return ca
    }

    mutating func parseDottedName() throws -> String {
        var n = try expectName()
        while isOp(current, ".") { advance(); n += "." + (try expectName()) }
        return n
    }

    mutating func parseFilter(_ e: Expr?, startInline: Bool) throws -> Expr? {
        var e = e
        var inline = startInline
        var any = false
        while isOp(current, "|") || inline {
            if !inline { advance() }
            let line = current.line
            let fname = try parseDottedName()
            let args = isOp(current, "(") ? try parseCallArgs() : CallArgs.empty
            e = .filter(e, FilterRef(name: fname, fn: environment.filters[fname], pure: environment.pureFilters.contains(fname)), args, line: line)
            inline = false
            any = true
        }
        return any ? e : nil
    }

    mutating func parseTest(_ e: Expr) throws -> Expr {
        let line = current.line
        advance()
        let negated = skipName("not")
        let tname = try parseDottedName()
        var args = CallArgs.empty
        if isOp(current, "(") {
            args = try parseCallArgs()
        } else {
            var ok = false
            switch current.kind {
            case .name(let n): ok = !["else", "or", "and"].contains(n)
            case .string, .integer, .bigInteger, .float, .op("("), .op("["), .op("{"): ok = true
            default: ok = false
            }
            if ok {
                if isName(current, "is") { throw fail("You cannot chain multiple tests with is") }
                let a = try parsePostfix(try parsePrimary())
                args = CallArgs(args: [a])
            }
        }
        return .test(e, TestRef(name: tname, fn: environment.tests[tname], pure: environment.pureTests.contains(tname)), args, negated: negated, line: line)
    }
}
