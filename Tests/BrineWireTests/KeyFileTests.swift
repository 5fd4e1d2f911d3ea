import Crypto
import Foundation
import Synchronization
import Testing

import BrineWire

/// A fresh directory per test, removed afterwards.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("brinewire-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func mode(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return try #require(attributes[.posixPermissions] as? Int)
}

@Suite("Key files in pki_dir")
struct KeyFileTests {
    @Test("write then load round-trips, with Salt's names and modes")
    func roundTrip() throws {
        let temp = try TemporaryDirectory()
        let pki = "\(temp.path)/pki/minion"  // missing: created 0700
        try FileManager.default.createDirectory(atPath: "\(temp.path)/pki", withIntermediateDirectories: true)
        let files = KeyFiles(directory: pki, name: "minion")
        #expect(files.privateKeyPath == "\(pki)/minion.pem")
        #expect(files.publicKeyPath == "\(pki)/minion.pub")

        let pair = StaticKeyPair.generate()
        try files.write(pair)
        let loaded = try files.load()
        #expect(loaded.privateKey.rawRepresentation == pair.privateKey.rawRepresentation)
        #expect(loaded.fingerprint == pair.fingerprint)
        #expect(try mode(of: files.privateKeyPath) == 0o400)
        #expect(try mode(of: files.publicKeyPath) == 0o644)
        #expect(try mode(of: pki) == 0o700)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: pki).sorted()
        #expect(leftovers == ["minion.pem", "minion.pub"])

        let text = try String(contentsOfFile: files.privateKeyPath, encoding: .utf8)
        #expect(text.hasPrefix("-----BEGIN BRINE X25519 PRIVATE KEY-----\n"))
        #expect(text.hasSuffix("\n-----END BRINE X25519 PRIVATE KEY-----\n"))
        let publicText = try String(contentsOfFile: files.publicKeyPath, encoding: .utf8)
        #expect(publicText.hasPrefix("-----BEGIN BRINE X25519 PUBLIC KEY-----\n"))
    }

