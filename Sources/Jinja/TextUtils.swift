/// Byte-level substring helpers. Python compares strings by code point, so
/// matching UTF-8 bytes is both faster than Foundation's
/// `replacingOccurrences` and closer to Python (no Unicode normalisation).
enum TextUtils {
    /// Index of the first occurrence of `needle` in `hay` at or after `from`.
    @inline(__always)
    static func find(_ hay: [UInt8], _ needle: [UInt8], from: Int = 0) -> Int? {
        let n = needle.count, h = hay.count
        guard n > 0, h - from >= n, let first = needle.first else { return n == 0 ? from : nil }
        var i = from
        let last = h - n
        while i <= last {
            if hay[i] == first {
                var j = 1
                while j < n && hay[i + j] == needle[j] { j += 1 }
                if j == n { return i }
            }
            i += 1
        }
        return nil
    }

    /// Python `str.replace(old, new, count)` for non-empty `old`.
    static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
        let hay = Array(s.utf8), needle = Array(old.utf8)
        guard !needle.isEmpty, var at = find(hay, needle) else { return s }
        let rep = Array(new.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(hay.count + max(0, rep.count - needle.count) * 4)
        var start = 0
        var n = 0
        while count < 0 || n < count {
            out.append(contentsOf: hay[start..<at])
            out.append(contentsOf: rep)
            start = at + needle.count
            n += 1
            guard let next = find(hay, needle, from: start) else { break }
            at = next
        }
        out.append(contentsOf: hay[start...])
        return String(decoding: out, as: UTF8.self)
    }

    /// Python `str.count(sub)` for non-empty `sub` (non-overlapping).
    static func count(_ s: String, _ sub: String) -> Int {
        let hay = Array(s.utf8), needle = Array(sub.utf8)
        var n = 0
        var from = 0
        while let at = find(hay, needle, from: from) { n += 1; from = at + needle.count }
        return n
    }

    /// Removes every `_` (numeric literals with separators).
    static func dropUnderscores(_ s: String) -> String {
        s.contains("_") ? String(s.filter { $0 != "_" }) : s
    }
}
