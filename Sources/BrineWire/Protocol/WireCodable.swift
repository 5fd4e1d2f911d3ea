import BrineCore

/// One direction of Brine's protocol: each message a msgpack map whose
/// `type` key names its case.
///
/// The four directions have their own types (`MinionMessage`,
/// `MasterMessage`, `PublishRequest`, `JobEvent`), so a receiver can only
/// be handed what its peer may send. Decoding is the edge: what arrives from
/// the network is checked here, and a malformed message is a `BrineError`,
/// never a trap.
public protocol WireCodable: Sendable, Equatable {
    /// The `type` values this direction carries.
    static var knownTypes: Set<String> { get }
    /// The message as the map that goes on the wire.
    var value: Value { get }
    /// Reads a message; throws when it is not one of this direction's.
    init(value: Value) throws(BrineError)
}

extension WireCodable {
    public func encoded() -> [UInt8] { MessagePack.encode(value) }

    public static func decode(_ bytes: [UInt8]) throws(BrineError) -> Self {
        try Self(value: try MessagePack.decode(bytes))
    }

    /// The message, or nil when its type is one this build does not know (a
    /// newer peer's): the receiver skips it instead of dropping the
    /// connection. A malformed message of a known type is still an error.
    public static func decodeKnown(_ bytes: [UInt8]) throws(BrineError) -> Self? {
        let value = try MessagePack.decode(bytes)
        guard let type = value["type"]?.stringValue, knownTypes.contains(type) else { return nil }
        return try Self(value: value)
    }
}

/// The fields of a received message, read with the errors a peer deserves.
struct WireFields {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }

    var type: String? { value["type"]?.stringValue }

    func string(_ key: String) throws(BrineError) -> String {
        guard let text = value[key]?.stringValue else { throw BrineError(.msgpack, "message without '\(key)'") }
        return text
    }

    func strings(_ key: String) -> [String] {
        (value[key]?.listValue ?? []).compactMap(\.stringValue)
    }

    var arguments: CallArguments {
        CallArguments(positional: value["arg"]?.listValue ?? [], keyword: value["kwarg"]?.mapValue ?? [:])
    }

    func unknownType() -> BrineError {
        BrineError(.msgpack, "unknown message type \(value["type"]?.pythonRepr ?? "None")")
    }
}
