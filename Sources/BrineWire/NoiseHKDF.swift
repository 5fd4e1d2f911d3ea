import Crypto

/// The HKDF of the Noise spec (§4.3), built from HMAC-SHA256 exactly as written
/// there, so that it can be checked against the spec line by line.
///
/// It equals RFC 5869 HKDF with `salt = chainingKey` and an empty `info`, but the
/// spec's formulation is what the test vectors were made from.
enum NoiseHKDF {
    /// Two 32-byte outputs (MixKey, Split).
    static func derive2(chainingKey: [UInt8], inputKeyMaterial: [UInt8]) -> ([UInt8], [UInt8]) {
        let tempKey = SymmetricKey(data: hmac(key: chainingKey, data: inputKeyMaterial))
        let output1 = hmac(key: tempKey, data: [0x01])
        let output2 = hmac(key: tempKey, data: output1 + [0x02])
        return (output1, output2)
    }

    /// Three 32-byte outputs (MixKeyAndHash, used by PSK patterns).
    static func derive3(chainingKey: [UInt8], inputKeyMaterial: [UInt8]) -> ([UInt8], [UInt8], [UInt8]) {
        let tempKey = SymmetricKey(data: hmac(key: chainingKey, data: inputKeyMaterial))
        let output1 = hmac(key: tempKey, data: [0x01])
        let output2 = hmac(key: tempKey, data: output1 + [0x02])
        let output3 = hmac(key: tempKey, data: output2 + [0x03])
        return (output1, output2, output3)
    }

    private static func hmac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        hmac(key: SymmetricKey(data: key), data: data)
    }

    private static func hmac(key: SymmetricKey, data: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
    }
}
