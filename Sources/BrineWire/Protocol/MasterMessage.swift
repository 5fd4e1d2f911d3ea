import BrineCore

/// What the master sends a minion once the handshake is done.
public enum MasterMessage: WireCodable {
    /// Right after the handshake: whether the minion's key is accepted.
    /// Anything else and the master closes the connection.
    case admission(KeyAdmission)
    /// A job to run.
    case job(Job)
    /// The return for this job is in the job cache: the minion may forget it.
    /// Until then it sends the return again on every new connection (the
    /// master drops duplicates).
    case returnAck(jid: String)
    /// The answer to a `FileRequest`: base64 for a file, a digest, a list
    /// of paths or the pillar; null when there is no such thing.
    case reply(rid: Int, data: Value)

    /// A function to run, and its arguments.
    public struct Job: Sendable, Equatable {
        public var jid: String
        public var fun: String
        public var arguments: CallArguments

        public init(jid: String, fun: String, arguments: CallArguments) {
            self.jid = jid
            self.fun = fun
            self.arguments = arguments
        }
    }

    public static let knownTypes: Set<String> = ["status", "job", "return_ack", "reply"]

    public var value: Value {
        switch self {
        case .admission(let admission): ["type": "status", "status": .string(admission.rawValue)]
        case .job(let job):
            ["type": "job", "jid": .string(job.jid), "fun": .string(job.fun), "arg": .list(job.arguments.positional),
             "kwarg": .map(job.arguments.keyword)]
        case .returnAck(let jid): ["type": "return_ack", "jid": .string(jid)]
        case .reply(let rid, let data): ["type": "reply", "rid": .int(rid), "data": data]
        }
    }

    public init(value: Value) throws(BrineError) {
        let fields = WireFields(value)
        switch fields.type {
        case "status":
            let status = try fields.string("status")
            guard let admission = KeyAdmission(rawValue: status) else {
                throw BrineError(.msgpack, "unknown admission \(status.debugDescription)")
            }
            self = .admission(admission)
        case "job": self = .job(Job(jid: try fields.string("jid"), fun: try fields.string("fun"), arguments: fields.arguments))
        case "return_ack": self = .returnAck(jid: try fields.string("jid"))
        case "reply": self = .reply(rid: value["rid"]?.intValue ?? 0, data: value["data"] ?? .null)
        default: throw fields.unknownType()
        }
    }
}

/// What happened when a minion presented its key.
public enum KeyAdmission: String, Sendable, Equatable, CustomStringConvertible {
    case accepted
    case pending
    case rejected
    /// The id is known with another key: recorded in `minions_denied`.
    case denied

    public var description: String { rawValue }
}
