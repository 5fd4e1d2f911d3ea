/// Byte-level substring helpers. Python compares strings by code point, so
/// matching UTF-8 bytes is both faster than Foundation's
/// `replacingOccurrences` and closer to Python (no Unicode normalisation).
enum TextUtils {
    /// Index of the first occurrence of `needle` in `hay` at or after `from`.
    @inline(__always)
    static func find<H: RandomAccessCollection<UInt8>, N: RandomAccessCollection<UInt8>>(_ hay: H, _ needle: N, from: Int = 0) -> Int?
    where H.Index == Int, N.Index == Int {
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

    /// Python `str.replace(old, new, count)` for non-empty `old`, on the
    /// strings' UTF-8 storage in place: one pass counts the matches, a
    /// second writes the result straight into the new string's storage
    /// (no byte arrays; results of up to 15 bytes allocate nothing).
    static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
        var text = s, old = old, new = new
        return text.withUTF8 { hay in
            old.withUTF8 { needle in
                guard !needle.isEmpty, let first = find(hay, needle) else { return s }
                var matches = 0
                var at: Int? = first
                while let i = at, count < 0 || matches < count {
                    matches += 1
                    at = find(hay, needle, from: i + needle.count)
                }
                return new.withUTF8 { rep in
                    let size = hay.count + matches * (rep.count - needle.count)
                    return String(unsafeUninitializedCapacity: size) { out in
                        var w = 0, start = 0
                        var next: Int? = first
                        func copy(_ src: UnsafeBufferPointer<UInt8>) {
                            for b in src { out[w] = b; w += 1 }
                        }
                        for _ in 0..<matches {
                            guard let i = next else { break }
                            copy(UnsafeBufferPointer(rebasing: hay[start..<i]))
                            copy(rep)
                            start = i + needle.count
                            next = find(hay, needle, from: start)
                        }
                        copy(UnsafeBufferPointer(rebasing: hay[start...]))
                        return w
                    }
                }
            }
        }
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

extension TextUtils {
    /// `String(i)` without the generic `description` path (a quarter of a
    /// loop that prints numbers went there): digits written into a small
    /// string's buffer.
    static func decimal(_ i: Int) -> String {
        if i >= 0 && i < 10 { return digitStrings[i] }
        // at most 15 bytes make a small string: no allocation
        return withDecimal(i.magnitude, sign: i < 0 ? 45 : nil) { String(decoding: $0, as: UTF8.self) }
    }

    /// The decimal digits of `magnitude`, after `sign` (an ASCII byte) if
    /// given, in scratch memory on the stack.
    @inline(__always)
    static func withDecimal<R>(_ magnitude: UInt, sign: UInt8? = nil, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &scratch) { digits in
            var m = magnitude
            var start = 24
            repeat {
                start -= 1
                digits[start] = UInt8(truncatingIfNeeded: m % 10) &+ 48
                m /= 10
            } while m != 0
            if let sign { start -= 1; digits[start] = sign }
            return body(UnsafeRawBufferPointer(rebasing: digits[start...]))
        }
    }

    static let digitStrings: [String] = (0..<10).map { String($0) }
}

extension TextUtils {
    /// Python's `a < b` for strings: code point order, which is the byte
    /// order of their UTF-8 (no Unicode canonical ordering as Swift's `<`).
    static func utf8Less(_ a: String, _ b: String) -> Bool { utf8Compare(a, b) < 0 }

    /// -1, 0 or 1 as `a`'s UTF-8 bytes sort before, equal or after `b`'s.
    static func utf8Compare(_ a: String, _ b: String) -> Int {
        let r: Int? = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in compare(x, y) }
        } ?? nil
        return r ?? compare(Array(a.utf8), Array(b.utf8))
    }

    private static func compare<X: RandomAccessCollection<UInt8>, Y: RandomAccessCollection<UInt8>>(_ x: X, _ y: Y) -> Int
    where X.Index == Int, Y.Index == Int {
        let n = Swift.min(x.count, y.count)
        var i = 0
        while i < n {
            let p = x[x.startIndex + i], q = y[y.startIndex + i]
            if p != q { return p < q ? -1 : 1 }
            i += 1
        }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }
}

extension Array where Element == UInt8 {
    /// Appends a string's UTF-8, copied from its storage in one go.
    @inline(__always) mutating func appendUTF8(_ s: String) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { append(contentsOf: $0) }
        if done == nil { append(contentsOf: s.utf8) }
    }
}
