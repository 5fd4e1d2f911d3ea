import Crypto

/// A Noise CipherState (spec §5.1): a ChaChaPoly key and a 64-bit counter nonce.
///
/// The nonce only ever goes up and is never sent on the wire, so both sides must
/// process messages in exactly the same order. That is what makes a replayed,
/// dropped or reordered frame fail to authenticate: the receiver tries it with
/// the next nonce it expects, not the one it was sealed with.
public struct CipherState: Sendable {
    private var key: SymmetricKey?
    /// The nonce the next encryption or decryption will use.
    public private(set) var nonce: UInt64 = 0

    /// An empty CipherState (no key): encryption is the identity, as the spec
    /// requires before the first MixKey.
    public init() {}

    /// A CipherState with `key` (32 bytes), starting at `nonce` (0 except in
    /// tests that need to reach the end of the nonce space).
    package init(key: [UInt8], nonce: UInt64 = 0) {
        self.key = SymmetricKey(data: key)
        self.nonce = nonce
    }

    /// Whether a key is set (HasKey()).
    public var hasKey: Bool { key != nil }

    /// EncryptWithAd: seals `plaintext`, returning ciphertext followed by the 16-byte tag.
    /// Without a key, returns `plaintext` unchanged.
    public mutating func encrypt(associatedData: [UInt8], plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let key else { return plaintext }
        guard nonce != UInt64.max else { throw .nonceExhausted }
        let box = try Self.seal(plaintext, key: key, counter: nonce, associatedData: associatedData)
        nonce += 1
        // One allocation: every message of a session goes through here.
        var sealed: [UInt8] = []
        sealed.reserveCapacity(plaintext.count + Noise.tagLength)
        sealed.append(contentsOf: box.ciphertext)
        sealed.append(contentsOf: box.tag)
        return sealed
    }

    /// DecryptWithAd: opens `ciphertext` (which ends with the tag). Without a key,
    /// returns it unchanged. On failure the nonce is not advanced (spec §5.1).
    public mutating func decrypt(associatedData: [UInt8], ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let key else { return ciphertext }
        guard nonce != UInt64.max else { throw .nonceExhausted }
        guard ciphertext.count >= Noise.tagLength else {
            throw .messageTooShort(length: ciphertext.count, needed: Noise.tagLength)
        }
        let split = ciphertext.count - Noise.tagLength
        let chachaNonce = try Self.chachaNonce(nonce)
        let plaintext: [UInt8]
        do {
            let box = try ChaChaPoly.SealedBox(
                nonce: chachaNonce,
                ciphertext: ciphertext[..<split],
                tag: ciphertext[split...]
            )
            plaintext = Array(try ChaChaPoly.open(box, using: key, authenticating: associatedData))
        } catch {
            throw .decryptionFailed(nonce: nonce)
        }
        nonce += 1
        return plaintext
    }

    /// Rekey (spec §4.2): the new key is the first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros).
    /// Optional in Brine's protocol; provided so that a long-lived connection can
    /// limit how much data one key protects.
    public mutating func rekey() throws(NoiseError) {
        guard let key else { return }
        let zeros = [UInt8](repeating: 0, count: 32)
        let box = try Self.seal(zeros, key: key, counter: UInt64.max, associatedData: [])
        self.key = SymmetricKey(data: Array(box.ciphertext.prefix(32)))
    }

    /// The 96-bit ChaChaPoly nonce: 4 zero bytes then the counter little-endian (spec §12.3).
    private static func chachaNonce(_ counter: UInt64) throws(NoiseError) -> ChaChaPoly.Nonce {
        do {
            // On the stack: a nonce is made for every message.
            return try withUnsafeTemporaryAllocation(byteCount: 12, alignment: 1) { bytes in
                bytes.initializeMemory(as: UInt8.self, repeating: 0)
                for index in 0..<8 {
                    bytes[4 + index] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(index)))
                }
                return try ChaChaPoly.Nonce(data: UnsafeRawBufferPointer(bytes))
            }
        } catch {
            throw .cryptoFailure("ChaChaPoly nonce: \(error)")
        }
    }

    private static func seal(
        _ plaintext: [UInt8], key: SymmetricKey, counter: UInt64, associatedData: [UInt8]
    ) throws(NoiseError) -> ChaChaPoly.SealedBox {
        let chachaNonce = try Self.chachaNonce(counter)
        do {
            return try ChaChaPoly.seal(plaintext, using: key, nonce: chachaNonce, authenticating: associatedData)
        } catch {
            throw .cryptoFailure("ChaChaPoly seal: \(error)")
        }
    }
}
