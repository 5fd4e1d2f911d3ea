import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

@Suite struct FileStateTests {
    let tree = Tree()

    func apply(_ text: String, test: Bool = false) throws -> Value {
        try tree.sls("f.sls", text)
        let ctx = try tree.context()
        return try ctx.loader.call("state.apply", CallArguments.parse(["f"] + (test ? ["test=True"] : [])), context: ctx)
    }

    @Test func managedFromTemplateWithPillarContextDefaults() throws {
        defer { tree.remove() }
        try tree.pillar("top.sls", "base:\n  '*':\n    - app\n")
        try tree.pillar("app.sls", "app:\n  port: 8080\n")
        try tree.write(tree.salt + "/app/files/app.conf.j2", """
            # {{ source }}
            listen {{ pillar['app']['port'] }}
            name {{ name }} level {{ level }}
            host {{ grains['id'] }}

            """)
        try tree.write(tree.salt + "/app/map.jinja", "{% set app = {'user': 'root', 'mode': '0640'} %}\n")
        let sls = """
            {% from 'app/map.jinja' import app with context %}
            conf:
              file.managed:
                - name: \(tree.target)/etc/app.conf
                - source: salt://app/files/app.conf.j2
                - template: jinja
                - makedirs: True
                - mode: {{ app.mode }}
                - defaults:
                    name: default
                    level: 1
                - context:
                    name: web
            """
        let result = try apply(sls)
        let ret = try #require(result.ret("conf"))
        #expect(ret["result"] == true, "\(ret)")
        #expect(ret["changes"] == ["diff": "New file", "mode": "0640"])
        #expect(tree.read(tree.target + "/etc/app.conf") == "# app/files/app.conf.j2\nlisten 8080\nname web level 1\nhost m001\n")
        let mode = try FileManager.default.attributesOfItem(atPath: tree.target + "/etc/app.conf")[.posixPermissions] as? Int
        #expect(mode == 0o640)
        // Change the pillar: the diff shows exactly the changed line.
        try tree.pillar("app.sls", "app:\n  port: 9090\n")
        let again = try apply(sls)
        #expect(again.ret("conf")?["changes"]?["diff"] == "--- \n+++ \n@@ -1,4 +1,4 @@\n # app/files/app.conf.j2\n-listen 8080\n+listen 9090\n name web level 1\n host m001\n")
    }

    /// test=True as Salt 3008 words it (recorded with oracle.sh): cmd.run
    /// shows the command as its would-be change; file.directory lists each
    /// change as "path: what - value".
    @Test func testModeWords() throws {
        defer { tree.remove() }
        let dir = tree.root + "/newdir/sub"
        let result = try apply("""
            run it:
              cmd.run:
                - name: echo hi
            newdir:
              file.directory:
                - name: \(dir)
                - makedirs: True
            """, test: true)
        #expect(result.ret("run it")?["changes"] == ["cmd": "echo hi"])
        #expect(result.ret("run it")?["comment"] == "Command \"echo hi\" would have been executed")
        #expect(result.ret("newdir")?["comment"] == .string("The following files will be changed:\n\(dir): directory - new\n"))
        #expect(result.ret("newdir")?["changes"] == [.init(stringLiteral: dir): ["directory": "new"]])
        #expect(!FileManager.default.fileExists(atPath: dir))
    }

    /// cmd's options as Salt takes them: `template=jinja` renders the
    /// command and cwd; a `\n` typed in `stdin` is a newline unless
    /// `stdin_raw_newlines`; `hide_output` returns nothing; `run_bg` answers
    /// at once with the pid of a process that runs on.
    @Test func cmdOptions() throws {
        defer { tree.remove() }
        var ctx = try tree.context(id: "web01")
        ctx.templates = JinjaTemplates()
        func run(_ words: String...) throws -> Value { try ctx.loader.call(words[0], CallArguments.parse(Array(words.dropFirst())), context: ctx) }
        #expect(try run("cmd.run", "echo {{ grains.id }} $PWD", "template=jinja", "cwd=/{{ 'tmp' }}") == "web01 /tmp")
        #expect(throws: BrineError.self) { try run("cmd.run", "echo x", "template=mako") }
        #expect(try run("cmd.run", "cat", "stdin=a\\nb") == "a\nb")
        #expect(try run("cmd.run", "cat", "stdin=a\\nb", "stdin_raw_newlines=True") == "a\\nb")
        #expect(try run("cmd.run", "echo secret", "hide_output=True") == "")
        // Salt's clean_env passes nothing, not even PATH; redirect_stderr=False keeps stderr out of cmd.run.
        #expect(try run("cmd.run", "env", "clean_env=True").stringValue?.contains("PATH=") == false)
        #expect(try run("cmd.run", "echo out; echo err >&2", "redirect_stderr=False") == "out")
        #expect(try run("cmd.run", "echo out; echo err >&2") == "out\nerr")
        // Still running when the call returns: it was not waited for.
        let pid = try run("cmd.run_bg", "sleep 30")["pid"]?.intValue ?? 0
        #expect(pid > 0 && kill(pid_t(pid), 0) == 0)
        if pid > 0 { kill(pid_t(pid), SIGTERM) }
    }

