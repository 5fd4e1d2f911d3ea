import BrineWire
import Foundation
import Glibc
import Synchronization
import Testing

@testable import BrineCore
@testable import BrineMaster

/// Issue 15's smaller items, each against the real thing: files, keys, tasks.
@Suite struct HardeningTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brine-hardening-\(UUID().uuidString)").path

    /// Strangers cannot fill `minions_pre`: past the limit a new id is rejected, unwritten.
    @Test func pendingKeysAreCapped() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = KeyStore(pkiDir: dir)
        #expect(try store.admit(id: "a", key: StaticKeyPair.generate().publicKey, maximumPending: 2) == .pending)
        #expect(try store.admit(id: "b", key: StaticKeyPair.generate().publicKey, maximumPending: 2) == .pending)
        #expect(try store.admit(id: "c", key: StaticKeyPair.generate().publicKey, maximumPending: 2) == .rejected)
        #expect(store.list(.pending) == ["a", "b"] && store.list(.rejected).isEmpty)
        // Auto-accepted ids are not waiting: the cap does not apply to them.
        #expect(try store.admit(id: "d", key: StaticKeyPair.generate().publicKey, autoAccept: true, maximumPending: 2) == .accepted)
        // Ids that look alike are not ids.
        for bad in ["web\u{202E}1", "web\u{200B}1", "web\n1", String(repeating: "é", count: 200)] {
            #expect(throws: BrineError.self) { try KeyStore.validate(id: bad) }
        }
    }

    /// Handing a tree to the daemon's user never follows a link planted in it.
    @Test(.enabled(if: geteuid() == 0)) func chownTreeDoesNotFollowLinks() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/tree/sub", withIntermediateDirectories: true)
        try "x".write(toFile: dir + "/outside", atomically: true, encoding: .utf8)
        try "y".write(toFile: dir + "/tree/sub/inside", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/tree/link", withDestinationPath: dir + "/outside")
        try FileManager.default.createSymbolicLink(atPath: dir + "/tree/dirlink", withDestinationPath: dir)
        DaemonSupport.chownTree(dir + "/tree", 65534, 65534)
        func owner(_ path: String) -> uid_t {
            var info = stat()
            lstat(path, &info)
            return info.st_uid
        }
        #expect(owner(dir + "/tree") == 65534 && owner(dir + "/tree/sub/inside") == 65534)
        #expect(owner(dir + "/tree/link") == 65534 && owner(dir + "/tree/dirlink") == 65534, "the links themselves")
        #expect(owner(dir + "/outside") == 0 && owner(dir) == 0, "never what they point to")
    }

    /// Any minion may ask for the ext_pillar repositories to be fetched: one fetch at a time, shared.
    @Test func refreshesAreCoalesced() async {
        let gate = RefreshGate(interval: .seconds(3600))
        let runs = Counter()
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await gate.refresh {
                        runs.increment()
                        Thread.sleep(forTimeInterval: 0.2)
                        return true
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 20 && results.allSatisfy { $0 })
        #expect(runs.value == 1)
    }
}

final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
