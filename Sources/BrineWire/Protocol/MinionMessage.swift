import BrineCore

/// What a minion sends its master once the handshake is done.
public enum MinionMessage: WireCodable {
    /// First message after admission: who it is and its grains.
    case hello(id: String, grains: Value)
    /// A job's result. Kept by the minion until the master acknowledges it.
    case jobReturn(JobReturn)
    /// A file, a digest, a file list or this minion's pillar; answered by `MasterMessage.reply`.
    case fileRequest(FileRequest)

    public static let knownTypes: Set<String> = ["hello", "return", "request"]

    public var value: Value {
        switch self {
        case .hello(let id, let grains): ["type": "hello", "id": .string(id), "grains": grains]
        case .jobReturn(let jobReturn): jobReturn.fields
        case .fileRequest(let request): request.fields
        }
    }

    public init(value: Value) throws(BrineError) {
        let fields = WireFields(value)
        switch fields.type {
        case "hello": self = .hello(id: try fields.string("id"), grains: value["grains"] ?? .emptyMap)
        case "return": self = .jobReturn(try JobReturn(fields))
        case "request": self = .fileRequest(try FileRequest(fields))
        default: throw fields.unknownType()
        }
    }
}

/// A minion's request to the master's file server or pillar; `rid` pairs it with the reply.
public struct FileRequest: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A file's content (base64), or null when there is no such file.
        case file
        /// A file's digest: the minion keeps its cached copy when it matches.
        case hash
        /// Every file of the environment.
        case list
        /// This minion's pillar, compiled on the master.
        case pillar
        /// Fetch the pillar's repositories again (`saltutil.refresh_pillar`).
        case pillarRefresh
        /// A kind this master does not know (a newer minion's): answered with null.
        case unknown(String)
    }

    public var rid: Int
    public var kind: Kind
    public var path: String
    public var saltenv: String

    public init(rid: Int, kind: Kind, path: String = "", saltenv: String = "base") {
        self.rid = rid
        self.kind = kind
        self.path = path
        self.saltenv = saltenv
    }

    /// On the wire the refresh is kind `pillar` with path `refresh`, as minions have always sent it.
    var fields: Value {
        let (kind, path): (String, String) =
            switch self.kind {
            case .file: ("file", self.path)
            case .hash: ("hash", self.path)
            case .list: ("list", self.path)
            case .pillar: ("pillar", self.path)
            case .pillarRefresh: ("pillar", "refresh")
            case .unknown(let name): (name, self.path)
            }
        return ["type": "request", "rid": .int(rid), "kind": .string(kind), "path": .string(path), "saltenv": .string(saltenv)]
    }

    init(_ fields: WireFields) throws(BrineError) {
        let path = fields.value["path"]?.stringValue ?? ""
        let kind: Kind =
            switch try fields.string("kind") {
            case "file": .file
            case "hash": .hash
            case "list": .list
            case "pillar" where path == "refresh": .pillarRefresh
            case "pillar": .pillar
            case let other: .unknown(other)
            }
        self.init(rid: fields.value["rid"]?.intValue ?? 0, kind: kind, path: kind == .pillarRefresh ? "" : path,
                  saltenv: fields.value["saltenv"]?.stringValue ?? "base")
    }
}
