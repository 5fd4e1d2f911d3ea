/// A target expression, parsed once and then matched against each minion.
///
/// Targets arrive from the CLI socket and the REST API, so parsing is the
/// edge where they are validated: the expression's length, its nesting
/// (parentheses, `not`, nodegroups naming nodegroups) and its regular
/// expressions are bounded here, before any minion is looked at. Matching a
/// parsed target recurses only as deep as the parse allowed, and regexes
/// are matched under a deadline (`BoundedRegex`).
///
/// Salt's target types: glob, pcre, list, grain, grain_pcre, pillar,
/// pillar_pcre, ipcidr, nodegroup and compound (`G@os:Debian and not web*`).
public struct Target: Sendable {
    /// Longest target accepted, in bytes.
    public static let maximumLength = 65536
    /// Deepest nesting of parentheses, `not` and nodegroups.
    public static let maximumDepth = 64

    indirect enum Node: Sendable {
        case word(Word)
        case not(Node)
        case all([Node])
        case any([Node])
    }

    enum Source: Sendable {
        case grains, pillar
    }

    enum Word: Sendable {
        case glob(String)
        case regex(BoundedRegex)
        case list(Set<String>)
        case data(Source, path: String, glob: String)
        case dataRegex(Source, path: String, BoundedRegex)
        case ipcidr(network: UInt32, mask: UInt32)
        case nothing
    }

    let root: Node
    /// Whether matching reads pillar (`-I`, `-J`, `I@`, `J@`): such targets
    /// are matched only over minions the caller may target (pillar must not leak).
    public let usesPillar: Bool
    /// Whether matching reads grains or pillar at all (a cluster's master
    /// then fetches them for minions connected elsewhere).
    public let usesMinionData: Bool

    /// - Parameter nodegroups: the master's `nodegroups`, expanded here.
    public init(_ expression: String, type: String, nodegroups: [String: Value] = [:]) throws(BrineError) {
        guard expression.utf8.count <= Self.maximumLength else {
            throw BrineError(.usage, "target longer than \(Self.maximumLength) bytes")
        }
        var parser = Parser(nodegroups: nodegroups)
        root = try parser.parse(expression, type: type, depth: 0)
        usesPillar = parser.usesPillar
        usesMinionData = parser.usesMinionData
    }

    /// Whether a minion with these grains and pillar matches; throws only
    /// when a regex runs past `deadline`.
    public func matches(minionID: String, grains: Value, pillar: Value,
                        deadline: ContinuousClock.Instant = BoundedRegex.defaultDeadline()) throws(BrineError) -> Bool
    {
        let minion = Minion(id: minionID, grains: grains, pillar: pillar, deadline: deadline)
        return try minion.matches(root)
    }

    struct Minion {
        let id: String
        let grains: Value
        let pillar: Value
        let deadline: ContinuousClock.Instant

        func matches(_ node: Node) throws(BrineError) -> Bool {
            switch node {
            case .word(let word): return try matches(word)
            case .not(let inner): return try !matches(inner)
            case .all(let nodes):
                for node in nodes where try !matches(node) { return false }
                return true
            case .any(let nodes):
                for node in nodes where try matches(node) { return true }
                return false
            }
        }

        func matches(_ word: Word) throws(BrineError) -> Bool {
            switch word {
            case .glob(let pattern): return Glob.match(id, pattern)
            case .regex(let regex): return try regex.matches(id, deadline: deadline)
            case .list(let ids): return ids.contains(id)
            case .data(let source, let path, let pattern):
                return candidates(source, path).contains { candidate in
                    if case .map = candidate { return false }
                    return Glob.match(candidate.pythonString, pattern)
                }
            case .dataRegex(let source, let path, let regex):
                for candidate in candidates(source, path) where try regex.matches(candidate.pythonString, deadline: deadline) {
                    return true
                }
                return false
            case .ipcidr(let network, let mask):
                let addresses = (grains["ipv4"]?.listValue ?? []).compactMap(\.stringValue)
                return addresses.compactMap(IPv4.parse).contains { $0 & mask == network }
            case .nothing:
                return false
            }
        }

        /// The value at `path` (`key:sub`), or each element when it is a list.
        func candidates(_ source: Source, _ path: String) -> [Value] {
            guard let found = (source == .grains ? grains : pillar).traverse(path) else { return [] }
            return found.listValue ?? [found]
        }
    }

    /// Most terms a target may expand to (nodegroups naming nodegroups twice
    /// each would otherwise double at every level).
    public static let maximumTerms = 100_000

    struct Parser {
        let nodegroups: [String: Value]
        var usesPillar = false
        var usesMinionData = false
        var terms = 0

        /// Counts one more term of the expanded target.
        mutating func countTerm() throws(BrineError) {
            terms += 1
            guard terms <= Target.maximumTerms else {
                throw BrineError(.usage, "target expands to more than \(Target.maximumTerms) terms",
                                 hint: "check nodegroups that name other nodegroups")
            }
        }

        func checkDepth(_ depth: Int) throws(BrineError) {
            guard depth <= Target.maximumDepth else {
                throw BrineError(.usage, "target nested deeper than \(Target.maximumDepth) levels",
                                 hint: "parentheses, 'not' and nodegroups naming nodegroups all count")
            }
        }

