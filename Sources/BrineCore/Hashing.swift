import Crypto
import Foundation

/// File and data digests by Salt's algorithm names (`hash_type`).
public enum Hashing {
    public static let algorithms = ["md5", "sha1", "sha256", "sha384", "sha512"]

    public static func hexDigest(_ data: some DataProtocol, algorithm: String = "sha256") throws(BrineError) -> String {
        switch algorithm.lowercased() {
        case "md5": return hex(Insecure.MD5.hash(data: data))
        case "sha1": return hex(Insecure.SHA1.hash(data: data))
        case "sha256": return hex(SHA256.hash(data: data))
        case "sha384": return hex(SHA384.hash(data: data))
        case "sha512": return hex(SHA512.hash(data: data))
        default:
            throw BrineError(.arguments, "unsupported hash type '\(algorithm)'",
                             hint: "use one of \(algorithms.joined(separator: ", "))")
        }
    }

    /// HMAC-SHA256 of a message (Salt's `hmac` and `hmac_compute` filters).
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
    public static func sha1(_ bytes: [UInt8]) -> [UInt8] { Array(Insecure.SHA1.hash(data: bytes)) }

    /// PBKDF2 with HMAC-SHA256 (RFC 8018), for SCRAM verifiers (PostgreSQL
    /// role passwords). Written out here: swift-crypto's Crypto has HMAC but
    /// keeps PBKDF2 in CryptoExtras, a module (RSA, AES…) this one call would
    /// add to every executable.
    public static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var output: [UInt8] = []
        var block: UInt32 = 1
        while output.count < length {
            var u = Array(HMAC<SHA256>.authenticationCode(for: salt + withUnsafeBytes(of: block.bigEndian, Array.init), using: key))
            var t = u
            for _ in 1..<max(iterations, 1) {
                u = Array(HMAC<SHA256>.authenticationCode(for: u, using: key))
                for i in t.indices { t[i] ^= u[i] }
            }
            output += t
            block += 1
        }
        return Array(output.prefix(length))
    }

    /// A name-based (version 5) UUID, as Python's `uuid.uuid5`.
    public static func uuid5(namespace: UUID, name: String) -> UUID {
        let ns = withUnsafeBytes(of: namespace.uuid) { Array($0) }
        var bytes = Array(Insecure.SHA1.hash(data: ns + Array(name.utf8)).prefix(16))
        bytes[6] = bytes[6] & 0x0F | 0x50
        bytes[8] = bytes[8] & 0x3F | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// Hashes a file in chunks, so large files are not read into memory.
    public static func fileDigest(_ path: String, algorithm: String = "sha256") throws(BrineError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BrineError(.io, "cannot read \(path)")
        }
        defer { try? handle.close() }
        func run<H: HashFunction>(_ hasher: inout H) -> String {
            while let chunk = try? handle.read(upToCount: 1 << 16), !chunk.isEmpty { hasher.update(data: chunk) }
            return hex(hasher.finalize())
        }
        switch algorithm.lowercased() {
        case "md5": var h = Insecure.MD5(); return run(&h)
        case "sha1": var h = Insecure.SHA1(); return run(&h)
        case "sha256": var h = SHA256(); return run(&h)
        case "sha384": var h = SHA384(); return run(&h)
        case "sha512": var h = SHA512(); return run(&h)
        default:
            throw BrineError(.arguments, "unsupported hash type '\(algorithm)'",
                             hint: "use one of \(algorithms.joined(separator: ", "))")
        }
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String { ASCIIText.hex(digest) }
}
