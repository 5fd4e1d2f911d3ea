/// Line diffs in unified format, as Python's `difflib.unified_diff` prints
/// them (Salt shows these for `file.replace` and `file.managed`).
public enum Diff {
    /// Lines keep their line endings, like Python's `readlines()`.
    public static func lines(_ text: String) -> [Substring] {
        var result: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if text[index] == "\n" {
                result.append(text[start..<next])
                start = next
            }
            index = next
        }
        if start < text.endIndex { result.append(text[start...]) }
        return result
    }

    public static func unified(_ old: String, _ new: String, fromFile: String = "", toFile: String = "",
                               context: Int = 3) -> String
    {
        let a = lines(old), b = lines(new)
        let ops = script(a, b)
        guard ops.contains(where: { $0.kind != .equal }) else { return "" }
        var out = "--- \(fromFile)\n+++ \(toFile)\n"
        for hunk in hunks(ops, context: context) {
            // Where each side's lines start: a hunk opening with deletions
            // starts the new side at its first line that is not deleted.
            let aStart = (hunk.first { $0.kind != .insert } ?? hunk.first)?.aIndex ?? 0
            let bStart = (hunk.first { $0.kind != .delete } ?? hunk.first)?.bIndex ?? 0
            let aCount = hunk.filter { $0.kind != .insert }.count
            let bCount = hunk.filter { $0.kind != .delete }.count
            out += "@@ -\(range(aStart, aCount)) +\(range(bStart, bCount)) @@\n"
            for op in hunk {
                switch op.kind {
                case .equal: out += " " + terminated(a[op.aIndex])
                case .delete: out += "-" + terminated(a[op.aIndex])
                case .insert: out += "+" + terminated(b[op.bIndex])
                }
            }
        }
        return out
    }

    private static func terminated(_ line: Substring) -> String {
        line.hasSuffix("\n") ? String(line) : String(line) + "\n\\ No newline at end of file\n"
    }

    private static func range(_ start: Int, _ count: Int) -> String {
        let first = count == 0 ? start : start + 1
        return count == 1 ? "\(first)" : "\(first),\(count)"
    }

    struct Op {
        enum Kind { case equal, delete, insert }
        var kind: Kind
        var aIndex: Int
        var bIndex: Int
    }

    /// An edit script by longest common subsequence over the lines that
    /// differ (common head and tail are trimmed first, so typical config
    /// edits stay cheap).
    static func script(_ a: [Substring], _ b: [Substring]) -> [Op] {
        var head = 0
        while head < a.count, head < b.count, a[head] == b[head] { head += 1 }
        var tail = 0
        while tail < a.count - head, tail < b.count - head, a[a.count - 1 - tail] == b[b.count - 1 - tail] { tail += 1 }
        let a2 = Array(a[head..<(a.count - tail)]), b2 = Array(b[head..<(b.count - tail)])
        var ops = (0..<head).map { Op(kind: .equal, aIndex: $0, bIndex: $0) }
        let n = a2.count, m = b2.count
        if n * m > 4_000_000 {
            // Too large for the table: show it as a replacement.
            ops += (0..<n).map { Op(kind: .delete, aIndex: head + $0, bIndex: head) }
            ops += (0..<m).map { Op(kind: .insert, aIndex: head + n, bIndex: head + $0) }
        } else {
            var lcs = [[Int32]](repeating: [Int32](repeating: 0, count: m + 1), count: n + 1)
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    lcs[i][j] = a2[i] == b2[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
                }
            }
            var i = 0, j = 0
            while i < n || j < m {
                if i < n, j < m, a2[i] == b2[j] {
                    ops.append(Op(kind: .equal, aIndex: head + i, bIndex: head + j)); i += 1; j += 1
                } else if j < m, i == n || lcs[i][j + 1] >= lcs[i + 1][j] {
                    ops.append(Op(kind: .insert, aIndex: head + i, bIndex: head + j)); j += 1
                } else {
                    ops.append(Op(kind: .delete, aIndex: head + i, bIndex: head + j)); i += 1
                }
            }
            // difflib lists deletions before insertions within a change.
            ops = reorder(ops)
        }
        let aTail = a.count - tail, bTail = b.count - tail
        ops += (0..<tail).map { Op(kind: .equal, aIndex: aTail + $0, bIndex: bTail + $0) }
        return ops
    }

    private static func reorder(_ ops: [Op]) -> [Op] {
        var result: [Op] = []
        var pending: [Op] = []
        func flush() {
            result += pending.filter { $0.kind == .delete } + pending.filter { $0.kind == .insert }
            pending.removeAll()
        }
        for op in ops {
            if op.kind == .equal { flush(); result.append(op) } else { pending.append(op) }
        }
        flush()
        return result
    }

    private static func hunks(_ ops: [Op], context: Int) -> [[Op]] {
        var changed = [Int]()
        for (i, op) in ops.enumerated() where op.kind != .equal { changed.append(i) }
        var result: [[Op]] = []
        var start = -1, end = -1
        for index in changed {
            let lo = max(0, index - context), hi = min(ops.count - 1, index + context)
            if start >= 0 && lo <= end + 1 {
                end = max(end, hi)
            } else {
                if start >= 0 { result.append(Array(ops[start...end])) }
                start = lo
                end = hi
            }
        }
        if start >= 0 { result.append(Array(ops[start...end])) }
        return result
    }
}