        mutating func parse(_ expression: String, type: String, depth: Int) throws(BrineError) -> Node {
            try checkDepth(depth)
            switch type {
            case "glob": return .word(.glob(expression))
            case "pcre": return .word(.regex(try BoundedRegex(expression)))
            case "list": return .word(Self.list(expression))
            case "grain": return .word(try data(.grains, expression, regex: false))
            case "grain_pcre": return .word(try data(.grains, expression, regex: true))
            case "pillar": return .word(try data(.pillar, expression, regex: false))
            case "pillar_pcre": return .word(try data(.pillar, expression, regex: true))
            case "ipcidr":
                usesMinionData = true
                return .word(Self.ipcidr(expression))
            case "nodegroup": return try nodegroup(expression, depth: depth)
            case "compound": return try compound(expression, depth: depth)
            default:
                throw BrineError(.usage, "unknown target type '\(type)'",
                                 hint: "use glob, pcre, list, grain, grain_pcre, pillar, pillar_pcre, ipcidr, nodegroup or compound")
            }
        }

        static func list(_ expression: String) -> Word {
            .list(Set(expression.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }))
        }

        /// `key:sub:value`: the last part is a glob (or a regex).
        mutating func data(_ source: Source, _ expression: String, regex: Bool) throws(BrineError) -> Word {
            if source == .pillar { usesPillar = true }
            usesMinionData = true
            guard let split = expression.lastIndex(of: ":") else { return .nothing }
            let path = String(expression[..<split])
            let pattern = String(expression[expression.index(after: split)...])
            return regex ? .dataRegex(source, path: path, try BoundedRegex(pattern)) : .data(source, path: path, glob: pattern)
        }

        static func ipcidr(_ target: String) -> Word {
            let parts = target.split(separator: "/")
            guard let network = parts.first.flatMap({ IPv4.parse(String($0)) }) else { return .nothing }
            let bits = parts.count > 1 ? Int(parts[1]) ?? 32 : 32
            guard (0...32).contains(bits) else { return .nothing }
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - UInt32(bits))
            return .ipcidr(network: network & mask, mask: mask)
        }

        mutating func nodegroup(_ name: String, depth: Int) throws(BrineError) -> Node {
            guard let group = nodegroups[name] else { return .word(.nothing) }
            let expression = group.listValue.map { $0.map(\.pythonString).joined(separator: " or ") } ?? group.pythonString
            return try compound(expression, depth: depth + 1)
        }

        // MARK: Compound expressions

        mutating func compound(_ expression: String, depth: Int) throws(BrineError) -> Node {
            var tokens = Self.tokenize(expression)[...]
            let node = try parseOr(&tokens, depth: depth)
            guard tokens.isEmpty else {
                throw BrineError(.usage, "invalid compound target '\(expression.prefix(200))' near '\(tokens.first ?? "")'")
            }
            return node
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

        mutating func parseOr(_ t: inout ArraySlice<String>, depth: Int) throws(BrineError) -> Node {
            var nodes = [try parseAnd(&t, depth: depth)]
            while t.first == "or" {
                t = t.dropFirst()
                nodes.append(try parseAnd(&t, depth: depth))
            }
            return nodes.count == 1 ? nodes[0] : .any(nodes)
        }

        mutating func parseAnd(_ t: inout ArraySlice<String>, depth: Int) throws(BrineError) -> Node {
            var nodes = [try parseNot(&t, depth: depth)]
            while let next = t.first, next != "or", next != ")" {
                if next == "and" { t = t.dropFirst() }
                nodes.append(try parseNot(&t, depth: depth))
            }
            return nodes.count == 1 ? nodes[0] : .all(nodes)
        }

        mutating func parseNot(_ t: inout ArraySlice<String>, depth: Int) throws(BrineError) -> Node {
            try checkDepth(depth)
            if t.first == "not" {
                t = t.dropFirst()
                return .not(try parseNot(&t, depth: depth + 1))
            }
            guard let token = t.popFirst() else { throw BrineError(.usage, "compound target ends too early") }
            if token == "(" {
                let node = try parseOr(&t, depth: depth + 1)
                guard t.popFirst() == ")" else { throw BrineError(.usage, "unbalanced parentheses in compound target") }
                return node
            }
            return try word(token, depth: depth)
        }

        mutating func word(_ token: String, depth: Int) throws(BrineError) -> Node {
            try countTerm()
            guard token.count > 2, token.dropFirst().first == "@" else { return .word(.glob(token)) }
            let body = String(token.dropFirst(2))
            switch token.first {
            case "G": return .word(try data(.grains, body, regex: false))
            case "P": return .word(try data(.grains, body, regex: true))
            case "I": return .word(try data(.pillar, body, regex: false))
            case "J": return .word(try data(.pillar, body, regex: true))
            case "E": return .word(.regex(try BoundedRegex(body)))
            case "L": return .word(Self.list(body))
            case "S":
                usesMinionData = true
                return .word(Self.ipcidr(body))
            case "N": return try nodegroup(body, depth: depth + 1)
            default: throw BrineError(.usage, "unknown compound matcher '\(token.prefix(2))'")
            }
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
