import Foundation

/// Salt's `human_to_bytes` (`10M`, `1.5 GiB`, `2KB` with `handle_metric`):
/// the `human_to_bytes` template filter and `file.tidied`'s `size`.
public enum HumanSize {
    public static func bytes(_ size: String, defaultUnit: String = "B", metric: Bool = false) -> Int {
        let text = size.trimmingCharacters(in: .whitespacesAndNewlines)
        let number = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let rest = text.dropFirst(number.count).drop { $0.isWhitespace }
        let unit = rest.isEmpty ? defaultUnit.lowercased() : rest.lowercased()
        let value: Double
        if let i = Int(number) { value = Double(i) } else if let d = Double(number) { value = d } else { return 0 }
        let prefixes = Array("bkmgtpezy")
        guard let first = unit.first, let power = prefixes.firstIndex(of: first) else { return 0 }
        let decimal: Bool
        if unit.count == 2, unit.hasSuffix("b"), first != "b" {
            decimal = metric
        } else if unit == "b" || (unit.count == 1 && first != "b") || (unit.count == 3 && unit.hasSuffix("ib") && first != "b") {
            decimal = false
        } else {
            return 0
        }
        let scaled = value * (decimal ? pow(10, Double(power * 3)) : pow(2, Double(power * 10)))
        guard scaled.isFinite else { return 0 }
        return scaled.magnitude < 9.2e18 ? Int(scaled) : (scaled < 0 ? Int.min : Int.max)
    }
}
