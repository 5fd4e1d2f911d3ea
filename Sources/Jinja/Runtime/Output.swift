/// Rendered text as UTF-8 bytes. A render appends thousands of short
/// pieces; appending a string's bytes to an array is a copy, where
/// appending to a `String` went through the general string-growth path
/// (a few hundred instructions per piece, most pieces being small strings).
/// Only whole strings are ever appended, so the bytes are valid UTF-8.
struct Output {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        if capacity > 0 { bytes.reserveCapacity(capacity) }
    }

    @inline(__always) mutating func append(_ s: String) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { bytes.append(contentsOf: $0) }
        if done == nil { bytes.append(contentsOf: s.utf8) }
    }

    @inline(__always) mutating func append(_ other: Output) {
        bytes.append(contentsOf: other.bytes)
    }

    var isEmpty: Bool { bytes.isEmpty }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}
