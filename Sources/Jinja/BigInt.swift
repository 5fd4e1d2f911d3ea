/// Arbitrary-precision integers, so `10 ** 100` or `"12345678901234567890"|int`
/// stay exact integers as in Python instead of overflowing. Only the
/// operations templates plausibly use are exact (+, -, *, **, comparison,
/// printing); division falls back to floats.
public struct BigInt: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// Little-endian base-2^32 magnitude without trailing zero limbs.
    var limbs: [UInt32]
    var negative: Bool

    public init(_ v: Int) {
        negative = v < 0
        var m = v.magnitude
        limbs = []
        while m > 0 { limbs.append(UInt32(truncatingIfNeeded: m)); m >>= 32 }
    }

    /// Exact integer value of a finite, integral-or-not double (truncated toward zero).
    public init?(exactly d: Double) {
        guard d.isFinite else { return nil }
        let t = d.rounded(.towardZero)
        if abs(t) < 9.2e18 { self.init(Int(t)); return }
        // t = significand * 2^(exponent - 52) with a 53-bit integer significand
        let sig = Int(t.significandBitPattern | (1 << 52))
        let shift = Int(t.exponent) - 52
        var r = BigInt(sig) * BigInt(2).power(max(0, shift))
        r.negative = t < 0
        self = r
    }

    init(limbs: [UInt32], negative: Bool) {
        var l = limbs
        while let last = l.last, last == 0 { l.removeLast() }
        self.limbs = l
        self.negative = l.isEmpty ? false : negative
    }

    /// Parses an optionally signed decimal string.
    public init?(_ text: String) {
        var s = Substring(text)
        var neg = false
        if s.hasPrefix("-") { neg = true; s = s.dropFirst() } else if s.hasPrefix("+") { s = s.dropFirst() }
        guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        var r = BigInt(0)
        for c in s {
            r = r.mulSmall(10).addSmall(UInt32(c.wholeNumberValue ?? 0))
        }
        self.init(limbs: r.limbs, negative: neg)
    }

    /// The value as Int when it fits.
    public var asInt: Int? {
        if limbs.count > 2 { return nil }
        var m: UInt64 = 0
        for (i, l) in limbs.enumerated() { m |= UInt64(l) << (32 * UInt64(i)) }
        if negative { return m <= UInt64(Int.max) + 1 ? Int(truncatingIfNeeded: 0 &- m) : nil }
        return m <= UInt64(Int.max) ? Int(m) : nil
    }

    public var double: Double {
        var d = 0.0
        for l in limbs.reversed() { d = d * 4294967296.0 + Double(l) }
        return negative ? -d : d
    }

    func mulSmall(_ k: UInt32) -> BigInt {
        var out: [UInt32] = []
        var carry: UInt64 = 0
        for l in limbs {
            let p = UInt64(l) * UInt64(k) + carry
            out.append(UInt32(truncatingIfNeeded: p))
            carry = p >> 32
        }
        if carry > 0 { out.append(UInt32(carry)) }
        return BigInt(limbs: out, negative: negative)
    }

    func addSmall(_ k: UInt32) -> BigInt {
        BigInt(limbs: BigInt.addMag(limbs, [k]), negative: negative)
    }

    static func addMag(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        var carry: UInt64 = 0
        for i in 0..<max(a.count, b.count) {
            let s = UInt64(i < a.count ? a[i] : 0) + UInt64(i < b.count ? b[i] : 0) + carry
            out.append(UInt32(truncatingIfNeeded: s))
            carry = s >> 32
        }
        if carry > 0 { out.append(UInt32(carry)) }
        return out
    }

    /// a - b for |a| >= |b|.
    static func subMag(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        var borrow: Int64 = 0
        for i in 0..<a.count {
            var d = Int64(a[i]) - Int64(i < b.count ? b[i] : 0) - borrow
            if d < 0 { d += 1 << 32; borrow = 1 } else { borrow = 0 }
            out.append(UInt32(d))
        }
        return out
    }

    static func cmpMag(_ a: [UInt32], _ b: [UInt32]) -> Int {
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for i in stride(from: a.count - 1, through: 0, by: -1) where a[i] != b[i] {
            return a[i] < b[i] ? -1 : 1
        }
        return 0
    }

    public static func + (a: BigInt, b: BigInt) -> BigInt {
        if a.negative == b.negative { return BigInt(limbs: addMag(a.limbs, b.limbs), negative: a.negative) }
        let c = cmpMag(a.limbs, b.limbs)
        if c == 0 { return BigInt(0) }
        return c > 0 ? BigInt(limbs: subMag(a.limbs, b.limbs), negative: a.negative)
                     : BigInt(limbs: subMag(b.limbs, a.limbs), negative: b.negative)
    }

    public static prefix func - (a: BigInt) -> BigInt { BigInt(limbs: a.limbs, negative: !a.negative) }
    public static func - (a: BigInt, b: BigInt) -> BigInt { a + (-b) }

    public static func * (a: BigInt, b: BigInt) -> BigInt {
        if a.limbs.isEmpty || b.limbs.isEmpty { return BigInt(0) }
        var out = [UInt32](repeating: 0, count: a.limbs.count + b.limbs.count)
        for (i, x) in a.limbs.enumerated() {
            var carry: UInt64 = 0
            for (j, y) in b.limbs.enumerated() {
                let t = UInt64(x) * UInt64(y) + UInt64(out[i + j]) + carry
                out[i + j] = UInt32(truncatingIfNeeded: t)
                carry = t >> 32
            }
            var k = i + b.limbs.count
            while carry > 0 {
                let t = UInt64(out[k]) + carry
                out[k] = UInt32(truncatingIfNeeded: t)
                carry = t >> 32
                k += 1
            }
        }
        return BigInt(limbs: out, negative: a.negative != b.negative)
    }

    public func power(_ e: Int) -> BigInt {
        var result = BigInt(1), base = self, e = e
        while e > 0 {
            if e & 1 == 1 { result = result * base }
            e >>= 1
            if e > 0 { base = base * base }
        }
        return result
    }

    /// Truncating division of the magnitude by a small divisor: (quotient, remainder).
    func divModSmall(_ d: UInt32) -> (BigInt, UInt32) {
        var q = [UInt32](repeating: 0, count: limbs.count)
        var rem: UInt64 = 0
        for i in stride(from: limbs.count - 1, through: 0, by: -1) {
            let v = (rem << 32) | UInt64(limbs[i])
            q[i] = UInt32(v / UInt64(d))
            rem = v % UInt64(d)
        }
        return (BigInt(limbs: q, negative: negative), UInt32(rem))
    }

    /// Python floor division and modulo by an Int whose magnitude fits in 32 bits.
    func floorDivMod(_ d: Int) -> (BigInt, Int)? {
        guard d != 0, d.magnitude <= UInt(UInt32.max) else { return nil }
        var (q, r) = divModSmall(UInt32(d.magnitude))
        // q, r are truncated towards zero with r carrying the dividend's sign
        var rem = negative ? -Int(r) : Int(r)
        if d < 0 { q = -q }
        if rem != 0 && ((rem < 0) != (d < 0)) {
            q = q - BigInt(1)
            rem += d
        }
        return (q, rem)
    }

    public static func < (a: BigInt, b: BigInt) -> Bool {
        if a.negative != b.negative { return a.negative }
        let c = cmpMag(a.limbs, b.limbs)
        return a.negative ? c > 0 : c < 0
    }

    public var description: String {
        if limbs.isEmpty { return "0" }
        var parts: [String] = []
        var cur = limbs
        while !cur.isEmpty {
            var rem: UInt64 = 0
            var q = [UInt32](repeating: 0, count: cur.count)
            for i in stride(from: cur.count - 1, through: 0, by: -1) {
                let v = (rem << 32) | UInt64(cur[i])
                q[i] = UInt32(v / 1_000_000_000)
                rem = v % 1_000_000_000
            }
            while let last = q.last, last == 0 { q.removeLast() }
            parts.append(String(rem))
            cur = q
        }
        var s = parts.last ?? "0"
        for p in parts.dropLast().reversed() { s += String(repeating: "0", count: 9 - p.count) + p }
        return (negative ? "-" : "") + s
    }
}

