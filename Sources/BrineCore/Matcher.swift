import Foundation

/// Decides whether a minion matches a target, by Salt's target types:
/// glob, pcre, list, grain, grain_pcre, pillar, pillar_pcre, ipcidr and
/// compound expressions (`G@os:Debian and not web*`).
public struct Matcher: Sendable {
    public var minionID: String
    public var grains: Value
    public var pillar: Value
    public var nodegroups: [String: Value] = [:]

    public init(minionID: String, grains: Value, pillar: Value, nodegroups: [String: Value] = [:]) {
        self.minionID = minionID
        self.grains = grains
        self.pillar = pillar
        self.nodegroups = nodegroups
    }

    public func matches(_ target: String, type: String) throws(BrineError) -> Bool {
        switch type {
        case "glob": return Glob.match(minionID, target)
        case "pcre": return try regexMatch(minionID, target)
        case "list":
            return target.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains(minionID)
        case "grain": return dataMatch(grains, target, regex: false)
        case "grain_pcre": return try dataRegexMatch(grains, target)
        case "pillar": return dataMatch(pillar, target, regex: false)
        case "pillar_pcre": return try dataRegexMatch(pillar, target)
        case "ipcidr": return ipcidr(target)
        case "nodegroup":
            guard let group = nodegroups[target] else { return false }
            let expression = group.listValue.map { $0.map(\.pythonString).joined(separator: " or ") } ?? group.pythonString
            return try compound(expression)
        case "compound": return try compound(target)
        default:
            throw BrineError(.usage, "unknown target type '\(type)'",
                             hint: "use glob, pcre, list, grain, grain_pcre, pillar, pillar_pcre, ipcidr, nodegroup or compound")
        }
    }

    func regexMatch(_ text: String, _ pattern: String) throws(BrineError) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: pattern) else {
            throw BrineError(.usage, "invalid regular expression '\(pattern)'")
        }
        // Salt uses re.match: anchored at the start only.
        return regex.firstMatch(in: text, options: [.anchored], range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// `key:sub:value` against grains or pillar; the last part is a glob,
    /// and a list value matches when any element does.
    func dataMatch(_ data: Value, _ expression: String, regex: Bool) -> Bool {
        guard let split = expression.lastIndex(of: ":") else { return false }
        let path = String(expression[..<split])
        let pattern = String(expression[expression.index(after: split)...])
        guard let found = data.traverse(path) else { return false }
        let candidates = found.listValue ?? [found]
        return candidates.contains { candidate in
            if case .map = candidate { return false }
            return Glob.match(candidate.pythonString, pattern)
        }
    }

    func dataRegexMatch(_ data: Value, _ expression: String) throws(BrineError) -> Bool {
        guard let split = expression.lastIndex(of: ":") else { return false }
        let path = String(expression[..<split])
        let pattern = String(expression[expression.index(after: split)...])
        guard let found = data.traverse(path) else { return false }
        for candidate in found.listValue ?? [found] where try regexMatch(candidate.pythonString, pattern) {
            return true
        }
        return false
    }

    func ipcidr(_ target: String) -> Bool {
        let addresses = (grains["ipv4"]?.listValue ?? []).compactMap(\.stringValue)
        let parts = target.split(separator: "/")
        guard let network = parts.first.flatMap({ IPv4.parse(String($0)) }) else { return false }
        let bits = parts.count > 1 ? Int(parts[1]) ?? 32 : 32
        guard (0...32).contains(bits) else { return false }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - UInt32(bits))
        return addresses.compactMap(IPv4.parse).contains { $0 & mask == network & mask }
    }

    /// Compound targets: words joined by `and`, `or`, `not` and parentheses;
    /// `X@` prefixes pick the matcher, a bare word is a glob.
    public func compound(_ expression: String) throws(BrineError) -> Bool {
        var tokens = Matcher.tokenize(expression)[...]
        let result = try parseOr(&tokens)
        guard tokens.isEmpty else {
            throw BrineError(.usage, "invalid compound target '\(expression)' near '\(tokens.first ?? "")'")
        }
        return result
    }

    static func tokenize(_ expression: String) -> [String] {
        var tokens: [String] = []
        for word in expression.split(separator: " ") {
            var w = Substring(word)
            while w.hasPrefix("(") { tokens.append("("); w = w.dropFirst() }
            var closing = 0
            while w.hasSuffix(")") && !w.hasPrefix("E@") { closing += 1; w = w.dropLast() }
            if !w.isEmpty { tokens.append(String(w)) }
            tokens += Array(repeating: ")", count: closing)
        }
        return tokens
    }

    func parseOr(_ t: inout ArraySlice<String>) throws(BrineError) -> Bool {
        var value = try parseAnd(&t)
        while t.first == "or" {
            t = t.dropFirst()
            let rhs = try parseAnd(&t)
            value = value || rhs
        }
        return value
    }

    func parseAnd(_ t: inout ArraySlice<String>) throws(BrineError) -> Bool {
        var value = try parseNot(&t)
        while let next = t.first, next != "or", next != ")" {
            if next == "and" { t = t.dropFirst() }
            let rhs = try parseNot(&t)
            value = value && rhs
        }
        return value
    }

    func parseNot(_ t: inout ArraySlice<String>) throws(BrineError) -> Bool {
        if t.first == "not" {
            t = t.dropFirst()
            return !(try parseNot(&t))
        }
        guard let token = t.popFirst() else { throw BrineError(.usage, "compound target ends too early") }
        if token == "(" {
            let value = try parseOr(&t)
            guard t.popFirst() == ")" else { throw BrineError(.usage, "unbalanced parentheses in compound target") }
            return value
        }
        return try word(token)
    }

    func word(_ token: String) throws(BrineError) -> Bool {
        guard token.count > 2, token.dropFirst().first == "@" else { return Glob.match(minionID, token) }
        let body = String(token.dropFirst(2))
        switch token.first {
        case "G": return dataMatch(grains, body, regex: false)
        case "P": return try dataRegexMatch(grains, body)
        case "I": return dataMatch(pillar, body, regex: false)
        case "J": return try dataRegexMatch(pillar, body)
        case "E": return try regexMatch(minionID, body)
        case "L": return try matches(body, type: "list")
        case "S": return ipcidr(body)
        case "N": return try matches(body, type: "nodegroup")
        default: throw BrineError(.usage, "unknown compound matcher '\(token.prefix(2))'")
        }
    }
}

enum IPv4 {
    static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".")
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}
