import BrineCore
import Foundation

/// POSIX shell-word splitting as Python's `shlex.split` does it, used when
/// a command runs without a shell (`python_shell=False`).
public enum Shlex {
    public static func split(_ line: String) throws(BrineError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var escaped = false
        for ch in line {
            if escaped {
                if quote == "\"" && !"\\\"$`\n".contains(ch) { current.append("\\") }
                if ch != "\n" || quote != nil { current.append(ch) }
                escaped = false
                inWord = true
                continue
            }
            switch (quote, ch) {
            case (nil, "\\"), ("\"", "\\"):
                escaped = true
            case (nil, "'"), (nil, "\""):
                quote = ch
                inWord = true
            case ("'", "'"), ("\"", "\""):
                quote = nil
            case (nil, " "), (nil, "\t"), (nil, "\n"):
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(ch)
                inWord = true
            }
        }
        if quote != nil { throw BrineError(.arguments, "No closing quotation in command: \(line)") }
        if escaped { throw BrineError(.arguments, "No escaped character in command: \(line)") }
        if inWord { words.append(current) }
        return words
    }

    /// Quotes one word for a POSIX shell (`shlex.quote`).
    public static func quote(_ word: String) -> String {
        if word.isEmpty { return "''" }
        let safe = word.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "@%+=:,./-_".unicodeScalars.contains($0)
        }
        return safe ? word : "'" + word.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
    }
}
