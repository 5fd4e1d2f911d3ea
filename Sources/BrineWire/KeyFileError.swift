/// Problems with key files. Every case names the file, because the operator's
/// next step is to look at (or delete, or chmod) that file.
public enum KeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not exist.
    case missing(path: String)
    /// The file exists but could not be read (permissions, I/O error, too large).
    case unreadable(path: String, reason: String)
    /// The file was read but is not a Brine X25519 key of the expected kind.
    case malformed(path: String, reason: String)
    /// A private key file that group or others can read or write; like ssh, we
    /// refuse to use it rather than trust a key that may have leaked.
    case insecurePermissions(path: String, mode: UInt32)
    /// Writing failed; the previous file, if any, is untouched.
    case writeFailed(path: String, reason: String)
    /// Refused to replace an existing key (regenerating a node's key by accident
    /// would lock it out of its master).
    case alreadyExists(path: String)
    /// The public key file does not belong to the private key next to it.
    case mismatchedPair(privateKeyPath: String, publicKeyPath: String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "\(path): key file not found"
        case .unreadable(let path, let reason):
            return "\(path): cannot read key file: \(reason)"
        case .malformed(let path, let reason):
            return "\(path): not a valid key file: \(reason)"
        case .insecurePermissions(let path, let mode):
            return "\(path): private key is accessible by group or others (mode \(String(mode, radix: 8))); run chmod 600 \(path)"
        case .writeFailed(let path, let reason):
            return "\(path): cannot write key file: \(reason)"
        case .alreadyExists(let path):
            return "\(path): key file already exists; not overwriting it"
        case .mismatchedPair(let privateKeyPath, let publicKeyPath):
            return "\(publicKeyPath) does not hold the public key of \(privateKeyPath)"
        }
    }
}
