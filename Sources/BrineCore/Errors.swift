/// Where in a file something went wrong. `line` is 1-based.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?

    public init(file: String, line: Int? = nil) {
        self.file = file
        self.line = line
    }

    public var description: String {
        if let line { return "\(file), line \(line)" }
        return file
    }
}

/// An error a user can hit and fix: it says what is wrong, where, and what to do.
///
/// Every layer throws these (or wraps its own errors into them) so that the
/// CLI can print one line and exit non-zero instead of a Swift backtrace.
public struct BrineError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case yaml = "YAML error"
        case json = "JSON error"
        case msgpack = "msgpack error"
        case config = "configuration error"
        case usage = "usage error"
        case notAvailable = "not available"
        case arguments = "invalid arguments"
        case execution = "execution error"
        case template = "template error"
        case state = "state error"
        case io = "I/O error"
        case permission = "permission denied"
        case timeout = "timeout"
    }

    public var kind: Kind
    public var message: String
    public var location: SourceLocation?
    public var hint: String?

    public init(_ kind: Kind, _ message: String, at location: SourceLocation? = nil, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.location = location
        self.hint = hint
    }

    public var description: String {
        var text = ""
        if let location { text += "\(location): " }
        text += message
        if let hint { text += " (\(hint))" }
        return text
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The C library's text for an errno value.
public func systemError(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(validatingCString: text) ?? "error \(code)"
}
