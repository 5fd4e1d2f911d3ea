import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// `archive.extracted` with real archives made by tar and zip, from the
/// file server, a local path and an HTTP server on 127.0.0.1; comments and
/// changes are Salt 3008.4's for the same steps.
@Suite struct ArchiveStateTests {
    let tree = Tree()

    @discardableResult
    func sh(_ line: String) throws -> String {
        let result = try ProcessRunner.runBlocking(Command(["/bin/sh", "-c", line], cwd: tree.root))
        #expect(result.retcode == 0, "\(line): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func apply(_ text: String, _ extra: String...) throws -> [Value] {
        try tree.applyStates("a", text, extra)
    }

    /// app-1.0/{README, sub/x.txt} as app.tar.gz and app.zip in the file
    /// server's files/, and a flat.tar.gz without a top-level directory.
    func makeArchives() throws {
        try sh("mkdir -p src/app-1.0/sub salt/files && echo hi > src/app-1.0/README && echo x > src/app-1.0/sub/x.txt && cd src "
               + "&& tar czf ../salt/files/app.tar.gz app-1.0 && zip -qr ../salt/files/app.zip app-1.0 && cd app-1.0 && tar czf ../../salt/files/flat.tar.gz README sub")
    }

    @Test func extractsOnceWithSaltsWords() throws {
        defer { tree.remove() }
        try makeArchives()
        let out = tree.target
        let sum = try sh("sha256sum salt/files/app.tar.gz | cut -d' ' -f1")
        let text = """
            tgz:
              archive.extracted:
                - name: \(out)/tgz
                - source: salt://files/app.tar.gz
            zip:
              archive.extracted:
                - name: \(out)/zip
                - source: salt://files/app.zip
            flat:
              archive.extracted:
                - name: \(out)/flat
                - source: salt://files/flat.tar.gz
            hashed:
              archive.extracted:
                - name: \(out)/hashed
                - source: file://\(tree.salt)/files/app.tar.gz
                - source_hash: sha256=\(sum)
            badhash:
              archive.extracted:
                - name: \(out)/badhash
                - source: \(tree.salt)/files/app.tar.gz
                - source_hash: '\(String(repeating: "0", count: 64))'
            ifmissing:
              archive.extracted:
                - name: \(out)/ifm
                - source: salt://files/app.tar.gz
                - if_missing: \(tree.root)
            """
        let preview = try apply(text, "test=True")
        #expect(preview[0]["comment"] == "Archive salt://files/app.tar.gz would be cached (if necessary) and checked to discover if extraction is needed")
        #expect(preview[3]["comment"] == .string("Archive \(tree.salt)/files/app.tar.gz would be extracted to \(out)/hashed/, due to absence of one or more files/dirs"))
        let first = try apply(text)
        #expect(first[0]["comment"] == .string("salt://files/app.tar.gz extracted to \(out)/tgz/, due to absence of one or more files/dirs"))
        #expect(first[0]["changes"] == ["directories_created": [.string(out + "/tgz/")],
                                        "extracted_files": ["app-1.0", "app-1.0/README", "app-1.0/sub", "app-1.0/sub/x.txt"]])
        #expect(first[1]["changes"]?["extracted_files"] == ["app-1.0/", "app-1.0/README", "app-1.0/sub/", "app-1.0/sub/x.txt"])
        #expect(tree.read(out + "/zip/app-1.0/sub/x.txt") == "x\n")
        #expect(first[2]["result"] == false)
        #expect(first[2]["comment"]?.stringValue?.hasPrefix("Archive does not have a single top-level directory. To allow this archive to be extracted, set 'enforce_toplevel' to False.") == true)
        #expect(first[3]["result"] == true)
        #expect(first[4]["comment"] == .string("\(tree.salt)/files/app.tar.gz does not match the desired source_hash \(String(repeating: "0", count: 64))"))
        #expect(first[5]["comment"] == .string("Path \(tree.root) exists"))
        #expect(!FileManager.default.fileExists(atPath: out + "/ifm"))
        let again = try apply(text)
        #expect(again[0]["comment"] == "All files in archive are already present" && again[0]["changes"] == [:])
        try FileManager.default.removeItem(atPath: out + "/tgz/app-1.0/README")
        #expect(try apply(text)[0]["changes"]?["extracted_files"] != nil)
    }

    /// `options` go to tar (its verbose listing is the file list),
    /// `--strip-components` is taken into account when checking, and
    /// `trim_output` cuts the list; an http:// source is downloaded.
    @Test func optionsTrimAndHTTP() throws {
        defer { tree.remove() }
        try makeArchives()
        let out = tree.target
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        // Below the CLI tests' ports (testPort: 20000–31999), which run in this process too.
        let port = 19000 + Int(getpid() % 1000)
        server.arguments = ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", tree.salt + "/files"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        let sum = try sh("sha256sum salt/files/app.tar.gz | cut -d' ' -f1")
        // SIGKILL: the test process may hold SIGTERM blocked, and a child inherits that mask.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let text = """
            stripped:
              archive.extracted:
                - name: \(out)/stripped
                - source: salt://files/app.tar.gz
                - options: --strip-components=1
                - enforce_toplevel: False
            trimmed:
              archive.extracted:
                - name: \(out)/flat
                - source: salt://files/flat.tar.gz
                - enforce_toplevel: False
                - trim_output: 2
            web:
              archive.extracted:
                - name: \(out)/web
                - source: http://127.0.0.1:\(port)/app.tar.gz
                - source_hash: sha256=\(sum)
            unverified:
              archive.extracted:
                - name: \(out)/unverified
                - source: http://127.0.0.1:\(port)/app.tar.gz
            """
        var first: [Value] = []
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {  // until the server listens
            first = try apply(text)
            if first[2]["result"] == true { break }
            try FileManager.default.removeItem(atPath: out)
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(first[0]["changes"]?["extracted_files"] == ["app-1.0/README", "app-1.0/sub/", "app-1.0/sub/x.txt"])
        #expect(tree.read(out + "/stripped/README") == "hi\n")
        #expect(first[1]["changes"]?["extracted_files"]?.listValue?.count == 2)
        #expect(first[1]["comment"]?.stringValue?.hasSuffix(". Output was trimmed to 2 number of lines") == true)
        #expect(first[2]["comment"] == .string("http://127.0.0.1:\(port)/app.tar.gz extracted to \(out)/web/, due to absence of one or more files/dirs"))
        #expect(tree.read(out + "/web/app-1.0/README") == "hi\n")
        // Salt's rule: a remote archive without source_hash is refused unless skip_verify.
        #expect(first[3]["comment"] == .string("Unable to verify upstream hash of source file http://127.0.0.1:\(port)/app.tar.gz, please set source_hash or set skip_verify to True"))
        let again = try apply(text)
        #expect(again.prefix(3).allSatisfy { $0["comment"] == "All files in archive are already present" })
    }
}
