import BrineCore
import BrineWire
import Foundation
import Testing

@Suite struct KeyStoreTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brine-pki-\(UUID().uuidString)").path

    @Test func admissionFollowsSalt() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = KeyStore(pkiDir: dir)
        let key = StaticKeyPair.generate().publicKey
        #expect(try store.admit(id: "web1", key: key) == .pending)
        #expect(store.list(.pending) == ["web1"])
        #expect(try store.admit(id: "web1", key: key) == .pending)
        try store.move("web1", from: .pending, to: .accepted)
        #expect(try store.admit(id: "web1", key: key) == .accepted)
        // The same id with another key is denied and recorded.
        let other = StaticKeyPair.generate().publicKey
        #expect(try store.admit(id: "web1", key: other) == .denied)
        #expect(store.list(.denied) == ["web1"])
        #expect(try store.admit(id: "web1", key: key) == .accepted)
        // auto_accept and autosign globs.
        #expect(try store.admit(id: "auto", key: other, autoAccept: true) == .accepted)
        #expect(try store.admit(id: "db7", key: StaticKeyPair.generate().publicKey, autosign: ["db*"]) == .accepted)
        #expect(store.fingerprint("web1", in: .accepted) == KeyFingerprint.of(key))
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/minions")[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test func idsFromTheNetworkAreNeverPaths() {
        let store = KeyStore(pkiDir: dir)
        let key = StaticKeyPair.generate().publicKey
        for bad in ["../etc/passwd", "a/b", ".hidden", "", "x\u{0}y", String(repeating: "a", count: 300)] {
            #expect(throws: BrineError.self) { try store.admit(id: bad, key: key) }
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/etc"))
    }
}
