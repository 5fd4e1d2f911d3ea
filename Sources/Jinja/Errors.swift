/// The kinds of error Jinja2 raises, so a host (or the conformance test) can
/// compare what went wrong without parsing messages.
public enum JinjaErrorKind: String, Sendable, Equatable {
    case templateSyntaxError = "TemplateSyntaxError"
    case templateAssertionError = "TemplateAssertionError"
    case templateRuntimeError = "TemplateRuntimeError"
    case undefinedError = "UndefinedError"
    case templateNotFound = "TemplateNotFound"
    case templatesNotFound = "TemplatesNotFound"
    case typeError = "TypeError"
    case valueError = "ValueError"
    case keyError = "KeyError"
    case indexError = "IndexError"
    case attributeError = "AttributeError"
    case zeroDivisionError = "ZeroDivisionError"
    case overflowError = "OverflowError"
    case securityError = "SecurityError"
    case filterArgumentError = "FilterArgumentError"
    case recursionError = "RecursionError"
    case assertionError = "AssertionError"
    /// A host filter, test, global or tag threw a non-Jinja error (kept in `underlying`).
    case hostError = "HostError"
}

/// A typed error raised while loading, parsing or rendering a template.
/// It carries the template name and line number when known, like Jinja2's
/// tracebacks do, so that a Salt state failure points at the right line.
public struct JinjaError: Error, Sendable, CustomStringConvertible {
    public var kind: JinjaErrorKind
    public var message: String
    public var templateName: String?
    public var line: Int?
    /// The host's original error for `.hostError`.
    public var underlying: (any Error)?

    public init(_ kind: JinjaErrorKind, _ message: String, templateName: String? = nil, line: Int? = nil, underlying: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.templateName = templateName
        self.line = line
        self.underlying = underlying
    }

    public var description: String {
        var s = "\(kind.rawValue): \(message)"
        if let name = templateName { s += " (template \(name)" } else if line != nil { s += " (" }
        if let line = line { s += templateName == nil ? "line \(line))" : ", line \(line))" } else if templateName != nil { s += ")" }
        return s
    }

    static func syntax(_ message: String, line: Int?, name: String?) -> JinjaError {
        JinjaError(.templateSyntaxError, message, templateName: name, line: line)
    }
    static func type(_ message: String) -> JinjaError { JinjaError(.typeError, message) }
    static func runtime(_ message: String) -> JinjaError { JinjaError(.templateRuntimeError, message) }
    static func value(_ message: String) -> JinjaError { JinjaError(.valueError, message) }
}

/// Largest string or list a single operation may build (`'x' * n`,
/// `'{:>n}'`, `center(n)`…); beyond it Python would raise MemoryError, we
/// raise OverflowError instead of exhausting memory.
let maxResultSize = 1 << 26

/// Throws when `count` copies of `unit` elements would exceed `maxResultSize`.
func checkResultSize(_ count: Int, unit: Int = 1) throws {
    let (total, overflow) = count.multipliedReportingOverflow(by: max(1, unit))
    if overflow || total > maxResultSize {
        throw JinjaError(.overflowError, "result too large")
    }
}

/// Control flow for `{% break %}` / `{% continue %}`; never escapes a loop.
enum LoopControl: Error { case breakLoop, continueLoop }
