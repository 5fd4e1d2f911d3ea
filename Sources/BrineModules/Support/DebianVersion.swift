/// Debian version ordering (dpkg's `verrevcmp`), for `pkg.version_cmp`:
/// epoch as a number, then the upstream version and the revision compared
/// in alternating non-digit and digit runs, `~` before everything, even
/// the end of the string.
public enum DebianVersion {
    /// -1, 0 or 1, as `dpkg --compare-versions` orders them.
    public static func compare(_ a: String, _ b: String, ignoreEpoch: Bool = false) -> Int {
        let left = parts(a), right = parts(b)
        if !ignoreEpoch && left.epoch != right.epoch { return left.epoch < right.epoch ? -1 : 1 }
        let upstream = verrevcmp(left.upstream, right.upstream)
        if upstream != 0 { return upstream < 0 ? -1 : 1 }
        let revision = verrevcmp(left.revision, right.revision)
        return revision == 0 ? 0 : (revision < 0 ? -1 : 1)
    }

    static func parts(_ text: String) -> (epoch: Int, upstream: [UInt8], revision: [UInt8]) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var epoch = 0
        if let colon = rest.firstIndex(of: ":") {
            epoch = Int(rest[..<colon]) ?? 0
            rest = rest[rest.index(after: colon)...]
        }
        var revision: Substring = ""
        if let dash = rest.lastIndex(of: "-") {
            revision = rest[rest.index(after: dash)...]
            rest = rest[..<dash]
        }
        return (epoch, Array(rest.utf8), Array(revision.utf8))
    }

    static func order(_ c: UInt8?) -> Int {
        guard let c else { return 0 }
        if isDigit(c) { return 0 }
        if (c >= 65 && c <= 90) || (c >= 97 && c <= 122) { return Int(c) }
        if c == UInt8(ascii: "~") { return -1 }
        return Int(c) + 256
    }

    static func isDigit(_ c: UInt8?) -> Bool { c.map { $0 >= 48 && $0 <= 57 } ?? false }

    static func verrevcmp(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var i = 0, j = 0
        func at(_ s: [UInt8], _ k: Int) -> UInt8? { k < s.count ? s[k] : nil }
        while i < a.count || j < b.count {
            var firstDiff = 0
            while (i < a.count && !isDigit(at(a, i))) || (j < b.count && !isDigit(at(b, j))) {
                let ac = order(at(a, i)), bc = order(at(b, j))
                if ac != bc { return ac - bc }
                i += 1
                j += 1
            }
            while at(a, i) == UInt8(ascii: "0") { i += 1 }
            while at(b, j) == UInt8(ascii: "0") { j += 1 }
            while isDigit(at(a, i)) && isDigit(at(b, j)) {
                if firstDiff == 0 { firstDiff = Int(a[i]) - Int(b[j]) }
                i += 1
                j += 1
            }
            if isDigit(at(a, i)) { return 1 }
            if isDigit(at(b, j)) { return -1 }
            if firstDiff != 0 { return firstDiff }
        }
        return 0
    }
}
