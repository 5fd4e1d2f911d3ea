import Crypto

/// A Noise SymmetricState (spec §5.2): the chaining key `ck`, the handshake hash
/// `h` and the CipherState used during the handshake.
///
/// `h` commits to everything sent and received, including the prologue, so any
/// disagreement between the peers makes the next authenticated message fail.
struct SymmetricState: Sendable {
    private(set) var chainingKey: [UInt8]
    private(set) var handshakeHash: [UInt8]
    private var cipher = CipherState()

    /// InitializeSymmetric(protocol_name).
    init(protocolName: String) {
        let name = Array(protocolName.utf8)
        if name.count <= Noise.hashLength {
            handshakeHash = name + [UInt8](repeating: 0, count: Noise.hashLength - name.count)
        } else {
            handshakeHash = Array(SHA256.hash(data: name))
        }
        chainingKey = handshakeHash
    }

    /// MixKey(ikm): new chaining key and a fresh cipher key from a DH result.
    mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        let (newChainingKey, tempKey) = NoiseHKDF.derive2(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial)
        chainingKey = newChainingKey
        cipher = CipherState(key: tempKey)
    }

    /// MixHash(data): h = HASH(h || data).
    mutating func mixHash(_ data: [UInt8]) {
        var hasher = SHA256()
        hasher.update(data: handshakeHash)
        hasher.update(data: data)
        handshakeHash = Array(hasher.finalize())
    }

    /// MixKeyAndHash(ikm), used by PSK patterns; kept for completeness of the spec's object.
    mutating func mixKeyAndHash(_ inputKeyMaterial: [UInt8]) {
        let (newChainingKey, tempHash, tempKey) = NoiseHKDF.derive3(
            chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial)
        chainingKey = newChainingKey
        mixHash(tempHash)
        cipher = CipherState(key: tempKey)
    }

    /// EncryptAndHash: encrypts with `h` as associated data, then hashes the ciphertext.
    mutating func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let ciphertext = try cipher.encrypt(associatedData: handshakeHash, plaintext: plaintext)
        mixHash(ciphertext)
        return ciphertext
    }

    /// DecryptAndHash: decrypts with `h` as associated data, then hashes the ciphertext.
    mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let plaintext = try cipher.decrypt(associatedData: handshakeHash, ciphertext: ciphertext)
        mixHash(ciphertext)
        return plaintext
    }

    /// Whether the handshake cipher has a key, which decides whether an `s`
    /// token is 32 bytes (clear) or 48 (encrypted + tag).
    var hasKey: Bool { cipher.hasKey }

    /// Split(): the two transport CipherStates, initiator→responder first.
    func split() -> (CipherState, CipherState) {
        let (key1, key2) = NoiseHKDF.derive2(chainingKey: chainingKey, inputKeyMaterial: [])
        return (CipherState(key: key1), CipherState(key: key2))
    }
}
