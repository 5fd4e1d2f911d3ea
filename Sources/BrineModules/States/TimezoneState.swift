import BrineCore

/// Salt's `timezone.system`: the system's time zone, and whether the
/// hardware clock keeps UTC, with Salt's words.
public enum TimezoneState: StateModule {
    public static let name = "timezone"

    public static let functions: [StateFunction] = [
        StateFunction("system", doc: "Set the system's time zone (utc: keep the hardware clock in UTC, default True).",
                      [Parameter("utc", default: true)]) { call in
            try system(call)
        },
    ]

    static func system(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let utc = call["utc"].asFlag
        let matches: Bool
        do { matches = try TimezoneModule.compare(name, call.context) } catch let error as BrineError {
            return .failed(name, "Unable to compare desired timezone '\(name)' to system timezone: \(error.message)")
        }
        // Salt: only "localtime" counts as not UTC (adjtime's LOCAL does not).
        let clockIsUTC = try TimezoneModule.hardwareClock(call.context) != "localtime"
        var ret = StateResult(name: name, result: nil)
        var said: [String] = []
        if matches {
            ret.result = true
            said.append("Timezone \(name) already set")
        }
        let setClock = utc && utc != clockIsUTC
        if setClock { ret.result = nil } else if utc { said.append("UTC already set to \(name)") }
        if ret.result == true {
            ret.comment = said.joined(separator: ", ")
            return ret
        }
        if call.test {
            said = []
            if !matches { said.append("Timezone \(name) needs to be set") }
            if setClock { said.append("UTC needs to be set to \(utc ? "True" : "False")") }
            ret.comment = said.joined(separator: ", ")
            return ret
        }
        said = []
        if !matches {
            do {
                try TimezoneModule.setZone(name, call.context)
                ret.changes["timezone"] = .string(name)
                said.append("Set timezone \(name)")
                ret.result = true
            } catch let error as BrineError {
                said.append("Failed to set timezone: \(error.message)")
                ret.result = false
            }
        }
        if setClock {
            if try TimezoneModule.setHardwareClock("UTC", call.context) {
                ret.changes["utc"] = .bool(utc)
                said.append("Set UTC to True")
                if ret.result != false { ret.result = true }  // Salt overwrites a failed zone's False
            } else {
                said.append("Failed to set UTC to True")
                ret.result = false
            }
        }
        ret.comment = said.joined(separator: ", ")
        return ret
    }
}