/// A big integer as a template value.
final class BigIntObject: JinjaObject, @unchecked Sendable {
    let value: BigInt
    init(_ v: BigInt) { value = v }
    var typeName: String { "int" }
    func str(_ ctx: CallContext?) throws -> String { value.description }
}

extension Value {
    /// An integer, demoted to `.int` when it fits.
    static func integer(_ b: BigInt) -> Value {
        if let i = b.asInt { return .int(i) }
        return .object(BigIntObject(b))
    }

    var bigInt: BigInt? {
        switch self {
        case .int(let i): return BigInt(i)
        case .bool(let b): return BigInt(b ? 1 : 0)
        case .object(let o as BigIntObject): return o.value
        default: return nil
        }
    }

    var isBigInt: Bool { if case .object(let o) = self { return o is BigIntObject }; return false }
}

/// Complex numbers only exist when a host passes one in; templates can test and print them.
public final class ComplexObject: JinjaObject, @unchecked Sendable {
    public let real: Double, imag: Double
    public init(real: Double, imag: Double) { self.real = real; self.imag = imag }
    public var typeName: String { "complex" }
    public func str(_ ctx: CallContext?) throws -> String {
        func f(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e16 ? String(Int(d)) : formatFloat(d) }
        if real == 0 { return f(imag) + "j" }
        return "(\(f(real))\(imag < 0 ? "-" : "+")\(f(abs(imag)))j)"
    }
}
