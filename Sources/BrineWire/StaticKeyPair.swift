import Crypto

/// A node's long-term X25519 identity: the `s` of the Noise handshake.
///
/// The public half is what `brine key` lists and accepts, and what a minion
/// pins for its master; the private half never leaves `pki_dir`.
public struct StaticKeyPair: Sendable {
    public let privateKey: Curve25519.KeyAgreement.PrivateKey

    public init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
    }

    /// A new random key pair.
    public static func generate() -> StaticKeyPair {
        StaticKeyPair(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    public var publicKey: Curve25519.KeyAgreement.PublicKey { privateKey.publicKey }

    /// `brine key -f` style fingerprint of the public key.
    public var fingerprint: String { KeyFingerprint.of(publicKey) }
}
