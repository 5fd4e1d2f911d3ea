import BrineCore

/// What the master tells whoever published a job, in order: `published`
/// (or `refused`), each return, then `done` naming every expected minion
/// that did not return. The CLI reads these over the unix socket, the REST
/// API in process: one type for both.
public enum JobEvent: WireCodable {
    /// The job went out to these minions (none: nothing matched, no jid).
    case published(jid: String, minions: [String])
    case returned(JobReturn)
    /// Every expected minion returned, or the timeout passed.
    case done(jid: String, notConnected: [String], noResponse: [String])
    /// Nothing was published.
    case refused(Refusal)

    public static let knownTypes: Set<String> = ["published", "return", "done", "failure"]

    /// The last event of a job.
    public var isFinal: Bool {
        switch self {
        case .done, .refused: true
        case .published(_, let minions): minions.isEmpty
        case .returned: false
        }
    }

    public var value: Value {
        switch self {
        case .published(let jid, let minions): ["type": "published", "jid": .string(jid), "minions": .list(minions.map(Value.string))]
        case .returned(let jobReturn): jobReturn.fields
        case .done(let jid, let notConnected, let noResponse):
            ["type": "done", "jid": .string(jid), "not_connected": .list(notConnected.map(Value.string)),
             "no_response": .list(noResponse.map(Value.string))]
        case .refused(let refusal):
            ["type": "failure", "message": .string(refusal.description), "kind": .string(refusal.kind.rawValue), "reason": .string(refusal.reason)]
        }
    }

    public init(value: Value) throws(BrineError) {
        let fields = WireFields(value)
        switch fields.type {
        case "published": self = .published(jid: try fields.string("jid"), minions: fields.strings("minions"))
        case "return": self = .returned(try JobReturn(fields))
        case "done": self = .done(jid: try fields.string("jid"), notConnected: fields.strings("not_connected"), noResponse: fields.strings("no_response"))
        case "failure":
            // A master without kinds sent only the message: kept whole as the reason.
            let kind = value["kind"]?.stringValue.flatMap(Refusal.Kind.init(rawValue:)) ?? .invalid
            let reason: String
            if let given = value["reason"]?.stringValue { reason = given } else { reason = try fields.string("message") }
            self = .refused(Refusal(kind, reason))
        default: throw fields.unknownType()
        }
    }
}

/// Why a job was not published. Typed, so a client decides on `kind`, never by matching text.
public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The caller's ACL (publisher_acl, eauth) does not allow it.
        case notAuthorised = "not_authorised"
        /// The request itself is wrong: target, timeout, batch size.
        case invalid
        /// The request could not be read at all.
        case malformed
    }

    public var kind: Kind
    /// Said once, without the kind's prefix.
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    /// What a user reads: the ACL's refusals start with "not authorised: ".
    public var description: String {
        switch kind {
        case .notAuthorised: "not authorised: \(reason)"
        case .invalid: reason
        case .malformed: "malformed request: \(reason)"
        }
    }
}