    @Test("existing keys are not overwritten unless asked")
    func noOverwrite() throws {
        let temp = try TemporaryDirectory()
        let files = KeyFiles(directory: temp.path, name: "master")
        let first = StaticKeyPair.generate()
        try files.write(first)
        #expect(throws: KeyFileError.alreadyExists(path: files.privateKeyPath)) {
            try files.write(.generate())
        }
        #expect(try files.load().fingerprint == first.fingerprint)
        let second = StaticKeyPair.generate()
        try files.write(second, overwrite: true)  // replaces even the 0400 file, via rename
        #expect(try files.load().fingerprint == second.fingerprint)
    }

    @Test("loadOrGenerate creates once, then loads; rebuilds a lost .pub")
    func loadOrGenerate() throws {
        let temp = try TemporaryDirectory()
        let files = KeyFiles(directory: temp.path, name: "minion")
        let (created, wasCreated) = try files.loadOrGenerate()
        #expect(wasCreated)
        let (again, createdAgain) = try files.loadOrGenerate()
        #expect(!createdAgain && again.fingerprint == created.fingerprint)

        try FileManager.default.removeItem(atPath: files.publicKeyPath)
        #expect(throws: KeyFileError.missing(path: files.publicKeyPath)) { try files.load() }
        #expect(try files.loadOrGenerate().pair.fingerprint == created.fingerprint)
        #expect(try KeyFiles.readPublicKey(at: files.publicKeyPath).rawRepresentation == created.publicKey.rawRepresentation)

        try FileManager.default.removeItem(atPath: files.privateKeyPath)
        #expect(throws: KeyFileError.missing(path: files.privateKeyPath)) { try files.loadOrGenerate() }
    }

    /// Masters of a cluster started together on one empty `cluster_pki_dir`
    /// (issue 19): each used to write a key of its own, the last file won,
    /// and the others served minions with a key no longer on disk. Now the
    /// first key placed is everyone's. Eight threads race on each of 20
    /// fresh directories: real files, a real race.
    @Test("processes making the same key at once all end with one key")
    func concurrentFirstStart() throws {
        for _ in 0..<20 {
            let temp = try TemporaryDirectory()
            let files = KeyFiles(directory: "\(temp.path)/cluster", name: "cluster")
            let results = Mutex<[(fingerprint: String, created: Bool)]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                if let (pair, created) = try? files.loadOrGenerate() {
                    results.withLock { $0.append((pair.fingerprint, created)) }
                }
            }
            let all = results.withLock { $0 }
            #expect(all.count == 8)
            #expect(all.filter(\.created).count == 1)
            #expect(Set(all.map(\.fingerprint)) == [try files.load().fingerprint])
        }
    }

    @Test("a private key readable by others is refused, naming the file")
    func insecure() throws {
        let temp = try TemporaryDirectory()
        let files = KeyFiles(directory: temp.path, name: "minion")
        try files.write(.generate())
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: files.privateKeyPath)
        let error = #expect(throws: KeyFileError.self) { try files.load() }
        #expect(error == .insecurePermissions(path: files.privateKeyPath, mode: 0o644))
        #expect(error?.description.contains(files.privateKeyPath) == true)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: files.privateKeyPath)
        _ = try files.load()
    }

    @Test("corrupted files give clear errors with the path", arguments: [
        ("", "file is empty"),
        ("garbage\n", "missing BEGIN/END lines"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n", "Salt/OpenSSL key"),
        ("-----BEGIN BRINE X25519 PUBLIC KEY-----\nAAAA\n-----END BRINE X25519 PUBLIC KEY-----\n", "swapped"),
        ("-----BEGIN BRINE X25519 PRIVATE KEY-----\n!!!notbase64\n-----END BRINE X25519 PRIVATE KEY-----\n", "not valid base64"),
        ("-----BEGIN BRINE X25519 PRIVATE KEY-----\nAAAA\n-----END BRINE X25519 PRIVATE KEY-----\n", "3 bytes, expected 32"),
        ("-----BEGIN BRINE X25519 PRIVATE KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "expected last line"),
    ])
    func corrupted(content: String, expectedReason: String) throws {
        let temp = try TemporaryDirectory()
        let files = KeyFiles(directory: temp.path, name: "minion")
        try files.write(.generate())
        try FileManager.default.removeItem(atPath: files.privateKeyPath)
        #expect(FileManager.default.createFile(
            atPath: files.privateKeyPath, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600]))
        let error = #expect(throws: KeyFileError.self) { try files.load() }
        guard case .malformed(let path, let reason) = error else {
            Issue.record("expected .malformed, got \(String(describing: error))")
            return
        }
        #expect(path == files.privateKeyPath)
        #expect(reason.contains(expectedReason), "\(reason)")
        #expect(error?.description.hasPrefix(files.privateKeyPath) == true)
    }

    @Test("binary, oversized and directory 'key files' are refused")
    func notKeyFiles() throws {
        let temp = try TemporaryDirectory()
        let binary = "\(temp.path)/binary.pub"
        #expect(FileManager.default.createFile(atPath: binary, contents: Data([0xFF, 0xFE, 0x00, 0x80])))
        #expect(throws: KeyFileError.malformed(path: binary, reason: "not UTF-8 text (binary data?)")) {
            try KeyFiles.readPublicKey(at: binary)
        }
        let huge = "\(temp.path)/huge.pub"
        #expect(FileManager.default.createFile(atPath: huge, contents: Data(repeating: 0x41, count: 100_000)))
        let error = #expect(throws: KeyFileError.self) { try KeyFiles.readPublicKey(at: huge) }
        guard case .malformed(huge, _) = error else {
            Issue.record("expected .malformed for \(huge), got \(String(describing: error))")
            return
        }
        let directory = "\(temp.path)/dir.pub"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        #expect(throws: KeyFileError.unreadable(path: directory, reason: "not a regular file")) {
            try KeyFiles.readPublicKey(at: directory)
        }
        #expect(throws: KeyFileError.missing(path: "\(temp.path)/nope.pub")) {
            try KeyFiles.readPublicKey(at: "\(temp.path)/nope.pub")
        }
    }

    @Test("a .pub from another key pair is detected")
    func mismatched() throws {
        let temp = try TemporaryDirectory()
        let files = KeyFiles(directory: temp.path, name: "minion")
        try files.write(.generate())
        try KeyFiles.writePublicKey(StaticKeyPair.generate().publicKey, to: files.publicKeyPath)
        #expect(throws: KeyFileError.mismatchedPair(
            privateKeyPath: files.privateKeyPath, publicKeyPath: files.publicKeyPath)) { try files.load() }
    }

    @Test("fingerprint: SHA-256 of the raw public key as colon-separated hex pairs")
    func fingerprint() throws {
        // Public key from the cacophony vector's responder static key.
        let key = try Curve25519.KeyAgreement.PrivateKey(
            rawRepresentation: hex("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893"))
        let fingerprint = KeyFingerprint.of(key.publicKey)
        let expected = SHA256.hash(data: key.publicKey.rawRepresentation)
            .map { String(format: "%02x", $0) }.joined(separator: ":")
        #expect(fingerprint == expected)
        #expect(fingerprint.count == 32 * 3 - 1)
        #expect(fingerprint.split(separator: ":").allSatisfy { $0.count == 2 })
        #expect(KeyFingerprint.matches(fingerprint.replacingOccurrences(of: ":", with: ""), key.publicKey))
        // Public key 0x09 followed by zeros (the X25519 base point) has a known SHA-256.
        let basePoint = [UInt8(9)] + [UInt8](repeating: 0, count: 31)
        #expect(KeyFingerprint.of(rawPublicKey: basePoint)
            == SHA256.hash(data: basePoint).map { String(format: "%02x", $0) }.joined(separator: ":"))
    }
}
