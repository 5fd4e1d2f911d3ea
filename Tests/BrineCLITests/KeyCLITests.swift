import BrineCore
import Foundation
import Testing

/// `brine key` against Salt 3008's salt-key text (shared/reference/salt-cli-output.md).
@Suite struct KeyCLITests {
    let root = tempDir()

    func key(_ words: [String]) throws -> Run {
        try brine(words, as: "salt-key", environment: ["SALT_CONFIG_DIR": root + "/etc"])
    }

    func setUp(pending: [String]) throws {
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "root_dir: \(root)\npki_dir: pki/master\n".write(toFile: root + "/etc/master", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/pki/master/minions_pre", withIntermediateDirectories: true)
        for id in pending {
            #expect(try brine(["key", "--gen-keys", id, "--gen-keys-dir", root]).code == 0)
            try FileManager.default.copyItem(atPath: root + "/\(id).pub", toPath: root + "/pki/master/minions_pre/\(id)")
        }
    }

    @Test func seedSequence() throws {
        try setUp(pending: [])
        #expect(try key([]).stdout == "Accepted Keys:\nDenied Keys:\nUnaccepted Keys:\nRejected Keys:\n")
        try setUp(pending: ["jessie1", "53bf7d8db530"])
        #expect(try key(["-L"]).stdout == "Accepted Keys:\nDenied Keys:\nUnaccepted Keys:\n53bf7d8db530\njessie1\nRejected Keys:\n")
        #expect(try key(["-l", "un"]).stdout == "Unaccepted Keys:\n53bf7d8db530\njessie1\n")
        let accepted = try key(["-y", "-a", "53bf7d8db530"])
        #expect(accepted.stdout == "The following keys are going to be accepted:\nUnaccepted Keys:\n53bf7d8db530\nKey for minion 53bf7d8db530 accepted.\n")
        #expect(try key(["-y", "-a", "jessie1"]).code == 0)
        #expect(try key(["-L", "--out=json"]).stdout
            == "{\n    \"minions_pre\": [],\n    \"minions_rejected\": [],\n    \"minions\": [\n        \"53bf7d8db530\",\n        \"jessie1\"\n    ],\n    \"minions_denied\": []\n}\n")
        #expect(try key(["-y", "-a", "nosuchminion"]).stdout == "The key glob 'nosuchminion' does not match any unaccepted keys.\n")
        #expect(try key(["-L", "--force-color"]).stdout
            == "\u{1B}[0;1;32mAccepted Keys:\u{1B}[0;0m\n\u{1B}[0;32m53bf7d8db530\u{1B}[0;0m\n\u{1B}[0;32mjessie1\u{1B}[0;0m\n\u{1B}[0;1;35mDenied Keys:\u{1B}[0;0m\n\u{1B}[0;1;31mUnaccepted Keys:\u{1B}[0;0m\n\u{1B}[0;1;34mRejected Keys:\u{1B}[0;0m\n")
        let fingers = try key(["-f", "jessie1"]).stdout
        #expect(fingers.hasPrefix("Accepted Keys:\njessie1:  "))
        #expect(fingers.filter { $0 == ":" }.count == 33)  // heading, id, 31 between 32 hex pairs
        #expect(try key(["-d", "jessie1", "-y"]).stdout == "The following keys are going to be deleted:\nAccepted Keys:\njessie1\nKey for minion jessie1 deleted.\n")
    }

    @Test func rejectAndConfirmation() throws {
        try setUp(pending: ["m1", "m2"])
        // No -y and stdin closed: nothing changes.
        #expect(try key(["-A"]).stdout.hasSuffix("Proceed? [n/Y] \n"))
        #expect(try key(["-l", "acc"]).stdout == "Accepted Keys:\n")
        #expect(try key(["-y", "-r", "m2"]).stdout.hasSuffix("Key for minion m2 rejected.\n"))
        #expect(try key(["-y", "-A"]).stdout.hasSuffix("Key for minion m1 accepted.\n"))
        #expect(try key(["-y", "-a", "m2", "--include-rejected"]).stdout.hasSuffix("Key for minion m2 accepted.\n"))
        #expect(try key(["-l", "acc"]).stdout == "Accepted Keys:\nm1\nm2\n")
        #expect(try key(["-l", "bogus"]).code == 1)
    }
}