    /// file.keyvalue (uncommenting, a second value of a key removed, an
    /// int's diff note, appended keys) and file.rename, as Salt 3008.4 does
    /// them on the same files.
    @Test func keyvalueAndRename() throws {
        defer { tree.remove() }
        let config = tree.target + "/sshd_config"
        try "# comment\n#PermitRootLogin yes\nPort 22\nPort 23\nUsePAM yes\n".write(toFile: config, atomically: true, encoding: .utf8)
        try "x\n".write(toFile: tree.target + "/old.txt", atomically: true, encoding: .utf8)
        let text = """
            settings:
              file.keyvalue:
                - name: \(config)
                - key_values:
                    PermitRootLogin: 'no'
                    Port: 2222
                    MaxAuthTries: 3
                - separator: ' '
                - uncomment: '# '
                - append_if_not_found: True
            moved:
              file.rename:
                - name: \(tree.target)/new/renamed.txt
                - source: \(tree.target)/old.txt
                - makedirs: True
            """
        let preview = try apply(text, test: true)
        #expect(preview["file_|-settings_|-\(config)_|-keyvalue"]?["comment"]?.stringValue?.hasPrefix("File \(config) is set to be changed (4 lines modified, 0 deleted)") == true)
        let result = try apply(text)
        #expect(result["file_|-settings_|-\(config)_|-keyvalue"]?["changes"]?["diff"]
                == "- #PermitRootLogin yes\n+ PermitRootLogin no\n- Port 22\n+ Port 2222 (from int type)\n- Port 23\n- <EOF>\n+ MaxAuthTries 3\n+ <EOF>\n")
        #expect(tree.read(config) == "# comment\nPermitRootLogin no\nPort 2222\nUsePAM yes\nMaxAuthTries 3\n")
        #expect(result["file_|-moved_|-\(tree.target)/new/renamed.txt_|-rename"]?["comment"]
                == .string("Moved \"\(tree.target)/old.txt\" to \"\(tree.target)/new/renamed.txt\""))
        #expect(tree.read(tree.target + "/new/renamed.txt") == "x\n")
        let again = try apply(text)
        #expect(again["file_|-settings_|-\(config)_|-keyvalue"]?["changes"] == [:])
        #expect(again["file_|-moved_|-\(tree.target)/new/renamed.txt_|-rename"]?["comment"]
                == .string("Source file \"\(tree.target)/old.txt\" has already been moved out of place"))
    }

    /// file.accumulated feeding a file.managed template (`accumulator`, over
    /// `context`'s) and two file.blockreplace blocks (each its own
    /// accumulator, after `content`); orphaned, text-less and missing-text
    /// accumulators. Returns, order and files as Salt 3008.4 gave them.
    @Test func accumulatedForManagedAndBlockreplace() throws {
        defer { tree.remove() }
        let out = tree.target
        try tree.write(tree.salt + "/animal_file.txt", """
            The quick brown fox{% for animal in accumulator['animals_doing_things'] %}{{ animal }}{% endfor %}
            {{ accumulator['more_animals'] }} {{ other }}

            """)
        let text = """
            animals_doing_things:
              file.accumulated:
                - filename: \(out)/animal_file.txt
                - text: ' jumps over the lazy dog.'
                - require_in:
                  - file: animal_file
            more_animals:
              file.accumulated:
                - filename: \(out)/animal_file.txt
                - text: [' twice', {k: v}, ' twice']
                - watch_in:
                  - file: animal_file
            animal_file:
              file.managed:
                - name: \(out)/animal_file.txt
                - source: salt://animal_file.txt
                - template: jinja
                - context: {accumulator: ignored, other: 1}
            orphan:
              file.accumulated:
                - filename: \(out)/animal_file.txt
                - text: x
            notext:
              file.accumulated:
                - filename: \(out)/animal_file.txt
                - text: null
                - require_in: [{file: sink}]
            missing:
              file.accumulated:
                - filename: \(out)/animal_file.txt
                - require_in: [{file: sink}]
            sink:
              file.exists:
                - name: /tmp
            block-a:
              file.accumulated:
                - filename: \(out)/block.txt
                - text: [line a1, line a2]
                - require_in: [{file: block-one}]
            block-b:
              file.accumulated:
                - filename: \(out)/block.txt
                - text: line b
                - require_in: [{file: block-two}]
            block-one:
              file.blockreplace:
                - name: \(out)/block.txt
                - marker_start: '# START'
                - marker_end: '# END'
                - content: given
                - append_if_not_found: True
                - require: [{file: block-file}]
            block-file:
              file.managed:
                - name: \(out)/block.txt
                - contents: 'head'
            block-two:
              file.blockreplace:
                - name: \(out)/block.txt
                - marker_start: '# S2'
                - marker_end: '# E2'
                - append_if_not_found: True
                - require: [{file: block-one}]
            """
        let result = try apply(text)
        let byOrder = (result.mapValue ?? [:]).values.sorted { ($0["__run_num__"]?.intValue ?? 0) < ($1["__run_num__"]?.intValue ?? 0) }
        let seen = byOrder.map { "\($0["__id__"]?.pythonString ?? "?") \($0["result"]?.pythonString ?? "") \($0["comment"]?.pythonString ?? "")" }
        #expect(seen == [
            "animals_doing_things True Accumulator animals_doing_things for file \(out)/animal_file.txt was charged by text",
            "more_animals True Accumulator more_animals for file \(out)/animal_file.txt was charged by text",
            "animal_file True File \(out)/animal_file.txt updated",
            "orphan False Orphaned accumulator orphan in f:orphan",
            "notext False No text supplied for accumulator",
            "missing False Missing parameter text for state file.accumulated\n",
            // Salt names the failed requisites from a set: either order.
            seen.contains("sink False One or more requisite failed: f.notext, f.missing")
                ? "sink False One or more requisite failed: f.notext, f.missing" : "sink False One or more requisite failed: f.missing, f.notext",
            "block-a True Accumulator block-a for file \(out)/block.txt was charged by text",
            "block-b True Accumulator block-b for file \(out)/block.txt was charged by text",
            "block-file True File \(out)/block.txt updated",
            "block-one True Changes were made",
            "block-two True Changes were made",
        ], "\(seen)")
        #expect(tree.read(out + "/animal_file.txt") == "The quick brown fox jumps over the lazy dog.\n[' twice', {'k': 'v'}] 1\n")
        #expect(tree.read(out + "/block.txt") == "head\n# START\ngiven\nline a1\nline a2\n# END\n# S2\nline b\n# E2\n")
    }

    @Test func managedErrors() throws {
        defer { tree.remove() }
        let result = try apply("""
            missing_source:
              file.managed:
                - name: \(tree.target)/x
                - source: salt://nope.txt
            relative:
              file.managed:
                - name: relative/path
            no_parent:
              file.managed:
                - name: \(tree.target)/no/such/dir/file
                - contents: x
            """)
        #expect(result.ret("missing_source")?["result"] == false)
        #expect(result.ret("missing_source")?["comment"]?.stringValue?.contains("salt://nope.txt") == true)
        #expect(result.ret("relative")?["comment"] == "Specified file relative/path is not an absolute path")
        #expect(result.ret("no_parent")?["comment"] == "Parent directory not present")
    }

    @Test func directorySymlinkAbsentTouchCopy() throws {
        defer { tree.remove() }
        let t = tree.target
        try "old".write(toFile: t + "/gone", atomically: true, encoding: .utf8)
        let sls = """
            dir:
              file.directory:
                - name: \(t)/d/e
                - makedirs: True
                - mode: 750
            link:
              file.symlink:
                - name: \(t)/link
                - target: \(t)/d
            gone:
              file.absent:
                - name: \(t)/gone
            stamp:
              file.touch:
                - name: \(t)/stamp
            copied:
              file.copy:
                - name: \(t)/copy
                - source: \(t)/stamp
            exists:
              file.exists:
                - name: \(t)/stamp
                - require:
                  - file: stamp
            """
        let first = try apply(sls)
        #expect(first.ret("dir")?["changes"] == .map(["\(t)/d/e": ["directory": "new"]]))
        #expect(first.ret("link")?["comment"] == .string("Created new symlink \(t)/link -> \(t)/d"))
        #expect(first.ret("gone")?["changes"] == .map(["removed": .string("\(t)/gone")]))
        #expect(first.ret("stamp")?["changes"] == .map(["new": .string("\(t)/stamp")]))
        #expect(first.ret("copied")?["result"] == true)
        #expect(first.ret("exists")?["result"] == true)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: t + "/link") == t + "/d")
        let second = try apply(sls)
        #expect(second.ret("dir")?["comment"] == .string("The directory \(t)/d/e is in the correct state"))
        #expect(second.ret("gone")?["comment"] == .string("File \(t)/gone is not present"))
        #expect(second.ret("link")?["changes"] == [:])
    }

    @Test func textEdits() throws {
        defer { tree.remove() }
        let t = tree.target
        try "a=1\n#b=2\nc=3\n".write(toFile: t + "/conf", atomically: true, encoding: .utf8)
        let sls = """
            replace:
              file.replace:
                - name: \(t)/conf
                - pattern: '^a=.*$'
                - repl: 'a=10'
                - backup: False
            uncomment:
              file.uncomment:
                - name: \(t)/conf
                - regex: b=
                - backup: False
            append:
              file.append:
                - name: \(t)/conf
                - text:
                  - d=4
                  - c=3
            line:
              file.line:
                - name: \(t)/conf
                - mode: insert
                - after: '^d=4$'
                - content: e=5
            block:
              file.blockreplace:
                - name: \(t)/conf
                - content: managed=yes
                - append_if_not_found: True
                - backup: False
            """
        let first = try apply(sls)
        for id in ["replace", "uncomment", "append", "line", "block"] {
            #expect(first.ret(id)?["result"] == true, "\(id): \(first.ret(id) ?? nil)")
        }
        #expect(tree.read(t + "/conf") == "a=10\nb=2\nc=3\nd=4\ne=5\n#-- start managed zone --\nmanaged=yes\n#-- end managed zone --\n")
        #expect(first.ret("append")?["comment"] == "Appended 1 lines")
        let second = try apply(sls)
        for id in ["replace", "uncomment", "append", "line", "block"] {
            #expect(second.ret(id)?["changes"] == [:], "\(id) should be clean on the second run")
        }
        let preview = try apply(sls.replacingOccurrences(of: "a=10", with: "a=11"), test: true)
        #expect(preview.ret("replace")?["result"] == .null)
        #expect(tree.read(t + "/conf")?.hasPrefix("a=10\n") == true)
    }

    @Test func recurseFromFileServer() throws {
        defer { tree.remove() }
        try tree.write(tree.salt + "/site/index.html", "<h1>{{ grains['id'] }}</h1>\n")
        try tree.write(tree.salt + "/site/css/main.css", "body {}\n")
        try tree.write(tree.target + "/www/stale.txt", "old\n")
        let result = try apply("""
            site:
              file.recurse:
                - name: \(tree.target)/www
                - source: salt://site
                - template: jinja
                - clean: True
            """)
        #expect(result.ret("site")?["result"] == true, "\(result)")
        #expect(tree.read(tree.target + "/www/index.html") == "<h1>m001</h1>\n")
        #expect(tree.read(tree.target + "/www/css/main.css") == "body {}\n")
        #expect(!FileManager.default.fileExists(atPath: tree.target + "/www/stale.txt"))
    }
}

