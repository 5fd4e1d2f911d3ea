import BrineCore
import OrderedCollections

/// Salt's `verify_high`: the shape checks made on rendered high data before
/// anything is shown or run, with Salt's messages word for word. Argument
/// mappings may hold several keys (Salt merges them when compiling); only
/// requisite lists must be made of single-key references.
enum HighVerifier {
    /// Salt's `STATE_REQUISITE_KEYWORDS`.
    static let requisiteKeywords: Set<String> = [
        "onfail", "onfail_any", "onfail_all", "require", "require_any", "onchanges", "onchanges_any",
        "watch", "watch_any", "prereq", "prerequired", "listen", "onfail_stop",
    ]

    static func verify(_ high: OrderedDictionary<String, Value>) -> [String] {
        var errors: [String] = []
        for (id, body) in high where !id.hasPrefix("__") {
            guard case .map(let declaration) = body else {
                errors.append("The type \(id) in \(body.pythonRepr) is not formatted as a dictionary")
                continue
            }
            let sls = declaration["__sls__"]?.pythonString ?? ""
            for (module, value) in declaration where !module.hasPrefix("__") {
                errors += verify(id: id, sls: sls, module: module, value)
            }
        }
        return errors
    }

    static func verify(id: String, sls: String, module: String, _ value: Value) -> [String] {
        if value.isNull {
            return ["ID '\(id)' in SLS '\(sls)' contains a short declaration (\(module)) with a trailing colon. When not passing any arguments to a state, the colon must be omitted."]
        }
        guard case .list(let args) = value else { return ["State '\(id)' in SLS '\(sls)' is not formed as a list"] }
        var errors: [String] = []
        var functions: [String] = []
        for arg in args {
            switch arg {
            case .string(let function):
                functions.append(function)
                if function.trimmingCharacters(in: .whitespacesAndNewlines).contains(" ") {
                    errors.append("The function \"\(function)\" in state \"\(id)\" in SLS \"\(sls)\" has whitespace, a function with whitespace is not supported, perhaps this is an argument that is missing a \":\"")
                }
            case .map(let m):
                guard let first = m.elements.first else { continue }
                if first.key == "names", first.value.listValue == nil {
                    errors.append("The 'names' argument in state '\(id)' in SLS '\(sls)' needs to be formed as a list")
                }
                if requisiteKeywords.contains(first.key) {
                    errors += verifyRequisite(first.key, first.value, id: id, sls: sls)
                    if m.count != 1 {
                        errors.append("Multiple dictionaries defined in argument of state '\(id)' in SLS '\(sls)'")
                    }
                }
            default:
                continue
            }
        }
        let dotted = module.contains(".")
        let count = functions.count + (dotted ? 1 : 0)
        if count == 0 {
            errors.append("No function declared in state '\(id)' in SLS '\(sls)'")
        } else if count > 1 {
            let all = (dotted ? [String(module.split(separator: ".", maxSplits: 1).last ?? "")] : []) + functions
            errors.append("Too many functions declared in state '\(id)' in SLS '\(sls)'. Please choose one of the following: \(all.joined(separator: ", "))")
        }
        return errors
    }

    static func verifyRequisite(_ keyword: String, _ value: Value, id: String, sls: String) -> [String] {
        guard case .list(let references) = value else {
            return ["The \(keyword) statement in state '\(id)' in SLS '\(sls)' needs to be formed as a list"]
        }
        var errors: [String] = []
        for reference in references {
            let entry: Value = reference.stringValue.map { .map(["id": .string($0)]) } ?? reference
            guard case .map(let m) = entry, m.count == 1, let (kind, target) = m.elements.first else {
                errors.append("Requisite declaration \(entry.pythonRepr) in state \(id) in SLS \(sls) is not formed as a single key dictionary")
                continue
            }
            if let dot = kind.firstIndex(of: ".") {
                errors.append("Invalid requisite type '\(kind)' in state '\(id)', in SLS '\(sls)'. Requisite types must not contain dots, did you mean '\(kind[..<dot])'?")
            }
            switch target {
            case .list, .map:
                errors.append("Illegal requisite \"\(target.pythonRepr)\" in SLS \"\(sls)\", please check your syntax.\n")
            default:
                break
            }
        }
        return errors
    }
}
