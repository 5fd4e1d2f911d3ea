/// Sizes fixed by the Noise spec (revision 34) for `Noise_XX_25519_ChaChaPoly_SHA256`.
public enum Noise {
    /// The full protocol name; it is hashed into the handshake, so both sides
    /// must agree on it byte for byte.
    public static let protocolName = "Noise_XX_25519_ChaChaPoly_SHA256"
    /// Maximum length of any Noise message (spec §3). Keeps buffers bounded.
    public static let maximumMessageLength = 65535
    /// ChaChaPoly authentication tag length.
    public static let tagLength = 16
    /// Largest plaintext one transport message can carry.
    public static let maximumPlaintextLength = maximumMessageLength - tagLength
    /// X25519 public key length (DHLEN).
    public static let dhLength = 32
    /// SHA-256 output length (HASHLEN).
    public static let hashLength = 32
}
