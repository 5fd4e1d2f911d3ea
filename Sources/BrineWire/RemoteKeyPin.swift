import Crypto

/// What the peer's static key must be, checked the moment its `s` token is
/// decrypted, before we send anything that reveals who we are.
///
/// A minion pins its master either by the key it saved on first contact
/// (`minion_master.pub` in Salt's layout) or, before that, by the
/// `master_finger` an operator put in its config.
public enum RemoteKeyPin: Sendable, Equatable {
    /// Exactly this public key.
    case key(Curve25519.KeyAgreement.PublicKey)
    /// The key whose fingerprint (`KeyFingerprint`) this is; case and colons are ignored.
    case fingerprint(String)

    /// Whether `key` satisfies the pin.
    public func matches(_ key: Curve25519.KeyAgreement.PublicKey) -> Bool {
        switch self {
        case .key(let pinned): return pinned.rawRepresentation == key.rawRepresentation
        case .fingerprint(let fingerprint): return KeyFingerprint.matches(fingerprint, key)
        }
    }

    /// The pin as a fingerprint, for error messages.
    public var fingerprint: String {
        switch self {
        case .key(let pinned): return KeyFingerprint.of(pinned)
        case .fingerprint(let fingerprint): return fingerprint
        }
    }

    public static func == (lhs: RemoteKeyPin, rhs: RemoteKeyPin) -> Bool {
        switch (lhs, rhs) {
        case (.key(let left), .key(let right)): return left.rawRepresentation == right.rawRepresentation
        case (.fingerprint(let left), .fingerprint(let right)): return left == right
        default: return false
        }
    }
}
