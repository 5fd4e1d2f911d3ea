import BrineCore
import Foundation
import OrderedCollections

/// A monitoring check, with the uptime app's field names (`interval` and
/// `maxTime` in milliseconds, `alertTreshold` spelled as it does) so the
/// seed's tooling reads Brine's API as it read uptime's.
public struct Check: Sendable, Equatable {
    public enum Kind: String, Sendable { case http, https, tcp }

    public var id: String
    public var name: String
    public var type: Kind
    public var url: String
    public var intervalMS: Int
    public var maxTimeMS: Int
    public var alertThreshold: Int
    public var errorCount: Int = 0
    public var tags: [String] = []
    public var isPaused = false
    public var isUp: Bool?
    public var lastChanged: Double?
    public var firstTested: Double?
    public var lastTested: Double?
    public var uptimeMS: Double = 0
    public var downtimeMS: Double = 0
    public var created: Double

    public static let defaultIntervalMS = 60_000
    public static let defaultMaxTimeMS = 1500

    /// The uptime app's check document.
    public var asValue: Value {
        func date(_ t: Double?) -> Value { t.map { .string(Check.isoDate($0)) } ?? .null }
        let total = uptimeMS + downtimeMS
        return [
            "_id": .string(id), "name": .string(name), "type": .string(type.rawValue), "url": .string(url),
            "interval": .int(intervalMS), "maxTime": .int(maxTimeMS), "alertTreshold": .int(alertThreshold),
            "errorCount": .int(errorCount), "tags": .list(tags.map(Value.string)), "isPaused": .bool(isPaused),
            "isUp": isUp.map(Value.bool) ?? .null, "lastChanged": date(lastChanged), "firstTested": date(firstTested),
            "lastTested": date(lastTested), "uptime": .int(Int(uptimeMS)), "downtime": .int(Int(downtimeMS)),
            "qos": total > 0 ? .float((uptimeMS / total * 10000).rounded() / 100) : .null,
        ]
    }

    /// Tags as stored: a JSON list.
    var tagsJSON: String { JSON.encode(.list(tags.map(Value.string)), indent: nil) }

    static func tags(json: String) -> [String] {
        ((try? JSON.decode(json))?.listValue ?? []).compactMap(\.stringValue)
    }

    static func isoDate(_ t: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: t))
    }

    /// A Mongo-style 24-hex id (4 bytes of time, 8 random), like uptime's `_id`.
    static func newID(now: Double) -> String {
        let time = String(format: "%08x", UInt32(truncatingIfNeeded: Int(now)))
        let random = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return time + random
    }

    /// An id `newID` could have made (24 hex digits); ids from a request are checked against it.
    public static func isWellFormedID(_ id: String) -> Bool {
        id.utf8.count == 24 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The kind of check a URL asks for: http://, https://, tcp://host:port.
    static func kind(of url: String) -> Kind? {
        if url.hasPrefix("http://") { return .http }
        if url.hasPrefix("https://") { return .https }
        if url.hasPrefix("tcp://") { return .tcp }
        return nil
    }
}

/// The fields a create or update request may set, as the uptime app reads
/// them from a form or JSON body: `interval` in seconds, `maxTime` in ms,
/// `tags` a list or a comma-separated string.
public struct CheckFields: Sendable, Equatable {
    public var url: String?
    public var name: String?
    public var intervalSeconds: Double?
    public var maxTimeMS: Int?
    public var isPaused: Bool?
    public var alertThreshold: Int?
    public var tags: [String]?
    public var type: String?

    /// A year: a check polled less often than that is not monitoring.
    public static let longestInterval = 365.0 * 86400
    /// A day, in milliseconds.
    public static let longestMaxTimeMS = 86_400_000

    public init() {}

    public init(_ value: Value) throws(BrineError) {
        guard let map = value.mapValue else { throw BrineError(.arguments, "a check must be a JSON object or a form") }
        url = map["url"]?.stringValue
        name = map["name"]?.stringValue
        // Bounded here, at the edge: the store multiplies and converts these.
        if let seconds = try Self.number(map["interval"], "interval") {
            intervalSeconds = try BoundedNumber.double(seconds, field: "interval", in: 0.1...Self.longestInterval)
        }
        if let ms = try Self.number(map["maxTime"], "maxTime") {
            maxTimeMS = try BoundedNumber.int(ms, field: "maxTime", in: 1...Self.longestMaxTimeMS)
        }
        if let threshold = try Self.number(map["alertTreshold"] ?? map["alertThreshold"], "alertTreshold") {
            alertThreshold = try BoundedNumber.int(threshold, field: "alertTreshold", in: 1...1_000_000)
        }
        if let paused = map["isPaused"], !paused.isNull { isPaused = paused.asFlag }
        switch map["tags"] {
        case .string(let s)?: tags = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .list(let items)?: tags = items.map(\.pythonString)
        default: break
        }
        type = map["type"]?.stringValue
        // Control characters (a NUL, which PostgreSQL's text refuses; a line break in the fleet page) are refused here, for both stores.
        for (field, text) in [("url", url), ("name", name), ("type", type)] + (tags ?? []).map({ ("tags", Optional($0)) }) {
            if let text, text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw BrineError(.arguments, "'\(field)' must not contain control characters")
            }
        }
    }

    static func number(_ value: Value?, _ field: String) throws(BrineError) -> Double? {
        switch value {
        case nil, .null?: return nil
        case .int(let i)?: return Double(i)
        case .float(let d)?: return d
        case .string(let s)?:
            guard let d = Double(s) else { throw BrineError(.arguments, "'\(field)' must be a number, not '\(s)'") }
            return d
        default: throw BrineError(.arguments, "'\(field)' must be a number")
        }
    }

    /// What the uptime app accepts as a check's type: `auto` (from the URL)
    /// or the URL's own kind.
    func resolvedKind(for url: String) throws(BrineError) -> Check.Kind {
        guard let kind = Check.kind(of: url) else {
            throw BrineError(.arguments, "'\(url)' is not an http://, https:// or tcp://host:port URL")
        }
        if let type, type != "auto", type != kind.rawValue {
            throw BrineError(.arguments, "type '\(type)' does not match the URL \(url)")
        }
        return kind
    }
}
