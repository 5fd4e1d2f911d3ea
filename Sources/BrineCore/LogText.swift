/// Text from strangers (minion ids, user names, functions, error messages
/// that quote them) made safe to write into a log line.
///
/// A log is read by people and by tools that split on newlines: a newline,
/// an escape sequence or a NUL in a minion id would forge or hide lines, and
/// bidirectional overrides would make a line read differently than it is.
/// Everything that is not printable is written as `\u{…}`, and long text is
/// cut (with its length said).
public enum LogText {
    public static let maximumLength = 512

    public static func escape(_ text: String) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == maximumLength {
                out += "…(\(text.unicodeScalars.count) characters)"
                break
            }
            count += 1
            if isSafe(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            }
        }
        return out
    }

    /// Printable, not a control, format (bidi, zero-width) or separator character other than a space.
    public static func isSafe(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        if scalar == "\\" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .surrogate, .privateUse, .unassigned:
            return false
        default:
            return true
        }
    }
}
