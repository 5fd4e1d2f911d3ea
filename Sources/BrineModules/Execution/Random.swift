import BrineCore
import Foundation

/// Salt's `random` module (`mod_random`): hashes, random strings and
/// numbers. `seed` and `rand_int` with a seed give Salt's exact numbers
/// (Python's Mersenne Twister, PythonRandom.swift), so a cron minute spread
/// by `random.seed` stays where Salt put it.
public enum RandomModule: ExecutionModule {
    public static let name = "random"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("hash", doc: "Return the hex digest of a value (algorithm: sha512 by default).",
                          [Parameter("value"), Parameter("algorithm", default: "sha512")]) { a, _ in
            .string(try Hashing.hexDigest(Array(a["value"].pythonString.utf8), algorithm: a.string("algorithm") ?? "sha512"))
        },
        ExecutionFunction("str_encode", doc: "Encode a string (base64).", [Parameter("value"), Parameter("encoder", default: "base64")]) { a, _ in
            guard a.string("encoder") == "base64" else { throw BrineError(.arguments, "You must specify a valid encoder") }
            return .string(Data(a["value"].pythonString.utf8).base64EncodedString())
        },
        ExecutionFunction("get_str", doc: "Return a random string from the chosen character classes.",
                          [Parameter("length", default: 20), Parameter("chars", default: .null), Parameter("lowercase", default: true),
                           Parameter("uppercase", default: true), Parameter("digits", default: true), Parameter("punctuation", default: true),
                           Parameter("whitespace", default: false), Parameter("printable", default: false)]) { a, _ in
            try randomString(a)
        },
        ExecutionFunction("rand_int", doc: "Return a random integer between start and end (both included); seed= makes it repeatable.",
                          [Parameter("start", default: 1), Parameter("end", default: 10), Parameter("seed", default: .null)]) { a, _ in
            let start = a.int("start") ?? 1, end = a.int("end") ?? 10
            guard end >= start else { throw BrineError(.arguments, "empty range for randrange() (\(start), \(end))") }
            let (span, overflow) = end.subtractingReportingOverflow(start)
            guard !overflow, span < Int.max else { throw BrineError(.arguments, "rand_int: the range \(start)..\(end) is too wide") }
            guard !a["seed"].isNull else { return .int(Int.random(in: start...end)) }
            var random = generator(a["seed"])
            return .int(start + random.below(span + 1))
        },
        ExecutionFunction("seed", doc: "Return a number below range, the same every time for a given hash (the minion id by default).",
                          [Parameter("range", default: 10), Parameter("hash", default: .null)]) { a, ctx in
            let range = a.int("range") ?? 10
            guard range > 0 else { throw BrineError(.arguments, "empty range for randrange(\(range))") }
            let hash = a["hash"].isNull ? (try ctx.grains())["id"] ?? .null : a["hash"]
            var random = generator(hash)
            return .int(random.below(range))
        },
        ExecutionFunction("sample", doc: "Return size items of a list, chosen at random (seed= makes it repeatable).",
                          [Parameter("value"), Parameter("size"), Parameter("seed", default: .null)]) { a, _ in
            let items = a["value"].listValue ?? []
            guard let size = a.int("size"), (0...items.count).contains(size) else {
                throw BrineError(.arguments, "Sample larger than population or is negative")
            }
            return .list(sample(items, size, seed: a["seed"]))
        },
        ExecutionFunction("shuffle", doc: "Return a list in random order (seed= makes it repeatable).",
                          [Parameter("value"), Parameter("seed", default: .null)]) { a, _ in
            let items = a["value"].listValue ?? []
            return .list(sample(items, items.count, seed: a["seed"]))
        },
    ]

    /// Python's `random.seed(x)`: an integer seeds as itself, anything
    /// else as its text.
    static func generator(_ seed: Value) -> PythonRandom {
        if case .int(let i) = seed { return PythonRandom(seed: i) }
        return PythonRandom(seed: seed.pythonString)
    }

    /// Salt's `sample`/`shuffle` seed with the SHA-512 hex digest of the seed.
    static func sample(_ items: [Value], _ size: Int, seed: Value) -> [Value] {
        guard !seed.isNull, let digest = try? Hashing.hexDigest(Array(seed.pythonString.utf8), algorithm: "sha512") else {
            return Array(items.shuffled().prefix(size))
        }
        var random = PythonRandom(seed: digest)
        return random.sample(items, size)
    }

    static func randomString(_ a: Arguments) throws -> Value {
        let length = a.int("length") ?? 20
        guard (0...1 << 20).contains(length) else { throw BrineError(.arguments, "length must be between 0 and 1048576") }
        var pool = ""
        if let chars = a.string("chars") {
            pool = chars
        } else if a.bool("printable") {
            pool = (32...126).map { String(UnicodeScalar(UInt8($0))) }.joined() + " \t\n\r\u{0B}\u{0C}"
        } else {
            if a.bool("lowercase") { pool += "abcdefghijklmnopqrstuvwxyz" }
            if a.bool("uppercase") { pool += "ABCDEFGHIJKLMNOPQRSTUVWXYZ" }
            if a.bool("digits") { pool += "0123456789" }
            if a.bool("punctuation") { pool += "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" }
            if a.bool("whitespace") { pool += " \t\n\r\u{0B}\u{0C}" }
        }
        let characters = Array(pool)
        guard !characters.isEmpty else { throw BrineError(.arguments, "no characters to choose from") }
        var generator = SystemRandomNumberGenerator()
        return .string(String((0..<length).map { _ in characters.randomElement(using: &generator) ?? "x" }))
    }
}
