import BrineCore
import Crypto

/// A node's key pair as two files in `pki_dir`, named as Salt names them:
/// `minion.pem` / `minion.pub` on a minion, `master.pem` / `master.pub` on the
/// master. The master also keeps minions' public keys (one file per id) in
/// `minions`, `minions_pre`, … with the same public-key format.
///
/// Private key files are written 0400 and must not be readable by group or
/// others when loaded; public key files are 0644.
public struct KeyFiles: Sendable {
    public let directory: String
    /// The files' name without `.pem`/`.pub` (`master`, `cluster`, `minion`).
    public let name: String
    public let privateKeyPath: String
    public let publicKeyPath: String

    /// Mode of written private key files (Salt uses 0400 for its `.pem`).
    public static let privateKeyMode: UInt32 = 0o400
    /// Mode of written public key files.
    public static let publicKeyMode: UInt32 = 0o644

    /// The files `<directory>/<name>.pem` and `<directory>/<name>.pub`.
    public init(directory: String, name: String) {
        self.directory = directory
        self.name = name
        privateKeyPath = "\(directory)/\(name).pem"
        publicKeyPath = "\(directory)/\(name).pub"
    }

    /// The master's key pair: `cluster.pem` when the master is one of a
    /// cluster (`cluster_id` set: the same pair on every master, so a
    /// minion's pinned key matches whichever it reaches) in `cluster_pki_dir`,
    /// else in `pki_dir`, as Salt falls back; otherwise `pki_dir/master.pem`
    /// (Salt ignores `cluster_pki_dir` without `cluster_id`).
    public static func master(_ opts: Config) -> KeyFiles {
        let pkiDir = opts.string("pki_dir") ?? "/etc/brine/pki/master"
        guard let cluster = opts.string("cluster_id"), !cluster.isEmpty else { return KeyFiles(directory: pkiDir, name: "master") }
        let directory = opts.string("cluster_pki_dir").flatMap { $0.isEmpty ? nil : $0 } ?? pkiDir
        return KeyFiles(directory: directory, name: "cluster")
    }

    /// Writes both files, private first (the public half can be rebuilt from it).
    /// The directory is created with mode 0700 if missing; existing keys are
    /// replaced only with `overwrite`.
    public func write(_ pair: StaticKeyPair, overwrite: Bool = false) throws(KeyFileError) {
        try KeyFileIO.ensureDirectory(KeyFileIO.parentDirectory(of: privateKeyPath), mode: 0o700)
        if !overwrite {
            for path in [privateKeyPath, publicKeyPath] where KeyFileIO.exists(path) {
                throw .alreadyExists(path: path)
            }
        }
        try KeyFileIO.writeAtomically(
            KeyPEM.encode(privateKey: pair.privateKey), to: privateKeyPath, mode: Self.privateKeyMode)
        try Self.writePublicKey(pair.publicKey, to: publicKeyPath)
    }

    /// Loads the pair and checks that the two files belong together.
    public func load() throws(KeyFileError) -> StaticKeyPair {
        let privateKey = try KeyPEM.decodePrivateKey(
            try KeyFileIO.readText(privateKeyPath, requirePrivate: true), source: privateKeyPath)
        let publicKey = try Self.readPublicKey(at: publicKeyPath)
        guard publicKey.rawRepresentation == privateKey.publicKey.rawRepresentation else {
            throw .mismatchedPair(privateKeyPath: privateKeyPath, publicKeyPath: publicKeyPath)
        }
        return StaticKeyPair(privateKey: privateKey)
    }

    /// What a daemon does at start: load the keys, or create them on first run.
    /// A missing `.pub` next to a good `.pem` is rewritten from it; a missing
    /// `.pem` next to an existing `.pub` is an error (we would silently change
    /// the node's identity otherwise).
    /// - Parameter seed: the pair written when there is none, instead of a
    ///   new one: a master's own key when it makes its cluster's, so the
    ///   minions that pinned it keep trusting the cluster.
    public func loadOrGenerate(seed: StaticKeyPair? = nil) throws(KeyFileError) -> (pair: StaticKeyPair, created: Bool) {
        let hasPrivate = KeyFileIO.exists(privateKeyPath)
        let hasPublic = KeyFileIO.exists(publicKeyPath)
        switch (hasPrivate, hasPublic) {
        case (false, false):
            // Masters of a cluster started together on one `cluster_pki_dir`: the first
            // key placed is everyone's (each writing its own left them with different keys).
            let pair = seed ?? StaticKeyPair.generate()
            try KeyFileIO.ensureDirectory(KeyFileIO.parentDirectory(of: privateKeyPath), mode: 0o700)
            do {
                try KeyFileIO.writeAtomically(KeyPEM.encode(privateKey: pair.privateKey), to: privateKeyPath, mode: Self.privateKeyMode,
                                              exclusive: true)
            } catch .alreadyExists {
                return (try completeFromPrivateKey(), false)
            }
            try Self.writePublicKey(pair.publicKey, to: publicKeyPath)
            return (pair, true)
        case (true, false):
            return (try completeFromPrivateKey(), false)
        case (false, true):
            throw .missing(path: privateKeyPath)
        case (true, true):
            return (try load(), false)
        }
    }

    /// The pair of the private key file alone (nil when there is none): its
    /// public half may be missing; a key that cannot be read is an error.
    public func loadPrivateKey() throws(KeyFileError) -> StaticKeyPair? {
        guard KeyFileIO.exists(privateKeyPath) else { return nil }
        return StaticKeyPair(privateKey: try KeyPEM.decodePrivateKey(try KeyFileIO.readText(privateKeyPath, requirePrivate: true), source: privateKeyPath))
    }

    /// The pair from the private key file, its public half written beside it
    /// (the same bytes whoever writes them).
    private func completeFromPrivateKey() throws(KeyFileError) -> StaticKeyPair {
        let privateKey = try KeyPEM.decodePrivateKey(try KeyFileIO.readText(privateKeyPath, requirePrivate: true), source: privateKeyPath)
        try Self.writePublicKey(privateKey.publicKey, to: publicKeyPath)
        return StaticKeyPair(privateKey: privateKey)
    }

    /// Writes one public key file (e.g. an accepted minion's key on the master).
    public static func writePublicKey(_ key: Curve25519.KeyAgreement.PublicKey, to path: String) throws(KeyFileError) {
        try KeyFileIO.writeAtomically(KeyPEM.encode(publicKey: key), to: path, mode: publicKeyMode)
    }

    /// Reads one public key file.
    public static func readPublicKey(at path: String) throws(KeyFileError) -> Curve25519.KeyAgreement.PublicKey {
        try KeyPEM.decodePublicKey(try KeyFileIO.readText(path, requirePrivate: false), source: path)
    }
}
