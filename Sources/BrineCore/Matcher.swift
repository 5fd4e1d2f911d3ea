/// Decides whether one minion matches a target given as text: top files,
/// pillar tops and ACL rules, which match one minion at a time. The
/// master, which matches one target against many minions, parses a
/// `Target` once instead.
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
        try Target(target, type: type, nodegroups: nodegroups).matches(minionID: minionID, grains: grains, pillar: pillar)
    }

    /// Compound targets: words joined by `and`, `or`, `not` and parentheses;
    /// `X@` prefixes pick the matcher, a bare word is a glob.
    public func compound(_ expression: String) throws(BrineError) -> Bool {
        try matches(expression, type: "compound")
    }
}
