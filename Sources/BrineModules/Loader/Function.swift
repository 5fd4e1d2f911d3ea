import Foundation
import BrineCore
import OrderedCollections

/// A parameter of an execution function, by Salt's name. `default == nil`
/// means the caller must supply it.
public struct Parameter: Sendable {
    public var name: String
    public var defaultValue: Value?

    public init(_ name: String, default defaultValue: Value? = nil) {
        self.name = name
        self.defaultValue = defaultValue
    }
}

/// Arguments after binding to a function's parameters, Python-style.
public struct Arguments: Sendable {
    public var values: [String: Value] = [:]
    /// Positional arguments beyond the named ones (`*args`).
    public var extra: [Value] = []
    /// Keyword arguments that are not parameters (`**kwargs`).
    public var extraKeywords: OrderedDictionary<String, Value> = [:]

    public init() {}

    public subscript(name: String) -> Value {
        values[name] ?? .null
    }

    public func string(_ name: String) -> String? {
        switch values[name] {
        case .string(let s): s
        case .int(let i): String(i)
        case .float(let d): Value.pythonFloat(d)
        case .bool(let b): b ? "True" : "False"
        default: nil
        }
    }

    public func bool(_ name: String) -> Bool { values[name]?.asFlag ?? false }

    public func int(_ name: String) -> Int? {
        switch values[name] {
        case .int(let i): i
        case .float(let d): d.isFinite && d.magnitude < 9.2e18 ? Int(d) : nil
        case .string(let s): Int(s)
        default: nil
        }
    }

    public func double(_ name: String) -> Double? {
        switch values[name] {
        case .string(let s): Double(s)
        case let v?: v.doubleValue
        default: nil
        }
    }

    /// A list argument that a user may also give as one string or a
    /// comma-separated string (`pkgs=a,b`).
    public func stringList(_ name: String) -> [String]? {
        switch values[name] {
        case .list(let l): l.map(\.pythonString)
        case .string(let s): s.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        case .null, nil: nil
        case let v?: [v.pythonString]
        }
    }
}

/// The body of an execution function.
public typealias FunctionBody = @Sendable (Arguments, ExecutionContext) throws -> Value

/// One execution function (`test.ping`), with what `sys.doc` shows.
public struct ExecutionFunction: Sendable {
    public var name: String
    public var doc: String
    public var parameters: [Parameter]
    public var varargs: Bool
    public var kwargs: Bool
    public var body: FunctionBody

    public init(_ name: String, doc: String, _ parameters: [Parameter] = [], varargs: Bool = false,
                kwargs: Bool = false, body: @escaping FunctionBody)
    {
        self.name = name
        self.doc = doc
        self.parameters = parameters
        self.varargs = varargs
        self.kwargs = kwargs
        self.body = body
    }

    /// The signature as Python would print it, for usage messages.
    public var signature: String {
        var parts = parameters.map { p in p.defaultValue.map { "\(p.name)=\($0.pythonRepr)" } ?? p.name }
        if varargs { parts.append("*args") }
        if kwargs { parts.append("**kwargs") }
        return "\(name)(\(parts.joined(separator: ", ")))"
    }

    /// Binds positional and keyword arguments as Python would, with Salt's
    /// messages when they do not fit.
    public func bind(_ call: CallArguments, fullName: String) throws(BrineError) -> Arguments {
        var bound = Arguments()
        var positional = call.positional[...]
        for parameter in parameters {
            guard let next = positional.first else { break }
            bound.values[parameter.name] = next
            positional = positional.dropFirst()
        }
        if !positional.isEmpty {
            guard varargs else {
                throw BrineError(.arguments,
                                 "\(fullName) takes at most \(parameters.count) positional argument\(parameters.count == 1 ? "" : "s") (\(call.positional.count) given)",
                                 hint: "usage: \(signature)")
            }
            bound.extra = Array(positional)
        }
        let names = Set(parameters.map(\.name))
        var unknown: [String] = []
        for (key, value) in call.keyword {
            if key.hasPrefix("__") { continue }  // Salt's __pub_* and friends
            if names.contains(key) {
                if bound.values[key] != nil && call.positional.count > (parameters.firstIndex { $0.name == key } ?? 0) {
                    throw BrineError(.arguments, "\(fullName) got multiple values for argument '\(key)'",
                                     hint: "usage: \(signature)")
                }
                bound.values[key] = value
            } else if kwargs {
                bound.extraKeywords[key] = value
            } else {
                unknown.append("\(key)=\(value.pythonString)")
            }
        }
        if !unknown.isEmpty {
            throw BrineError(.arguments, "The following keyword arguments are not valid: \(unknown.joined(separator: ", "))",
                             hint: "usage: \(signature)")
        }
        for parameter in parameters where bound.values[parameter.name] == nil {
            guard let fallback = parameter.defaultValue else {
                throw BrineError(.arguments, "\(fullName) is missing required argument '\(parameter.name)'",
                                 hint: "usage: \(signature)")
            }
            bound.values[parameter.name] = fallback
        }
        return bound
    }
}

/// A module of execution functions, one Swift file per Salt module.
public protocol ExecutionModule {
    static var name: String { get }
    static var functions: [ExecutionFunction] { get }
}
