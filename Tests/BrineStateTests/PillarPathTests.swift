import Foundation
import Testing

@testable import BrineState

/// Issue 15 (4): pillar SLS files are found inside pillar_roots only; a
/// symlink out of the root (relative or absolute) is not a pillar file.
@Suite struct PillarPathTests {
    @Test func symlinksOutOfPillarRootsAreNotThere() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brine-pillar-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/pillar/app", withIntermediateDirectories: true)
        try "key: secret".write(toFile: dir + "/master.pem", atomically: true, encoding: .utf8)
        try "port: 80".write(toFile: dir + "/pillar/app/init.sls", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/pillar/stolen.sls", withDestinationPath: "../master.pem")
        try FileManager.default.createSymbolicLink(atPath: dir + "/pillar/alias.sls", withDestinationPath: "app/init.sls")
        let roots = [dir + "/pillar"]
        #expect(PillarCompiler.locate("stolen", roots: roots) == nil)
        #expect(PillarCompiler.locate("app", roots: roots)?.name == "app/init.sls")
        #expect(PillarCompiler.locate("alias", roots: roots)?.name == "alias.sls")
    }
}
