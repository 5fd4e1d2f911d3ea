/// Everything that can go wrong in the Noise layer.
///
/// Every case means the same thing to the caller: drop the connection. The cases
/// exist so that the log says *why* (a tampered frame, a replay, a wrong key),
/// which is what an operator needs when a minion cannot connect.
public enum NoiseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A Noise message (handshake or transport) longer than the spec's 65535-byte limit.
    case messageTooLarge(length: Int, limit: Int)
    /// A received message shorter than its pattern requires (a key or tag is cut off).
    case messageTooShort(length: Int, needed: Int)
    /// Authentication failed: the ciphertext was tampered with, replayed, reordered
    /// or produced under different keys (wrong prologue, wrong peer).
    case decryptionFailed(nonce: UInt64)
    /// The 64-bit nonce reached 2^64-1, which the spec reserves; the session must end.
    case nonceExhausted
    /// A 32-byte X25519 public key could not be parsed, or produced an all-zero
    /// shared secret (a low-order point), which we refuse.
    case invalidPublicKey(context: String)
    /// swift-crypto refused an operation on inputs we built ourselves; not expected to happen.
    case cryptoFailure(String)
    /// `writeMessage`/`readMessage` called when it is the other side's turn.
    case outOfTurn(expected: String)
    /// The handshake has already produced its transport keys.
    case handshakeAlreadyComplete
    /// Transport keys were requested before the last handshake message.
    case handshakeNotComplete
    /// `transport()` was already called on this handshake.
    case transportAlreadyTaken
    /// An earlier step of this handshake or transport failed; the state is poisoned.
    case stateFailed(previous: String)
    /// The peer's static key differs from the pinned one (e.g. the minion's
    /// `master_finger`). Both are given as fingerprints.
    case remoteStaticKeyMismatch(expected: String, actual: String)

    public var description: String {
        switch self {
        case .messageTooLarge(let length, let limit):
            return "Noise message of \(length) bytes exceeds the limit of \(limit) bytes"
        case .messageTooShort(let length, let needed):
            return "Noise message of \(length) bytes is too short (needs at least \(needed))"
        case .decryptionFailed(let nonce):
            return "Noise decryption failed at nonce \(nonce) (tampered, replayed or reordered message, or mismatched keys/prologue)"
        case .nonceExhausted:
            return "Noise nonce exhausted; the session must be re-established"
        case .invalidPublicKey(let context):
            return "invalid X25519 public key: \(context)"
        case .cryptoFailure(let detail):
            return "cryptographic primitive failed: \(detail)"
        case .outOfTurn(let expected):
            return "Noise handshake step out of turn: expected \(expected)"
        case .handshakeAlreadyComplete:
            return "Noise handshake is already complete"
        case .handshakeNotComplete:
            return "Noise handshake is not complete yet"
        case .transportAlreadyTaken:
            return "Noise transport keys were already taken from this handshake"
        case .stateFailed(let previous):
            return "Noise state unusable after an earlier failure: \(previous)"
        case .remoteStaticKeyMismatch(let expected, let actual):
            return "peer static key \(actual) does not match the pinned key \(expected)"
        }
    }
}
