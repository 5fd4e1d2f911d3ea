import OrderedCollections

/// msgpack for `Value`: the wire payload format (Salt uses msgpack too).
///
/// Hand-written because no package here does it; decoding treats its input
/// as hostile (it arrives from the network): every length is bounds-checked
/// and nesting is limited.
public enum MessagePack {
    public static func encode(_ value: Value) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(value, into: &out)
        return out
    }

    private static func write(_ value: Value, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(0xc0)
        case .bool(let b): out.append(b ? 0xc3 : 0xc2)
        case .int(let i): writeInt(i, into: &out)
        case .float(let d):
            out.append(0xcb)
            appendBigEndian(d.bitPattern, into: &out)
        case .string(let s):
            let utf8 = Array(s.utf8)
            writeHeader(count: utf8.count, fix: 0xa0, fixMax: 31, b8: 0xd9, b16: 0xda, b32: 0xdb, into: &out)
            out.append(contentsOf: utf8)
        case .list(let items):
            writeHeader(count: items.count, fix: 0x90, fixMax: 15, b8: nil, b16: 0xdc, b32: 0xdd, into: &out)
            for item in items { write(item, into: &out) }
        case .map(let map):
            writeHeader(count: map.count, fix: 0x80, fixMax: 15, b8: nil, b16: 0xde, b32: 0xdf, into: &out)
            for (key, item) in map {
                write(.string(key), into: &out)
                write(item, into: &out)
            }
        }
    }

    private static func writeInt(_ i: Int, into out: inout [UInt8]) {
        switch i {
        case 0...0x7f: out.append(UInt8(i))
        case -32..<0: out.append(UInt8(bitPattern: Int8(i)))
        case 0x80...0xff: out += [0xcc, UInt8(i)]
        case 0x100...0xffff: out.append(0xcd); appendBigEndian(UInt16(i), into: &out)
        case 0x10000...0xffff_ffff: out.append(0xce); appendBigEndian(UInt32(i), into: &out)
        case Int(Int8.min)..<0: out += [0xd0, UInt8(bitPattern: Int8(i))]
        case Int(Int16.min)..<0: out.append(0xd1); appendBigEndian(UInt16(bitPattern: Int16(i)), into: &out)
        case Int(Int32.min)..<0: out.append(0xd2); appendBigEndian(UInt32(bitPattern: Int32(i)), into: &out)
        case 0...: out.append(0xcf); appendBigEndian(UInt64(i), into: &out)
        default: out.append(0xd3); appendBigEndian(UInt64(bitPattern: Int64(i)), into: &out)
        }
    }

    private static func writeHeader(
        count: Int, fix: UInt8, fixMax: Int, b8: UInt8?, b16: UInt8, b32: UInt8, into out: inout [UInt8]
    ) {
        if count <= fixMax {
            out.append(fix | UInt8(count))
        } else if let b8, count <= 0xff {
            out += [b8, UInt8(count)]
        } else if count <= 0xffff {
            out.append(b16)
            appendBigEndian(UInt16(count), into: &out)
        } else {
            out.append(b32)
            appendBigEndian(UInt32(count), into: &out)
        }
    }

    private static func appendBigEndian<T: FixedWidthInteger>(_ v: T, into out: inout [UInt8]) {
        var big = v.bigEndian
        withUnsafeBytes(of: &big) { out.append(contentsOf: $0) }
    }

    // MARK: Decoding

    public static func decode(_ bytes: some Collection<UInt8>) throws(BrineError) -> Value {
        var reader = Reader(bytes: Array(bytes))
        let value = try reader.read(depth: 0)
        guard reader.index == reader.bytes.count else {
            throw BrineError(.msgpack, "\(reader.bytes.count - reader.index) trailing bytes after the value")
        }
        return value
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        func fail(_ message: String) -> BrineError {
            BrineError(.msgpack, "\(message) at byte \(index)")
        }

        mutating func take(_ n: Int) throws(BrineError) -> ArraySlice<UInt8> {
            guard n >= 0, n <= bytes.count - index else { throw fail("truncated input") }
            defer { index += n }
            return bytes[index..<index + n]
        }

        mutating func uint<T: FixedWidthInteger>(_: T.Type) throws(BrineError) -> T {
            let slice = try take(MemoryLayout<T>.size)
            return slice.reduce(T.zero) { ($0 << 8) | T($1) }
        }

        mutating func read(depth: Int) throws(BrineError) -> Value {
            guard depth < 256 else { throw fail("nesting deeper than 256 levels") }
            let tag = try take(1).first ?? 0
            switch tag {
            case 0x00...0x7f: return .int(Int(tag))
            case 0x80...0x8f: return try readMap(Int(tag & 0x0f), depth: depth)
            case 0x90...0x9f: return try readArray(Int(tag & 0x0f), depth: depth)
            case 0xa0...0xbf: return try readString(Int(tag & 0x1f))
            case 0xc0: return .null
            case 0xc2: return .bool(false)
            case 0xc3: return .bool(true)
            case 0xc4: return try readString(Int(try uint(UInt8.self)))
            case 0xc5: return try readString(Int(try uint(UInt16.self)))
            case 0xc6: return try readString(Int(try uint(UInt32.self)))
            case 0xca: return .float(Double(Float(bitPattern: try uint(UInt32.self))))
            case 0xcb: return .float(Double(bitPattern: try uint(UInt64.self)))
            case 0xcc: return .int(Int(try uint(UInt8.self)))
            case 0xcd: return .int(Int(try uint(UInt16.self)))
            case 0xce: return .int(Int(try uint(UInt32.self)))
            case 0xcf:
                let v = try uint(UInt64.self)
                guard v <= UInt64(Int.max) else { throw fail("unsigned integer too large") }
                return .int(Int(v))
            case 0xd0: return .int(Int(Int8(bitPattern: try uint(UInt8.self))))
            case 0xd1: return .int(Int(Int16(bitPattern: try uint(UInt16.self))))
            case 0xd2: return .int(Int(Int32(bitPattern: try uint(UInt32.self))))
            case 0xd3: return .int(Int(Int64(bitPattern: try uint(UInt64.self))))
            case 0xd9: return try readString(Int(try uint(UInt8.self)))
            case 0xda: return try readString(Int(try uint(UInt16.self)))
            case 0xdb: return try readString(Int(try uint(UInt32.self)))
            case 0xdc: return try readArray(Int(try uint(UInt16.self)), depth: depth)
            case 0xdd: return try readArray(Int(try uint(UInt32.self)), depth: depth)
            case 0xde: return try readMap(Int(try uint(UInt16.self)), depth: depth)
            case 0xdf: return try readMap(Int(try uint(UInt32.self)), depth: depth)
            case 0xe0...0xff: return .int(Int(Int8(bitPattern: tag)))
            default: throw fail("unsupported type byte 0x\(String(tag, radix: 16))")
            }
        }

        mutating func readString(_ count: Int) throws(BrineError) -> Value {
            .string(String(decoding: try take(count), as: UTF8.self))
        }

        mutating func readArray(_ count: Int, depth: Int) throws(BrineError) -> Value {
            // Each element takes at least one byte: refuse counts the input cannot hold.
            guard count <= bytes.count - index else { throw fail("array length \(count) exceeds input") }
            var items: [Value] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try read(depth: depth + 1)) }
            return .list(items)
        }

        mutating func readMap(_ count: Int, depth: Int) throws(BrineError) -> Value {
            guard count <= (bytes.count - index) / 2 else { throw fail("map length \(count) exceeds input") }
            var map = OrderedDictionary<String, Value>(minimumCapacity: count)
            for _ in 0..<count {
                let key = try read(depth: depth + 1)
                map[key.stringValue ?? key.pythonString] = try read(depth: depth + 1)
            }
            return .map(map)
        }
    }
}
