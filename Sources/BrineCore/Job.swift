import Foundation
import OrderedCollections

/// Salt's job id: the publish time as `YYYYmmddHHMMSSffffff` (20 digits).
public enum JID {
    public static func make(_ date: Date = Date()) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let micros = Int((date.timeIntervalSince1970 - Double(seconds)) * 1_000_000)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return pad(Int(parts.tm_year) + 1900, 4) + pad(Int(parts.tm_mon) + 1, 2) + pad(Int(parts.tm_mday), 2)
            + pad(Int(parts.tm_hour), 2) + pad(Int(parts.tm_min), 2) + pad(Int(parts.tm_sec), 2) + pad(micros, 6)
    }
}

/// Why a targeted minion has no return, in Salt's words (`salt` prints
/// these as the minion's value; the CLI, its JSON and the REST API alike).
public enum MissingReturn: String, Sendable {
    case notConnected = "Not connected"
    case noResponse = "No response"

    public func message(jid: String) -> String {
        "Minion did not return. [\(rawValue)]\nThe minions may not have all finished running and any remaining minions will return upon completion. To look up the return data for this job later, run the following command:\n\nbrine jobs show \(jid)"
    }
}

/// Messages between master, minions and the CLI, carried as msgpack maps
/// with a `type` key. Unknown or malformed messages are errors, never
/// crashes: they arrive from the network.
public enum WireMessage: Sendable, Equatable {
    /// Minion → master, first message after the handshake is accepted.
    case hello(id: String, grains: Value)
    /// Master → minion right after the handshake.
    case status(String)
    /// Master → minion.
    case job(jid: String, fun: String, arguments: CallArguments)
    /// Minion → master.
    case jobReturn(jid: String, id: String, value: Value, retcode: Int)
    /// Master → minion: the return for this job is in the job cache. A
    /// minion keeps each return until it hears this, and sends it again
    /// after a reconnect (the master drops duplicates).
    case returnAck(jid: String)
    /// CLI → master.
    /// `batch`: at most this many minions at once ("10" or "25%"), empty for all.
    case publish(target: String, targetType: String, fun: String, arguments: CallArguments, timeout: Double, batch: String)
    /// Master → CLI: the job was published to these minions.
    case published(jid: String, minions: [String])
    /// Master → CLI: every expected minion returned or the timeout passed.
    case done(jid: String, notConnected: [String], noResponse: [String])
    /// Master → CLI: the request was refused.
    case failure(String)
    /// Minion → master: a request for a file, a file list or this minion's
    /// pillar; `rid` pairs it with the reply.
    case request(rid: Int, kind: String, path: String, saltenv: String)
    /// Master → minion: the answer (`data` is base64 for files, the list
    /// of paths, or the pillar; null when there is no such file).
    case reply(rid: Int, data: Value)

    public var value: Value {
        switch self {
        case .hello(let id, let grains): ["type": "hello", "id": .string(id), "grains": grains]
        case .status(let s): ["type": "status", "status": .string(s)]
        case .job(let jid, let fun, let args):
            ["type": "job", "jid": .string(jid), "fun": .string(fun), "arg": .list(args.positional), "kwarg": .map(args.keyword)]
        case .jobReturn(let jid, let id, let value, let retcode):
            ["type": "return", "jid": .string(jid), "id": .string(id), "return": value, "retcode": .int(retcode)]
        case .returnAck(let jid): ["type": "return_ack", "jid": .string(jid)]
        case .publish(let target, let type, let fun, let args, let timeout, let batch):
            ["type": "publish", "tgt": .string(target), "tgt_type": .string(type), "fun": .string(fun),
             "arg": .list(args.positional), "kwarg": .map(args.keyword), "timeout": .float(timeout), "batch": .string(batch)]
        case .published(let jid, let minions): ["type": "published", "jid": .string(jid), "minions": .list(minions.map(Value.string))]
        case .done(let jid, let notConnected, let noResponse):
            ["type": "done", "jid": .string(jid), "not_connected": .list(notConnected.map(Value.string)),
             "no_response": .list(noResponse.map(Value.string))]
        case .failure(let message): ["type": "failure", "message": .string(message)]
        case .request(let rid, let kind, let path, let saltenv):
            ["type": "request", "rid": .int(rid), "kind": .string(kind), "path": .string(path), "saltenv": .string(saltenv)]
        case .reply(let rid, let data): ["type": "reply", "rid": .int(rid), "data": data]
        }
    }

    public func encoded() -> [UInt8] { MessagePack.encode(value) }

    public static func decode(_ bytes: [UInt8]) throws(BrineError) -> WireMessage {
        try decode(value: try MessagePack.decode(bytes))
    }

    /// The message, or nil when its type is one this build does not know (a
    /// newer peer's): the receiver skips it instead of dropping the connection.
    /// Malformed messages of a known type are still errors.
    public static func decodeKnown(_ bytes: [UInt8]) throws(BrineError) -> WireMessage? {
        let v = try MessagePack.decode(bytes)
        guard let type = v["type"]?.stringValue, knownTypes.contains(type) else { return nil }
        return try decode(value: v)
    }

    static let knownTypes: Set<String> = ["hello", "status", "job", "return", "return_ack", "publish", "published", "done", "failure",
                                          "request", "reply"]

    static func decode(value v: Value) throws(BrineError) -> WireMessage {
        func s(_ key: String) throws(BrineError) -> String {
            guard let text = v[key]?.stringValue else { throw BrineError(.msgpack, "message without '\(key)'") }
            return text
        }
        func args() -> CallArguments {
            CallArguments(positional: v["arg"]?.listValue ?? [], keyword: v["kwarg"]?.mapValue ?? [:])
        }
        switch v["type"]?.stringValue {
        case "hello": return .hello(id: try s("id"), grains: v["grains"] ?? .emptyMap)
        case "status": return .status(try s("status"))
        case "job": return .job(jid: try s("jid"), fun: try s("fun"), arguments: args())
        case "return": return .jobReturn(jid: try s("jid"), id: try s("id"), value: v["return"] ?? .null, retcode: v["retcode"]?.intValue ?? 0)
        case "return_ack": return .returnAck(jid: try s("jid"))
        case "publish":
            return .publish(target: try s("tgt"), targetType: v["tgt_type"]?.stringValue ?? "glob", fun: try s("fun"),
                            arguments: args(), timeout: v["timeout"]?.doubleValue ?? 5, batch: v["batch"]?.pythonString ?? "")
        case "published": return .published(jid: try s("jid"), minions: (v["minions"]?.listValue ?? []).compactMap(\.stringValue))
        case "done":
            return .done(jid: try s("jid"), notConnected: (v["not_connected"]?.listValue ?? []).compactMap(\.stringValue),
                         noResponse: (v["no_response"]?.listValue ?? []).compactMap(\.stringValue))
        case "failure": return .failure(try s("message"))
        case "request":
            return .request(rid: v["rid"]?.intValue ?? 0, kind: try s("kind"), path: v["path"]?.stringValue ?? "",
                            saltenv: v["saltenv"]?.stringValue ?? "base")
        case "reply": return .reply(rid: v["rid"]?.intValue ?? 0, data: v["data"] ?? .null)
        default: throw BrineError(.msgpack, "unknown message type \(v["type"]?.pythonRepr ?? "None")")
        }
    }
}
