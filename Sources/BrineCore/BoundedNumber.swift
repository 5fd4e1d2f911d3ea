/// Numbers that arrive in requests (HTTP bodies, the CLI socket, the wire),
/// checked before they are used.
///
/// Swift traps on `Int(Double.nan)`, `Int(1e300)` and `UInt64(-1.0)`; a
/// number a stranger sent must never reach those conversions. Every edge
/// that reads a number from a request goes through here: NaN, infinities
/// and values outside the range the caller can use are refused with an
/// error that names the field, and the daemon answers 4xx instead of dying.
public enum BoundedNumber {
    /// A finite `value` inside `range`, else an error naming `field`.
    public static func double(_ value: Double, field: String, in range: ClosedRange<Double>) throws(BrineError) -> Double {
        guard value.isFinite else { throw BrineError(.arguments, "'\(field)' must be a finite number, not \(value)") }
        guard range.contains(value) else {
            throw BrineError(.arguments, "'\(field)' must be between \(format(range.lowerBound)) and \(format(range.upperBound)), not \(format(value))")
        }
        return value
    }

    /// `value` rounded toward zero, when it is finite and the result lies in `range`.
    public static func int(_ value: Double, field: String, in range: ClosedRange<Int>) throws(BrineError) -> Int {
        guard value.isFinite else { throw BrineError(.arguments, "'\(field)' must be a finite number, not \(value)") }
        // Compared as doubles first: only then is the conversion known not to trap.
        guard value >= Double(range.lowerBound), value <= Double(range.upperBound), let exact = Int(exactly: value.rounded(.towardZero)),
            range.contains(exact)
        else {
            throw BrineError(.arguments, "'\(field)' must be between \(range.lowerBound) and \(range.upperBound), not \(format(value))")
        }
        return exact
    }

    /// Seconds as nanoseconds for `Task.sleep`, for a duration already checked to be finite and not negative.
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        // 2^63 ns is about 292 years: anything longer is "forever" for a daemon.
        let limit = 9.0e18
        return UInt64(min(seconds * 1e9, limit))
    }

    static func format(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
