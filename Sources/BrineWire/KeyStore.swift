import BrineCore
import Crypto
import Foundation

/// The master's minion keys, kept as Salt keeps them: one public key file
/// per minion id in `pki_dir/minions` (accepted), `minions_pre` (waiting),
/// `minions_rejected` and `minions_denied` (an id that came back with a
/// different key). Nothing reaches a minion until its key is in `minions`.
public struct KeyStore: Sendable {
    public enum Status: String, CaseIterable, Sendable {
        case accepted = "minions"
        case denied = "minions_denied"
        case pending = "minions_pre"
        case rejected = "minions_rejected"

        /// Salt's section headings, in `salt-key -L` order.
        public var heading: String {
            switch self {
            case .accepted: "Accepted Keys"
            case .denied: "Denied Keys"
            case .pending: "Unaccepted Keys"
            case .rejected: "Rejected Keys"
            }
        }

        /// `-l` words: `acc`, `un`, `rej`, `den` and their long forms.
        public static func parse(_ word: String) -> [Status]? {
            switch word.lowercased() {
            case "acc", "accepted": [.accepted]
            case "un", "unaccepted", "pre", "preaccepted": [.pending]
            case "rej", "rejected": [.rejected]
            case "den", "denied": [.denied]
            case "all": allCases
            default: nil
            }
        }
    }

    public let pkiDir: String

    public init(pkiDir: String) {
        self.pkiDir = pkiDir
    }

    public func directory(_ status: Status) -> String { pkiDir + "/" + status.rawValue }

    /// Creates the key directories (0700), as the master does at start.
    public func prepare() throws(BrineError) {
        try? PrivateDirectory.make(pkiDir)
        for status in Status.allCases {
            try? PrivateDirectory.make(directory(status))
            guard FileManager.default.fileExists(atPath: directory(status)) else {
                throw BrineError(.io, "cannot create \(directory(status))", hint: "check that pki_dir is writable by this user")
            }
        }
    }

    /// A minion id as a file name: at most 255 bytes (the file system's
    /// limit is in bytes, not characters), no path separators, no leading
    /// dot, no control, bidirectional-override or zero-width characters
    /// (which would make two ids look alike in `brine key` or a log). Ids
    /// arrive from the network and are never trusted.
    public static func validate(id: String) throws(BrineError) {
        guard !id.isEmpty, id.utf8.count <= 255, !id.hasPrefix("."), !id.contains("/"),
            id.unicodeScalars.allSatisfy({ LogText.isSafe($0) || $0 == "\\" })
        else {
            throw BrineError(.permission, "invalid minion id '\(LogText.escape(id))'")
        }
    }

    public func list(_ status: Status) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory(status))) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Whether `id` has a key file in this section (false for ids that are not valid file names).
    public func publicKeyExists(_ id: String, in status: Status) -> Bool {
        (try? KeyStore.validate(id: id)) != nil && FileManager.default.fileExists(atPath: directory(status) + "/" + id)
    }

    public func status(of id: String) -> Status? {
        guard (try? KeyStore.validate(id: id)) != nil else { return nil }
        return Status.allCases.first { FileManager.default.fileExists(atPath: directory($0) + "/" + id) }
    }

    public func publicKey(_ id: String, in status: Status) throws(KeyFileError) -> Curve25519.KeyAgreement.PublicKey {
        try KeyFiles.readPublicKey(at: directory(status) + "/" + id)
    }

    /// Records a connecting minion's key and says whether it may talk.
    /// `autoAccept` and `autosign` (globs from `autosign_file`) put new keys
    /// straight into `minions`.
    /// - Parameter maximumPending: new ids beyond this many waiting keys are
    ///   rejected without being written (strangers cannot fill `minions_pre`).
    public func admit(id: String, key: Curve25519.KeyAgreement.PublicKey, autoAccept: Bool = false,
                      autosign: [String] = [], maximumPending: Int = 10_000) throws -> KeyAdmission
    {
        try KeyStore.validate(id: id)
        try prepare()
        for status in [Status.accepted, .rejected, .pending] {
            let path = directory(status) + "/" + id
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let known = try KeyFiles.readPublicKey(at: path)
            if known.rawRepresentation == key.rawRepresentation {
                return status == .accepted ? .accepted : status == .rejected ? .rejected : .pending
            }
            try KeyFiles.writePublicKey(key, to: directory(.denied) + "/" + id)
            return .denied
        }
        let autosigned = autoAccept || autosign.contains { Glob.match(id, $0) }
        if !autosigned, list(.pending).count >= maximumPending { return .rejected }
        try KeyFiles.writePublicKey(key, to: directory(autosigned ? .accepted : .pending) + "/" + id)
        return autosigned ? .accepted : .pending
    }

    /// What `brine key` and `POST /keys` may change.
    public enum Action: String, Sendable {
        case accept, reject, delete
    }

    /// The sections an action takes keys from, as salt-key: accept and reject
    /// act on pending keys, other sections only when named. A denied key (an
    /// id that came back with another key) is accepted only on request: by
    /// default an impostor cannot be let in by a bulk or API action.
    public static func sources(for action: Action, includeRejected: Bool = false, includeDenied: Bool = false,
                               includeAccepted: Bool = false) -> [Status]
    {
        switch action {
        case .accept: [.pending] + (includeRejected ? [.rejected] : []) + (includeDenied ? [.denied] : [])
        case .reject: [.pending] + (includeAccepted ? [.accepted] : []) + (includeDenied ? [.denied] : [])
        case .delete: Status.allCases
        }
    }

    public func move(_ id: String, from: Status, to: Status) throws(BrineError) {
        try KeyStore.validate(id: id)
        try prepare()
        guard rename(directory(from) + "/" + id, directory(to) + "/" + id) == 0 else {
            throw BrineError(.io, "cannot move the key of \(id): \(systemError(errno))")
        }
    }

    public func delete(_ id: String, from status: Status) throws(BrineError) {
        try KeyStore.validate(id: id)
        guard unlink(directory(status) + "/" + id) == 0 else {
            throw BrineError(.io, "cannot delete the key of \(id): \(systemError(errno))")
        }
    }

    /// Puts a public key straight into `minions` (pre-seeding, as with
    /// Salt's `--gen-keys` plus a copy into `pki_dir/minions/ID`).
    public func preseed(id: String, key: Curve25519.KeyAgreement.PublicKey) throws {
        try KeyStore.validate(id: id)
        try prepare()
        for status in Status.allCases where status != .accepted {
            try? FileManager.default.removeItem(atPath: directory(status) + "/" + id)
        }
        try KeyFiles.writePublicKey(key, to: directory(.accepted) + "/" + id)
    }

    public func fingerprint(_ id: String, in status: Status) -> String? {
        guard let key = try? publicKey(id, in: status) else { return nil }
        return KeyFingerprint.of(key)
    }
}
