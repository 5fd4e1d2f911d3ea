import BrineCore

/// Python package requirements and versions (PEP 508 names, PEP 440
/// specifiers and ordering), as far as `pip.installed` needs them: which
/// package a line names and whether an installed version satisfies it.
public enum PEP440 {
    /// PEP 503's normal form: runs of `-_.` as one `-`, lower case.
    public static func normalize(_ name: String) -> String {
        var out = ""
        var lastWasSeparator = false
        for ch in name.lowercased() {
            if ch == "-" || ch == "_" || ch == "." {
                if !lastWasSeparator { out.append("-") }
                lastWasSeparator = true
            } else {
                out.append(ch)
                lastWasSeparator = false
            }
        }
        return out
    }

    /// `Django[extra] >= 1.6, <= 1.7 ; python_version > "3"`: the name and
    /// the (operator, version) pairs; nil for a URL or VCS line.
    public static func requirement(_ line: String) -> (name: String, specifiers: [(String, String)])? {
        let text = line.split(separator: ";", maxSplits: 1).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        if text.contains("://") || text.hasPrefix("/") || text.hasPrefix(".") || text.contains("@") { return nil }
        let name = String(text.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
        guard !name.isEmpty else { return nil }
        var rest = text.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { rest = String(rest[rest.index(after: close)...]).trimmingCharacters(in: .whitespaces) }
        if rest.hasPrefix("("), rest.hasSuffix(")") { rest = String(rest.dropFirst().dropLast()) }
        var specifiers: [(String, String)] = []
        for part in rest.split(separator: ",") {
            let clause = part.trimmingCharacters(in: .whitespaces)
            guard !clause.isEmpty else { continue }
            let op = ["===", "~=", "==", "!=", ">=", "<=", ">", "<"].first { clause.hasPrefix($0) } ?? ""
            specifiers.append((op, clause.dropFirst(op.count).trimmingCharacters(in: .whitespaces)))
        }
        return (name, specifiers)
    }

    /// A version as PEP 440 orders it: epoch, release, pre, post, dev.
    struct Version: Comparable {
        var epoch = 0
        var release: [Int] = []
        var pre: (Int, Int)?      // (0 a, 1 b, 2 rc, number)
        var post: Int?
        var dev: Int?
        var isPrerelease: Bool { pre != nil || dev != nil }

        init?(_ text: String) {
            var s = Substring(text.lowercased().trimmingCharacters(in: .whitespaces))
            if s.hasPrefix("v") { s = s.dropFirst() }
            if let bang = s.firstIndex(of: "!") {
                guard let e = Int(s[..<bang]) else { return nil }
                epoch = e
                s = s[s.index(after: bang)...]
            }
            if let plus = s.firstIndex(of: "+") { s = s[..<plus] }  // local versions order as their public part here
            func number(_ from: inout Substring) -> Int? {
                let digits = from.prefix { $0.isASCII && $0.isNumber }
                from = from.dropFirst(digits.count)
                return digits.isEmpty || digits.count > 18 ? nil : Int(digits)
            }
            guard let first = number(&s) else { return nil }
            release = [first]
            while s.hasPrefix("."), let n = { var t = s.dropFirst(); let v = number(&t); if v != nil { s = t }; return v }() { release.append(n) }
            func skipSeparator() { if let c = s.first, "._-".contains(c) { s = s.dropFirst() } }
            for (words, kind) in [(["alpha", "a"], 0), (["beta", "b"], 1), (["rc", "preview", "pre", "c"], 2)] {
                var probe = s
                if let c = probe.first, "._-".contains(c) { probe = probe.dropFirst() }
                if let word = words.first(where: { probe.hasPrefix($0) }) {
                    probe = probe.dropFirst(word.count)
                    if let c = probe.first, "._-".contains(c) { probe = probe.dropFirst() }
                    s = probe
                    pre = (kind, number(&s) ?? 0)
                    break
                }
            }
            var probe = s
            if let c = probe.first, "._-".contains(c) { probe = probe.dropFirst() }
            if let word = ["post", "rev", "r"].first(where: { probe.hasPrefix($0) }) {
                probe = probe.dropFirst(word.count)
                if let c = probe.first, "._-".contains(c) { probe = probe.dropFirst() }
                s = probe
                post = number(&s) ?? 0
            } else if s.hasPrefix("-"), let n = { var t = s.dropFirst(); let v = number(&t); if v != nil { s = t }; return v }() {
                post = n
            }
            skipSeparator()
            if s.hasPrefix("dev") { s = s.dropFirst(3); dev = number(&s) ?? 0 }
            guard s.isEmpty else { return nil }
        }

        static func < (a: Version, b: Version) -> Bool {
            compare(a.releaseKeyed, b.releaseKeyed) < 0
        }
        static func == (a: Version, b: Version) -> Bool { compare(a.releaseKeyed, b.releaseKeyed) == 0 }

        /// Release padded to a common length is compared element by element.
        var releaseKeyed: (Int, [Int], [Int]) {
            let preKey: [Int] = pre.map { [$0.0, $0.1] } ?? (post == nil && dev != nil ? [-1, 0] : [3, 0])
            return (epoch, release, preKey + (post.map { [1, $0] } ?? [0, 0]) + (dev.map { [0, $0] } ?? [1, 0]))
        }

        static func compare(_ a: (Int, [Int], [Int]), _ b: (Int, [Int], [Int])) -> Int {
            if a.0 != b.0 { return a.0 < b.0 ? -1 : 1 }
            let n = max(a.1.count, b.1.count)
            for i in 0..<n {
                let x = i < a.1.count ? a.1[i] : 0, y = i < b.1.count ? b.1[i] : 0
                if x != y { return x < y ? -1 : 1 }
            }
            for (x, y) in zip(a.2, b.2) where x != y { return x < y ? -1 : 1 }
            return 0
        }
    }

    static func sameRelease(_ a: Version, _ b: Version) -> Bool {
        var x = a.release, y = b.release
        while x.count > 1, x.last == 0 { x.removeLast() }
        while y.count > 1, y.last == 0 { y.removeLast() }
        return a.epoch == b.epoch && x == y
    }

    /// Whether `version` satisfies every specifier. A pre-release is
    /// judged like any version, as packaging 26's `SpecifierSet.contains`
    /// (what Salt 3008.4 asks) does by default.
    public static func satisfies(_ version: String, _ specifiers: [(String, String)]) -> Bool {
        guard !specifiers.isEmpty else { return true }
        guard let v = Version(version) else { return specifiers.allSatisfy { $0.0 == "===" && $0.1 == version } }
        return specifiers.allSatisfy { op, target in
            if op == "===" { return version == target }
            if target.hasSuffix(".*"), op == "==" || op == "!=" {
                guard let prefix = Version(String(target.dropLast(2))) else { return false }
                let padded = v.release + Array(repeating: 0, count: max(0, prefix.release.count - v.release.count))
                let matches = v.epoch == prefix.epoch && Array(padded.prefix(prefix.release.count)) == prefix.release
                return op == "==" ? matches : !matches
            }
            guard let t = Version(target) else { return false }
            switch op {
            case "==", "": return v == t
            case "!=": return v != t
            case ">=": return v >= t
            case "<=": return v <= t
            // PEP 440: `>V` excludes V's post-releases, `<V` V's pre-releases
            // (unless V is one itself)
            case ">": return v > t && !(t.post == nil && v.post != nil && sameRelease(v, t))
            case "<": return v < t && !(!t.isPrerelease && v.isPrerelease && sameRelease(v, t))
            case "~=":
                // >= t and the same epoch and release up to t's last part
                guard t.release.count >= 2 else { return false }
                let kept = t.release.count - 1
                let padded = v.release + Array(repeating: 0, count: max(0, kept - v.release.count))
                return v >= t && v.epoch == t.epoch && Array(padded.prefix(kept)) == Array(t.release.prefix(kept))
            default: return false
            }
        }
    }
}
