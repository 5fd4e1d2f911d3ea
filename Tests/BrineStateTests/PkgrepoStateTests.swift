import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// `pkgrepo.managed`/`absent` on the machine's real APT lists (a file of
/// its own in /etc/apt/sources.list.d, removed afterwards; no index
/// refresh, which would reach Debian's mirrors); words and changes as Salt
/// 3008.4 gives them on the same steps.
@Suite(.serialized) struct PkgrepoStateTests {
    let tree = Tree()
    let list = "/etc/apt/sources.list.d/brine-test-\(getpid()).list"

    func apply(_ text: String, _ extra: String...) throws -> Value {
        try tree.applyStates("r", text, extra).first ?? .null
    }

    func managed(_ line: String, _ extra: String = "") -> String {
        "repo:\n  pkgrepo.managed:\n    - name: \(line)\n    - file: \(list)\n    - refresh: False\n" + extra
    }

    @Test func managedThenChangedThenAbsent() throws {
        defer { tree.remove(); try? FileManager.default.removeItem(atPath: list) }
        let line = "deb [trusted=yes] file:\(tree.root)/repo ./"
        let preview = try apply(managed(line), "test=True")
        #expect(preview["changes"] == ["repo": .string(line)])
        #expect(preview["comment"] == .string("Package repo '\(line)' would be configured. This may cause pkg states to behave differently than "
                                              + "stated if this action is repeated without test=True, due to the differences in the configured repositories."))
        #expect(!FileManager.default.fileExists(atPath: list))
        let added = try apply(managed(line))
        #expect(added["comment"] == .string("Configured package repo '\(line)'"))
        #expect(tree.read(list) == line + "\n")
        let info = try FileManager.default.attributesOfItem(atPath: list)
        #expect((info[.posixPermissions] as? Int) == 0o644)
        #expect(try apply(managed(line))["changes"] == [:])
        let ctx = try tree.context()
        let repo = try ctx.loader.call("pkg.get_repo", CallArguments.parse([line]), context: ctx)
        #expect(repo["file"] == .string(list) && repo["dist"] == "./" && repo["architectures"] == [])
        let withArch = "deb [trusted=yes arch=amd64] file:\(tree.root)/repo ./"
        let changed = try apply(managed(withArch))
        #expect(changed["changes"] == ["line": ["new": .string(withArch), "old": .string(line)], "architectures": ["new": ["amd64"], "old": []]])
        #expect(tree.read(list) == withArch + "\n")
        let absent = "gone:\n  pkgrepo.absent:\n    - name: \(withArch)\n"
        #expect(try apply(absent, "test=True")["result"] == .null)
        let removed = try apply(absent)
        #expect(removed["comment"] == .string("Removed repo \(withArch)") && removed["changes"] == ["repo": .string(withArch)])
        #expect(!FileManager.default.fileExists(atPath: list))
        #expect(try apply(absent)["comment"] == .string("Package repo \(withArch) is absent"))
    }

    /// `key_url` into `signed_by` (written once, then left alone) and
    /// `clean_file`, which leaves only this entry in the file.
    @Test func keyAndCleanFile() throws {
        defer { tree.remove(); try? FileManager.default.removeItem(atPath: list) }
        try "deb http://127.0.0.1:9/other stable main\n".write(toFile: list, atomically: true, encoding: .utf8)
        let keyring = tree.target + "/keyrings/test.key"
        try tree.write(tree.salt + "/files/test.key", "not really a key\n")
        let line = "deb [signed-by=\(keyring)] file:\(tree.root)/repo ./"
        let text = managed(line, "    - key_url: salt://files/test.key\n    - signed_by: \(keyring)\n    - clean_file: True\n")
        let first = try apply(text)
        #expect(first["result"] == true)
        #expect(tree.read(keyring) == "not really a key\n")
        #expect(tree.read(list) == line + "\n")
        #expect(try apply(text.replacingOccurrences(of: "    - clean_file: True\n", with: ""))["changes"] == [:])
    }

    /// A `.sources` file: the deb822 stanza Salt 3008.4 writes for the same
    /// line (fields in its order, Trusted for a flat repository), then left
    /// alone on the next run (Salt rewrites it every time: README), changed
    /// in place, and removed with its file.
    @Test func deb822SourcesFile() throws {
        let sources = "/etc/apt/sources.list.d/brine-test-\(getpid()).sources"
        defer { tree.remove(); try? FileManager.default.removeItem(atPath: sources) }
        func managed(_ line: String) -> String {
            "repo:\n  pkgrepo.managed:\n    - name: \(line)\n    - file: \(sources)\n    - refresh: False\n"
        }
        let line = "deb [signed-by=/usr/share/keyrings/x.gpg arch=amd64] http://127.0.0.1:1/debian bookworm main contrib"
        let added = try apply(managed(line))
        #expect(added["comment"] == .string("Configured package repo '\(line)'") && added["changes"] == ["repo": .string(line)], "\(added)")
        #expect(tree.read(sources) == """
            Types: deb
            URIs: http://127.0.0.1:1/debian
            Suites: bookworm
            Components: main contrib
            Signed-By: /usr/share/keyrings/x.gpg
            Architectures: amd64

            """)
        let again = try apply(managed(line))
        #expect(again["comment"] == .string("Package repo '\(line)' already configured") && again["changes"] == [:], "\(again)")
        let flat = "deb [trusted=yes] http://127.0.0.1:2/ ./"
        #expect(try apply(managed(flat))["result"] == true)
        #expect((tree.read(sources) ?? "").hasSuffix("Architectures: amd64\n\nTypes: deb\nURIs: http://127.0.0.1:2/\nSuites: ./\nTrusted: yes\n"))
        let ctx = try tree.context()
        let repo = try ctx.loader.call("pkg.get_repo", CallArguments.parse([flat]), context: ctx)
        #expect(repo["file"] == .string(sources) && repo["uri"] == "http://127.0.0.1:2/", "\(repo)")
        // Fields Brine does not write, and comments, stay where they are.
        try (tree.read(sources) ?? "").replacingOccurrences(of: "Suites: bookworm\n", with: "Suites: bookworm\nX-Repolib-Name: mine\n# kept\n")
            .write(toFile: sources, atomically: true, encoding: .utf8)
        let narrowed = line.replacingOccurrences(of: " contrib", with: "")
        let changed = try apply(managed(narrowed))
        #expect(changed["changes"]?["comps"] == ["new": ["main"], "old": ["main", "contrib"]], "\(changed)")
        #expect((tree.read(sources) ?? "").hasPrefix("Types: deb\nURIs: http://127.0.0.1:1/debian\nSuites: bookworm\nX-Repolib-Name: mine\n# kept\nComponents: main\nSigned-By:"),
                "\(tree.read(sources) ?? "")")
        for entry in [narrowed, flat] {
            let removed = try apply("gone:\n  pkgrepo.absent:\n    - name: \(entry)\n")
            #expect(removed["comment"] == .string("Removed repo \(entry)"), "\(removed)")
        }
        #expect(!FileManager.default.fileExists(atPath: sources))
    }
}
