import Crypto

/// Key fingerprints as `brine key -f` prints them.
///
/// Salt's `salt-key -f` shows a hash of the public key as colon-separated hex
/// pairs; operators compare it out of band (and `master_finger` pins it), so ours
/// has the same shape: SHA-256 of the 32 raw public-key bytes.
public enum KeyFingerprint {
    /// `"ab:01:…"`, 32 pairs, lowercase.
    public static func of(_ publicKey: Curve25519.KeyAgreement.PublicKey) -> String {
        of(rawPublicKey: Array(publicKey.rawRepresentation))
    }

    /// The fingerprint of raw public-key bytes.
    public static func of(rawPublicKey: [UInt8]) -> String {
        SHA256.hash(data: rawPublicKey).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    /// Whether `fingerprint` (as an operator might paste it: any case, with or
    /// without colons) names `publicKey`.
    public static func matches(_ fingerprint: String, _ publicKey: Curve25519.KeyAgreement.PublicKey) -> Bool {
        normalize(fingerprint) == normalize(of(publicKey))
    }

    private static func normalize(_ fingerprint: String) -> String {
        String(fingerprint.lowercased().filter { $0.isHexDigit })
    }
}
