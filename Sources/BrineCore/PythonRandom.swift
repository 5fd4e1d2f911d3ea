import Crypto
import Foundation

/// Python's `random.Random` (MT19937 with CPython's seeding and its
/// `_randbelow`/`sample` algorithms), so that Salt's seeded template
/// filters (`random_shuffle(seed=…)`, `random_sample(…, seed=…)`) give a
/// minion the same order in Brine as in Salt, e.g. a cron minute spread
/// by minion id.
public struct PythonRandom: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    /// `random.Random(n)` for an integer seed (Python uses `abs(n)`).
    public init(seed: Int) {
        var magnitude = seed.magnitude
        var key: [UInt32] = []
        repeat {
            key.append(UInt32(truncatingIfNeeded: magnitude))
            magnitude >>= 32
        } while magnitude != 0
        initByArray(key)
    }

    /// `random.Random(text)`: CPython's version-2 string seeding, the text's
    /// UTF-8 bytes followed by their SHA-512, read as one big-endian number.
    public init(seed text: String) {
        var bytes = Array(text.utf8)
        bytes += Array(SHA512.hash(data: bytes))
        while bytes.first == 0 { bytes.removeFirst() }
        var key: [UInt32] = []
        var end = bytes.count
        while end > 0 {
            let start = max(0, end - 4)
            key.append(bytes[start..<end].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            end = start
        }
        if key.isEmpty { key = [0] }
        initByArray(key)
    }

    private mutating func initGenRand(_ seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
        index = 624
    }

    private mutating func initByArray(_ key: [UInt32]) {
        initGenRand(19_650_218)
        var i = 1, j = 0
        for _ in 0..<max(624, key.count) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1
            j += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<623 {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
        }
        state[0] = 0x8000_0000
    }

    private mutating func next32() -> UInt32 {
        if index >= 624 {
            for k in 0..<624 {
                let y = (state[k] & 0x8000_0000) | (state[(k + 1) % 624] & 0x7FFF_FFFF)
                state[k] = state[(k + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_B0DF)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// `getrandbits(k)` for k ≤ 64: 32-bit words from the least
    /// significant up, the last one cut to what is left (CPython's order).
    private mutating func bits(_ k: Int) -> UInt64 {
        if k <= 0 { return 0 }
        if k <= 32 { return UInt64(next32() >> UInt32(32 - k)) }
        let low = UInt64(next32())
        return UInt64(next32() >> UInt32(64 - min(k, 64))) << 32 | low
    }

    /// `_randbelow(n)`: rejection sampling on `n.bit_length()` bits (n > 0).
    public mutating func below(_ n: Int) -> Int {
        guard n > 0 else { return 0 }
        let k = Int.bitWidth - n.leadingZeroBitCount
        var r = bits(k)
        while r >= UInt64(n) { r = bits(k) }
        return Int(r)
    }

    /// `sample(population, k)`, both of Python's strategies.
    public mutating func sample<T>(_ population: [T], _ k: Int) -> [T] {
        let n = population.count
        var setSize = 21
        if k > 5 {
            // 4 ** ceil(log(3k, 4)), computed as Python does it, in floats.
            setSize += Int(pow4(ceilLog4(Double(k * 3))))
        }
        if n <= setSize {
            var pool = population
            var result: [T] = []
            for i in 0..<k {
                let j = below(n - i)
                result.append(pool[j])
                pool[j] = pool[n - i - 1]
            }
            return result
        }
        var selected = Set<Int>()
        var result: [T] = []
        for _ in 0..<k {
            var j = below(n)
            while selected.contains(j) { j = below(n) }
            selected.insert(j)
            result.append(population[j])
        }
        return result
    }

    private func ceilLog4(_ x: Double) -> Double { (log(x) / log(4.0)).rounded(.up) }
    private func pow4(_ e: Double) -> Double { pow(4.0, e) }
}
