/// Shell-style pattern matching as Python's `fnmatch.fnmatchcase`:
/// `*`, `?`, `[seq]`, `[!seq]`. Used for minion targets, key globs and
/// `grains.filter_by`.
public enum Glob {
    public static func match(_ text: String, _ pattern: String) -> Bool {
        let t = Array(text.unicodeScalars)
        let p = Array(pattern.unicodeScalars)
        var ti = 0, pi = 0
        var starP = -1, starT = 0
        while ti < t.count {
            if pi < p.count {
                switch p[pi] {
                case "*":
                    starP = pi
                    starT = ti
                    pi += 1
                    continue
                case "?":
                    ti += 1
                    pi += 1
                    continue
                case "[":
                    if let (matched, next) = matchClass(t[ti], p, pi) {
                        if matched {
                            ti += 1
                            pi = next
                            continue
                        }
                    } else if t[ti] == "[" {
                        ti += 1
                        pi += 1
                        continue
                    }
                default:
                    if p[pi] == t[ti] {
                        ti += 1
                        pi += 1
                        continue
                    }
                }
            }
            guard starP >= 0 else { return false }
            starT += 1
            ti = starT
            pi = starP + 1
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Whether `pattern` has any glob characters (so it is not a plain name).
    public static func isPattern(_ pattern: String) -> Bool {
        pattern.contains { "*?[".contains($0) }
    }

    /// `[...]` at `start`: whether `ch` is in the class, and the index after
    /// it; nil when the bracket is not closed (then it is a literal `[`).
    private static func matchClass(_ ch: Unicode.Scalar, _ p: [Unicode.Scalar], _ start: Int) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < p.count, p[i] == "!" {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < p.count {
            if p[i] == "]" && !first { return (matched != negate, i + 1) }
            first = false
            if i + 2 < p.count, p[i + 1] == "-", p[i + 2] != "]" {
                if p[i].value <= ch.value && ch.value <= p[i + 2].value { matched = true }
                i += 3
            } else {
                if p[i] == ch { matched = true }
                i += 1
            }
        }
        return nil
    }
}
