import BrineCore

/// A client's request to publish a job (the CLI over the master's unix
/// socket; the REST API in process). Untrusted as it arrives: the master's
/// `Publisher` validates every field before anything is sent.
public struct PublishRequest: WireCodable {
    public var target: String
    public var targetType: String
    public var fun: String
    public var arguments: CallArguments
    /// Seconds to wait for returns.
    public var timeout: Double
    /// At most this many minions at once ("10" or "25%"); empty for all.
    public var batch: String

    public init(target: String, targetType: String = "glob", fun: String, arguments: CallArguments = CallArguments(),
                timeout: Double = 5, batch: String = "")
    {
        self.target = target
        self.targetType = targetType
        self.fun = fun
        self.arguments = arguments
        self.timeout = timeout
        self.batch = batch
    }

    public static let knownTypes: Set<String> = ["publish"]

    public var value: Value {
        ["type": "publish", "tgt": .string(target), "tgt_type": .string(targetType), "fun": .string(fun),
         "arg": .list(arguments.positional), "kwarg": .map(arguments.keyword), "timeout": .float(timeout), "batch": .string(batch)]
    }

    public init(value: Value) throws(BrineError) {
        let fields = WireFields(value)
        guard fields.type == "publish" else {
            // Another direction's message is the wrong request; anything else is not a message of ours.
            let otherDirections = MinionMessage.knownTypes.union(MasterMessage.knownTypes).union(JobEvent.knownTypes)
            if let type = fields.type, otherDirections.contains(type) { throw BrineError(.usage, "expected a publish request") }
            throw fields.unknownType()
        }
        self.init(target: try fields.string("tgt"), targetType: value["tgt_type"]?.stringValue ?? "glob", fun: try fields.string("fun"),
                  arguments: fields.arguments, timeout: value["timeout"]?.doubleValue ?? 5, batch: value["batch"]?.pythonString ?? "")
    }
}
