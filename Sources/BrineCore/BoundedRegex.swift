import Foundation

/// A regular expression from a target or an ACL, compiled once and matched
/// within a time budget.
///
/// Targets (`-E`, `E@`, `P@`, `J@`) come from API users and local users; a
/// catastrophic pattern such as `(a+)+$` backtracks exponentially and would
/// hold a master thread for hours. ICU (behind `NSRegularExpression`) calls
/// back periodically during a long match when asked for progress reports;
/// the callback stops the match once the shared `deadline` has passed, and
/// the match fails with an error instead of stalling the master.
public struct BoundedRegex: @unchecked Sendable {
    /// Longest pattern accepted: patterns are typed by people.
    public static let maximumPatternLength = 4096

    public let pattern: String
    // NSRegularExpression is immutable and documented thread-safe; it is not marked Sendable.
    private let regex: NSRegularExpression

    /// - Parameter wholeString: anchor at both ends (ACL rules), else only at the start (Salt's `re.match`).
    public init(_ pattern: String, wholeString: Bool = false) throws(BrineError) {
        guard pattern.utf8.count <= Self.maximumPatternLength else {
            throw BrineError(.usage, "regular expression longer than \(Self.maximumPatternLength) bytes")
        }
        guard let regex = try? NSRegularExpression(pattern: wholeString ? "^(?:\(pattern))$" : pattern) else {
            throw BrineError(.usage, "invalid regular expression '\(pattern)'")
        }
        self.pattern = pattern
        self.regex = regex
    }

    /// Whether `text` matches at its start; throws when the match runs past `deadline`.
    public func matches(_ text: String, deadline: ContinuousClock.Instant) throws(BrineError) -> Bool {
        var found = false
        var expired = false
        let range = NSRange(text.startIndex..., in: text)
        regex.enumerateMatches(in: text, options: [.anchored, .reportProgress], range: range) { result, _, stop in
            if result != nil {
                found = true
                stop.pointee = true
            } else if ContinuousClock.now >= deadline {
                expired = true
                stop.pointee = true
            }
        }
        if expired && !found {
            throw BrineError(.timeout, "the regular expression '\(pattern.prefix(80))' takes too long to match",
                             hint: "simplify it: nested repetition such as (a+)+ backtracks without end")
        }
        return found
    }

    /// The deadline a target's resolution gets by default: one for all the minions it is matched against.
    public static func defaultDeadline() -> ContinuousClock.Instant { .now + .seconds(2) }
}
