import BrineCore

/// One minion's answer to one job: what it sends the master, and what the
/// master passes on to whoever published the job.
public struct JobReturn: Sendable, Equatable {
    public var jid: String
    /// The minion. On the master this is always the authenticated id, never what a minion claims.
    public var id: String
    public var value: Value
    public var retcode: Int

    public init(jid: String, id: String, value: Value, retcode: Int) {
        self.jid = jid
        self.id = id
        self.value = value
        self.retcode = retcode
    }

    var fields: Value {
        ["type": "return", "jid": .string(jid), "id": .string(id), "return": value, "retcode": .int(retcode)]
    }

    init(_ fields: WireFields) throws(BrineError) {
        self.init(jid: try fields.string("jid"), id: try fields.string("id"), value: fields.value["return"] ?? .null,
                  retcode: fields.value["retcode"]?.intValue ?? 0)
    }
}
