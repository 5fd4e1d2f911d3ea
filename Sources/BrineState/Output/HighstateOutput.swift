import BrineCore
import Foundation
import OrderedCollections

/// Salt's `highstate` outputter: one block per state in run order, then
/// the summary (`Succeeded: N (changed=M)`, `Failed`, totals). The layout
/// follows Salt 3008 to the character, colours included.
public struct HighstateOutput: Sendable {
    public var colors: Colors
    /// `full`, `terse`, `mixed`, `changes`, and their `_id` forms.
    public var stateOutput: String
    /// False hides states that succeeded without changes.
    public var verbose: Bool

    public init(colors: Colors = .none, stateOutput: String = "full", verbose: Bool = true) {
        self.colors = colors
        self.stateOutput = stateOutput.lowercased()
        self.verbose = verbose
    }

    /// `{minion: returns}` for every minion, separated by newlines.
    public func render(_ data: Value) -> String {
        guard case .map(let hosts) = data else { return NestedOutput(colors: colors).render(data) }
        return hosts.map { format(host: $0.key, $0.value) }.joined(separator: "\n")
    }

    func format(host: String, _ data: Value) -> String {
        var lines: [String] = []
        var hostColor = colors.green
        let c = colors
        switch data {
        case .list(let errors):
            hostColor = c.lightRed
            lines.append("    \(hostColor)Data failed to compile:\(c.endc)")
            for error in errors { lines.append("\(hostColor)----------\n    \(error.pythonString)\(c.endc)") }
        case .string(let s):
            for line in s.split(separator: "\n", omittingEmptySubsequences: false) { lines.append("\(hostColor)    \(line)\(c.endc)") }
            hostColor = c.cyan
        case .map(let returns):
            var counts: [String: Int] = [:]
            var durations = 0.0
            var changed = 0
            let ordered = returns.filter { $0.value["result"] != nil }
                .sorted { ($0.value["__run_num__"]?.intValue ?? 0) < ($1.value["__run_num__"]?.intValue ?? 0) }
            for (tag, ret) in ordered {
                let result = ret["result"] ?? .null
                let key = result == .bool(true) ? "true" : result == .bool(false) ? "false" : "none"
                counts[key, default: 0] += 1
                durations += ret["duration"]?.doubleValue ?? 0
                let changes = ret["changes"] ?? .emptyMap
                let hasChanges = changes.mapValue.map { !$0.isEmpty } ?? !changes.isNull
                if hasChanges { changed += 1 }
                if !verbose && result == .bool(true) && !hasChanges { continue }
                var color = hasChanges ? c.cyan : c.green
                if result == .bool(false) { hostColor = c.red; color = c.red }
                if result == .null { hostColor = c.lightYellow; color = c.lightYellow }
                var comps = tag.components(separatedBy: "_|-")
                while comps.count < 4 { comps.append("") }
                if stateOutput.hasSuffix("_id") { comps[2] = comps[1] }
                let mode = stateOutput.replacingOccurrences(of: "_id", with: "")
                let terse = mode == "terse" || (mode == "mixed" && result != .bool(false))
                    || (mode == "changes" && result == .bool(true) && !hasChanges)
                if terse {
                    lines.append(self.terse(color, comps, ret, hasChanges: hasChanges))
                    continue
                }
                lines.append("\(color)----------\(c.endc)")
                lines.append("    \(color)      ID: \(comps[1])\(c.endc)")
                lines.append("    \(color)Function: \(comps[0]).\(comps[3])\(c.endc)")
                if comps[1] != comps[2] { lines.append("    \(color)    Name: \(comps[2])\(c.endc)") }
                lines.append("    \(color)  Result: \(result.pythonString)\(c.endc)")
                let comment = (ret["comment"]?.pythonString ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                    .replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: 14))
                lines.append("    \(color) Comment: \(comment)\(c.endc)")
                if let start = ret["start_time"] {
                    lines.append("    \(color) Started: \(start.pythonString)\(c.endc)")
                    lines.append("    \(color)Duration: \(ret["duration"].map { Self.number($0) } ?? "") ms\(c.endc)")
                }
                var changeText = ""
                if hasChanges {
                    changeText = "\n" + NestedOutput(colors: colors).render(changes, indent: 14)
                }
                lines.append("\(color)     Changes:   \(changeText)\(c.endc)")
            }
            lines += summary(host: host, counts: counts, changed: changed, durations: durations)
        default:
            lines.append(NestedOutput(colors: colors).render(data, indent: 4))
        }
        lines.insert("\(hostColor)\(host):\(c.endc)", at: 0)
        return lines.joined(separator: "\n")
    }

    func terse(_ color: String, _ comps: [String], _ ret: Value, hasChanges: Bool) -> String {
        var result = hasChanges ? "Changed" : "Clean"
        if ret["result"] == .bool(false) { result = "Failed" } else if ret["result"] == .null { result = "Differs" }
        var text = "\(color)  Name: \(comps[2]) - Function: \(comps[0]).\(comps[3]) - Result: \(result)"
        if let start = ret["start_time"] {
            text += " - Started: \(start.pythonString) - Duration: \(ret["duration"].map { Self.number($0) } ?? "") ms"
        }
        return text + colors.endc
    }

    func summary(host: String, counts: [String: Int], changed: Int, durations: Double) -> [String] {
        let c = colors
        let countWidth = counts.values.map { String($0).count }.max() ?? 0
        let labelWidth = 9
        let width = labelWidth + countWidth + 2
        func line(_ label: String, _ count: Int) -> String {
            let number = String(count)
            let pad = max(0, width - (label.count + 2) - number.count)
            return "\(label): \(String(repeating: " ", count: pad))\(number)"
        }
        var lines: [String] = []
        lines.append("\(c.cyan)\nSummary for \(host)\n\(String(repeating: "-", count: width))\(c.endc)")
        var stats: [String] = []
        if let unchanged = counts["none"], unchanged > 0 { stats.append("\(c.lightYellow)unchanged=\(unchanged)\(c.endc)") }
        if changed > 0 { stats.append("\(c.green)changed=\(changed)\(c.endc)") }
        let statText = stats.isEmpty ? "" : " (\(stats.joined(separator: ", ")))"
        lines.append("\(c.green)\(line("Succeeded", (counts["true"] ?? 0) + (counts["none"] ?? 0)))\(c.endc)\(statText)")
        let failed = counts["false"] ?? 0
        lines.append("\(failed > 0 ? c.red : c.cyan)\(line("Failed", failed))\(c.endc)")
        let total = counts.values.reduce(0, +)
        let totalText = String(total)
        let totalPad = max(0, width - 7 - totalText.count)
        lines.append("\(c.cyan)\(String(repeating: "-", count: width))\nTotal states run: \(String(repeating: " ", count: totalPad))\(totalText)\(c.endc)")
        var duration = durations
        var unit = "ms"
        if duration > 999 { duration /= 1000; unit = "s" }
        let formatted = String(format: "%.3f", duration)
        let runPad = max(0, width - 5 - formatted.count)
        lines.append("\(c.cyan)Total run time: \(String(repeating: " ", count: runPad))\(formatted) \(unit)\(c.endc)")
        return lines
    }

    static func number(_ value: Value) -> String {
        guard let d = value.doubleValue else { return value.pythonString }
        return Value.pythonFloat(d)
    }
}
