import BrineCore
import Crypto

/// Where a master's minion keys live: files in `pki_dir` (`KeyStore`, one
/// master) or the cluster's database (`ClusterKeys`, several masters, where
/// every change is one atomic statement). The master, `brine key` and the
/// REST API use only this.
public protocol MinionKeys: Sendable {
    func list(_ status: KeyStore.Status) async throws -> [String]
    func status(of id: String) async throws -> KeyStore.Status?
    /// Whether `id` has a key in this section (false for ids that are not valid).
    func contains(_ id: String, in status: KeyStore.Status) async throws -> Bool
    func publicKey(_ id: String, in status: KeyStore.Status) async throws -> Curve25519.KeyAgreement.PublicKey
    /// Records a connecting minion's key and says whether it may talk (see `KeyStore.admit`).
    func admit(id: String, key: Curve25519.KeyAgreement.PublicKey, autoAccept: Bool, autosign: [String], maximumPending: Int) async throws -> KeyAdmission
    /// Moves a key between sections; fails when it is no longer in `from`
    /// (another master or `brine key` acted first).
    func move(_ id: String, from: KeyStore.Status, to: KeyStore.Status) async throws
    func delete(_ id: String, from status: KeyStore.Status) async throws
    /// Puts a public key straight into the accepted section.
    func preseed(id: String, key: Curve25519.KeyAgreement.PublicKey) async throws
}

extension MinionKeys {
    /// Ids matching a glob in the given sections, with their section.
    public func matching(_ glob: String, in statuses: [KeyStore.Status]) async throws -> [(id: String, status: KeyStore.Status)] {
        var out: [(id: String, status: KeyStore.Status)] = []
        for status in statuses {
            for id in try await list(status) where Glob.match(id, glob) { out.append((id, status)) }
        }
        return out
    }

    public func fingerprint(_ id: String, in status: KeyStore.Status) async -> String? {
        guard let key = try? await publicKey(id, in: status) else { return nil }
        return KeyFingerprint.of(key)
    }
}

extension KeyStore: MinionKeys {
    public func contains(_ id: String, in status: KeyStore.Status) -> Bool { publicKeyExists(id, in: status) }
}
