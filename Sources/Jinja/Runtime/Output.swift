/// Rendered text as UTF-8 bytes. A render appends thousands of short
/// pieces; copying their bytes into one growing buffer is a capacity check
/// and a `memcpy`, where appending to a `String` (or an `Array`) went
/// through general growth and uniqueness paths costing a hundred or more
/// instructions per piece. Only whole strings are ever appended, so the
/// bytes are valid UTF-8.
///
/// The buffer is a reference: an `Output` is only ever passed `inout`
/// along one render, never copied to fork it.
struct Output {
    let buffer: ByteBuffer

    init(capacity: Int = 0) {
        buffer = ByteBuffer(capacity: Swift.max(capacity, 16))
    }

    /// Output into a recycled buffer (emptied).
    init(reusing buffer: ByteBuffer) {
        buffer.removeAll()
        self.buffer = buffer
    }

    @inline(__always) mutating func append(_ s: String) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { buffer.append($0) }
        if done == nil { buffer.append(Array(s.utf8)) }
    }

    @inline(__always) mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        buffer.append(bytes)
    }

    /// Decimal digits of `i`, written in place.
    mutating func append(_ i: Int) {
        TextUtils.withDecimal(i.magnitude, sign: i < 0 ? 45 : nil) { buffer.append(raw: $0) }
    }

    var isEmpty: Bool { buffer.count == 0 }

    var string: String { buffer.string }
}

/// Growable bytes owned by an `Output`.
final class ByteBuffer {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    func removeAll() { count = 0 }

    @inline(__always) func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        if count + bytes.count > capacity { grow(to: count + bytes.count) }
        (base + count).update(from: src, count: bytes.count)
        count += bytes.count
    }

    /// Bytes of scratch memory (no typed view of it needed).
    @inline(__always) func append(raw bytes: UnsafeRawBufferPointer) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        if count + bytes.count > capacity { grow(to: count + bytes.count) }
        UnsafeMutableRawPointer(base + count).copyMemory(from: src, byteCount: bytes.count)
        count += bytes.count
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    private func grow(to needed: Int) {
        var n = capacity * 2
        while n < needed { n *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = n
    }

    var string: String {
        String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }
}

/// A template's literal text as UTF-8 bytes, copied once when the template
/// is compiled, so printing it is a plain copy (no string storage to retain).
/// Immutable after `init`, hence shareable across renders.
final class StaticText: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<UInt8>
    let buffer: UnsafeBufferPointer<UInt8>

    init(_ text: String) {
        let bytes = Array(text.utf8)
        storage = .allocate(capacity: Swift.max(bytes.count, 1))
        _ = storage.initialize(from: bytes)
        buffer = UnsafeBufferPointer(rebasing: storage[0..<bytes.count])
    }

    deinit { storage.deallocate() }
}
