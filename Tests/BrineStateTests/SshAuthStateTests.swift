import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// `ssh_auth.present`/`absent` on a real key file (root's, at an absolute
/// `config` path in a temporary directory); answers recorded from Salt
/// 3008.4 on the same steps.
@Suite struct SshAuthStateTests {
    let tree = Tree()
    // Two real public keys (ssh-keygen output), one with options in the line.
    let ed25519 = "AAAAC3NzaC1lZDI1NTE5AAAAIM3gT3QF1LoG+zq/6WmOB9clc09x9SVemw0y7HYCDwML"
    let rsa = "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDVBMWYV9HlvMiUefqTCSP26xjyZkfOcdYrV67CvBDcaoyKK7Et1Utplq709Fu9+O84f01y4IAqhrIfyxatBpMutnOSLCgqRC26+0seEiKVpJfhkiyEIGxA6okQrpj563PCLbvMB88ai4c/8wLti3YUdt89LrmktnJpvWT3vsihHw=="
    var keys: String { tree.target + "/ssh/authorized_keys" }

    func apply(_ text: String, _ extra: String...) throws -> [Value] {
        try tree.applyStates("k", text, extra)
    }

    @Test func presentAbsentAndSource() throws {
        defer { tree.remove() }
        let text = """
            bare:
              ssh_auth.present:
                - name: \(ed25519)
                - user: root
                - enc: ed25519
                - comment: first
                - config: \(keys)
            line:
              ssh_auth.present:
                - name: 'no-pty,command="/bin/true" ssh-rsa \(rsa) k2 comment'
                - user: root
                - config: \(keys)
            """
        let preview = try apply(text, "test=True")
        #expect(preview.first?["comment"] == .string("Key \(ed25519) for user root is set to be added"))
        #expect(!FileManager.default.fileExists(atPath: keys))
        let added = try apply(text)
        #expect(added.first?["changes"] == [ed25519: "New"])
        #expect(added.last?["comment"] == .string("The authorized host key \(rsa) for user root was added"))
        #expect(tree.read(keys) == "ssh-ed25519 \(ed25519) first\nno-pty,command=\"/bin/true\" ssh-rsa \(rsa) k2 comment\n")
        let info = try FileManager.default.attributesOfItem(atPath: keys)
        #expect((info[.posixPermissions] as? Int) == 0o600)
        #expect(try apply(text).first?["comment"] == .string("The authorized host key \(ed25519) is already present for user root"))
        try tree.write(tree.salt + "/keys/k.pub", "ssh-rsa \(rsa) k2 comment\n")
        let second = """
            changed:
              ssh_auth.present:
                - name: \(ed25519)
                - user: root
                - enc: ssh-ed25519
                - comment: second
                - config: \(keys)
            gone:
              ssh_auth.absent:
                - name: \(rsa)
                - user: root
                - config: \(keys)
            fromfile:
              ssh_auth.present:
                - source: salt://keys/k.pub
                - user: root
                - config: \(keys)
            """
        let planned = try apply(second, "test=True")
        #expect(planned[1]["comment"] == .string("Key \(rsa) for user root is set for removal"))
        #expect(planned[2]["comment"] == .string("Set to update: \(rsa)\n"))
        let changed = try apply(second)
        #expect(changed[0]["changes"] == [ed25519: "Updated"])
        #expect(changed[1]["changes"] == [rsa: "Removed"])
        #expect(changed[2]["changes"] == ["fromfile": "New"])
        #expect(tree.read(keys) == "ssh-ed25519 \(ed25519) second\nssh-rsa \(rsa) k2 comment\n")
        let invalid = try apply("bad:\n  ssh_auth.present:\n    - name: not-base64!!\n    - user: root\n    - config: \(keys)\n")
        #expect(invalid.first?["comment"] == "Invalid public ssh key, most likely has spaces or invalid syntax")
    }
}

/// `ssh_known_hosts.present`/`absent` on a real known_hosts file, with
/// ssh-keygen doing the finding, removing and hashing as under Salt.
@Suite struct SshKnownHostsStateTests {
    let tree = Tree()
    let ed25519 = "AAAAC3NzaC1lZDI1NTE5AAAAIM3gT3QF1LoG+zq/6WmOB9clc09x9SVemw0y7HYCDwML"
    let rsa = "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDVBMWYV9HlvMiUefqTCSP26xjyZkfOcdYrV67CvBDcaoyKK7Et1Utplq709Fu9+O84f01y4IAqhrIfyxatBpMutnOSLCgqRC26+0seEiKVpJfhkiyEIGxA6okQrpj563PCLbvMB88ai4c/8wLti3YUdt89LrmktnJpvWT3vsihHw=="
    var file: String { tree.target + "/known_hosts" }

    func present(_ host: String, _ key: String, _ enc: String, hashed: Bool = false) -> String {
        "\(host):\n  ssh_known_hosts.present:\n    - key: \(key)\n    - enc: \(enc)\n    - config: \(file)\n"
            + (hashed ? "" : "    - hash_known_hosts: False\n")
    }

    @Test func presentUpdateAbsent() throws {
        defer { tree.remove() }
        let first = present("git.example.com", ed25519, "ssh-ed25519") + present("other.example.com", rsa, "ssh-rsa")
        #expect(try tree.applyStates("kh", first, ["test=True"])[0]["comment"] == .string("Key for git.example.com is set to be added to \(file)"))
        let added = try tree.applyStates("kh", first)
        #expect(added[0]["comment"] == .string("git.example.com's key saved to \(file) (key: \(ed25519))"))
        #expect(added[0]["changes"] == ["old": .null, "new": [["hostname": "git.example.com", "key": .string(ed25519), "enc": "ssh-ed25519"]]])
        #expect(tree.read(file) == "git.example.com ssh-ed25519 \(ed25519)\nother.example.com ssh-rsa \(rsa)\n")
        #expect(try tree.applyStates("kh", first)[0]["comment"] == .string("git.example.com already exists in \(file)"))
        let changed = try tree.applyStates("kh", present("git.example.com", rsa, "ssh-rsa"))
        #expect(changed[0]["changes"]?["old"]?.listValue?.first?["key"] == .string(ed25519))
        // Only entries of the same type are replaced (a host may have several), as in Salt.
        #expect(tree.read(file) == "git.example.com ssh-ed25519 \(ed25519)\nother.example.com ssh-rsa \(rsa)\ngit.example.com ssh-rsa \(rsa)\n")
        let absent = "gone:\n  ssh_known_hosts.absent:\n    - name: other.example.com\n    - config: \(file)\n"
        #expect(try tree.applyStates("kh", absent)[0]["changes"]?["new"] == .null)
        #expect(try tree.applyStates("kh", absent)[0]["comment"] == "Host is already absent")
        // Hashed (the default): the host no longer readable, still found by ssh-keygen.
        _ = try tree.applyStates("kh", present("hidden.example.com", ed25519, "ssh-ed25519", hashed: true))
        #expect(tree.read(file)?.contains("hidden.example.com") == false)
        let found = try ProcessRunner.runBlocking(Command(["ssh-keygen", "-F", "hidden.example.com", "-f", file]))
        #expect(found.stdout.contains(ed25519))
    }
}