@Suite struct SaltTemplateTests {
    let tree = Tree()

    @Test func serializerTagsAndFilters() throws {
        defer { tree.remove() }
        try tree.write(tree.salt + "/defaults.yaml", "port: {{ 40 + 2 }}\nusers: [a, b]\n")
        try tree.write(tree.salt + "/extra.json", "{\"k\": \"v\"}\n")
        try tree.sls("j.sls", """
            {% import_yaml 'defaults.yaml' as defaults %}
            {% import_json 'extra.json' as extra %}
            {% load_yaml as inline %}
            key: [1, 2, 2, 3]
            {% endload %}
            {% set merged = salt['slsutil.merge']({'a': {'x': 1}}, {'a': {'y': 2}}) %}
            show:
              test.show_notification:
                - text: |
                    {{ defaults.port }} {{ defaults.users|join(',') }} {{ extra.k }} {{ inline.key|unique|join(',') }} {{ merged|json }} {{ {'a': [1, 'b']}|yaml }} {{ 'a:b:c'|yaml_encode }} {{ {'x': {'y': 5}}|traverse('x:y') }} {{ 'yes'|to_bool }} {{ 'abc-123'|regex_replace('[0-9]+', 'N') }} {{ 'abc-123'|regex_search('([a-z]+)-([0-9]+)') }} {{ '/a'|path_join('b', 'c') }} {{ 'x'|sequence }} {{ grains.get('kernel') }} {{ salt.grains.get('kernel') }}
            """)
        let ctx = try tree.context()
        let result = try ctx.loader.call("state.apply", CallArguments.parse(["j"]), context: ctx)
        let comment = (result.ret("show")?["comment"]?.stringValue ?? "\(result)").trimmingCharacters(in: .newlines)
        #expect(comment == "42 a,b v 1,2,3 {\"a\": {\"x\": 1, \"y\": 2}} {a: [1, b]} \"a:b:c\" 5 True abc-N ('abc', '123') /a/b/c ['x'] Linux Linux")
    }
}
