import BrineCore
import BrineModules
import Foundation
import Testing

/// Issue 15 (4, 5): `salt://` paths and saltenvs from the network never leave
/// their roots, on the master (file_roots) or the minion (its file cache).
@Suite struct FileServerPathTests {
    @Test func saltenvsAreOneName() throws {
        for bad in ["../../../../tmp", "..", ".", "", "a/b", "base\n", "ba\u{202E}se", String(repeating: "e", count: 300)] {
            #expect(throws: BrineError.self) { try LocalFileClient.parse("salt://x", saltenv: bad) }
            // An empty ?saltenv= is no saltenv at all (the default stays).
            if !bad.isEmpty { #expect(throws: BrineError.self) { try LocalFileClient.parse("salt://x?saltenv=\(bad)", saltenv: "base") } }
        }
        #expect(try LocalFileClient.parse("salt://top.sls?saltenv=dev", saltenv: "base") == ("top.sls", "dev"))
    }

    @Test func relativeSymlinksOutOfTheRootAreNotThere() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("brine-roots-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/srv/salt/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/pki", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "secret".write(toFile: root + "/pki/master.pem", atomically: true, encoding: .utf8)
        try "fine".write(toFile: root + "/srv/salt/ok.txt", atomically: true, encoding: .utf8)
        // Relative links: out of the root (refused), and within it (served).
        try FileManager.default.createSymbolicLink(atPath: root + "/srv/salt/mk.pem", withDestinationPath: "../../pki/master.pem")
        try FileManager.default.createSymbolicLink(atPath: root + "/srv/salt/sub/up.pem", withDestinationPath: "../../../pki/master.pem")
        try FileManager.default.createSymbolicLink(atPath: root + "/srv/salt/sub/ok.txt", withDestinationPath: "../ok.txt")
        let files = LocalFileClient(roots: ["base": [root + "/srv/salt"]])
        #expect(try files.cache("salt://mk.pem", saltenv: "base") == nil)
        #expect(try files.cache("salt://sub/up.pem", saltenv: "base") == nil)
        #expect(try files.cache("salt://sub/ok.txt", saltenv: "base") != nil)
        #expect(throws: BrineError.self) { try files.cache("salt://../pki/master.pem", saltenv: "base") }
        let listed = try files.listFiles(saltenv: "base")
        #expect(listed.contains("ok.txt") && listed.contains("sub/ok.txt") && !listed.contains("mk.pem") && !listed.contains("sub/up.pem"))
    }
}
