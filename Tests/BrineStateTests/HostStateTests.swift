import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// `host.present`/`absent`/`only` on a real hosts file (`hosts.file`
/// pointing into the test's directory); the file's bytes and the answers
/// are Salt 3008.4's for the same steps.
@Suite struct HostStateTests {
    let tree = Tree()
    var hosts: String { tree.target + "/hosts" }

    func apply(_ text: String, _ extra: String...) throws -> [Value] {
        try tree.applyStates("h", text, extra, options: ["hosts.file": .string(hosts)])
    }

    @Test func presentAbsentOnly() throws {
        defer { tree.remove() }
        try "127.0.0.1\tlocalhost\n# a comment line\n\n10.0.0.9  old.example.com other  # legacy\n".write(toFile: hosts, atomically: true, encoding: .utf8)
        let first = """
            web:
              host.present:
                - ip: 10.0.0.5
                - names: [web.example.com, web]
            db:
              host.present:
                - name: db.example.com
                - ip: [10.0.0.6]
                - comment: database
            dup:
              host.present:
                - name: old.example.com
                - ip: 10.0.0.7
                - clean: True
            """
        let preview = try apply(first, "test=True")
        #expect(preview[2]["comment"] == "Host db.example.com (10.0.0.6) would be added\nComment for 10.0.0.6 (database) would be added")
        #expect(preview[3]["changes"] == ["added": ["10.0.0.7": ["old.example.com"]], "removed": ["10.0.0.9": ["old.example.com"]]])
        let applied = try apply(first)
        #expect(applied[3]["comment"] == "Added host old.example.com (10.0.0.7)\nRemoved host old.example.com (10.0.0.9)")
        #expect(tree.read(hosts) == "127.0.0.1\t\tlocalhost\n# a comment line\n10.0.0.9\t\tother # legacy\n10.0.0.5\t\tweb.example.com web\n"
                + "10.0.0.6\t\tdb.example.com\t\t# database\n10.0.0.7\t\told.example.com\n")
        #expect(try apply(first)[0]["comment"] == "Host web.example.com (10.0.0.5) already present")
        let second = """
            gone:
              host.absent:
                - name: web
                - ip: 10.0.0.5
            onlyone:
              host.only:
                - name: 127.0.0.1
                - hostnames: [localhost, myhost]
            """
        #expect(try apply(second, "test=True")[1]["comment"] == "Would change 127.0.0.1 from \"localhost\" to \"localhost myhost\"")
        let changed = try apply(second)
        #expect(changed[0]["changes"] == ["host": "web"] && changed[0]["comment"] == "Removed host web (10.0.0.5)")
        #expect(changed[1]["changes"] == ["127.0.0.1": ["old": "localhost", "new": "localhost myhost"]])
        #expect(tree.read(hosts)?.hasPrefix("127.0.0.1\t\tlocalhost myhost\n# a comment line\n") == true)
        #expect(try apply(second)[1]["comment"] == "IP address 127.0.0.1 already set to \"localhost myhost\"")
    }
}
