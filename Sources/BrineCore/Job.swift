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
