import Foundation

/// C's `strftime` in the machine's time zone, which is what Python's
/// `datetime.fromtimestamp(...).strftime(...)` and `time.strftime` print.
public enum LocalTime {
    public static func format(_ format: String, _ when: time_t) -> String {
        var moment = when
        var parts = tm()
        guard localtime_r(&moment, &parts) != nil else { return "" }
        return format_(format, &parts)
    }

    /// Formats broken-down time as given (no zone conversion).
    public static func format(_ format: String, year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0,
                              second: Int = 0) -> String {
        var parts = tm()
        parts.tm_year = Int32(clamping: year - 1900)
        parts.tm_mon = Int32(clamping: month - 1)
        parts.tm_mday = Int32(clamping: day)
        parts.tm_hour = Int32(clamping: hour)
        parts.tm_min = Int32(clamping: minute)
        parts.tm_sec = Int32(clamping: second)
        parts.tm_isdst = -1
        var copy = parts
        _ = timegm(&copy)  // fills in the weekday and day of the year
        parts.tm_wday = copy.tm_wday
        parts.tm_yday = copy.tm_yday
        return format_(format, &parts)
    }

    /// A larger buffer when the text does not fit (strftime answers 0).
    private static func format_(_ format: String, _ parts: inout tm) -> String {
        var size = 1024
        while size <= 1 << 20 {
            var buffer = [CChar](repeating: 0, count: size)
            let count = Foundation.strftime(&buffer, buffer.count, format, &parts)
            if count > 0 || format.isEmpty { return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            size *= 8
        }
        return ""
    }
}
