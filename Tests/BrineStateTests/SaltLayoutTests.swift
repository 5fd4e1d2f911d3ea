import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// High data laid out exactly as Salt 3008's `render_state` lays it out:
/// the expected JSON below is what `salt-call --local state.show_sls app
/// --out=json --out-indent=-1` printed for the same tree (recorded with
/// bench/compat/oracle.sh), compared byte for byte.
@Suite struct SaltLayoutTests {
    let tree = Tree()

    /// Includes (relative and absolute), an extend and an exclude kept for
    /// show_sls, the short `ID: mod.fun` form, a module without a dot, the
    /// function after the arguments, a multi-key argument mapping, automatic
    /// `order` (included files first), `__sls_included_from__`, the yaml
    /// filter's sorted keys, and `filter_by` with an empty `merge`.
    @Test func showSLSMatchesSalt() throws {
        defer { tree.remove() }
        try tree.sls("app/init.sls", """
            include:
              - .web
              - app.db
            
            first: pkg.installed
            
            second:
              file.managed:
                - name: /tmp/second
                  mode: '0644'
                - context:
                    order: {{ {'z': 1, 'a': {'y': 2, 'b': 3}} | yaml }}
              cmd:
                - require:
                  - pkg: first
                - run
                - name: echo hi
            
            shared:
              test.nop: []
            """)
        try tree.sls("app/web.sls", """
            extend:
              dbsvc:
                service:
                  - enable: True
                  - require:
                    - file: second
            exclude:
              - id: gone
            web:
              service.running:
                - name: nginx
                - order: 5
            """)
        try tree.sls("app/db.sls", """
            dbsvc:
              service.running:
                - name: postgresql
                - require:
                  - pkg: first
            gone:
              test.nop
            {% set m = salt['grains.filter_by']({'Debian': {'pkg': 'pg'}}, merge=salt['pillar.get']('nope:lookup')) %}
            pkgname:
              test.nop:
                - name: {{ m.pkg }}
            """)
        let ctx = try tree.context(id: "minion1", grains: ["os_family": "Debian"])
        let high = try state(ctx, "show_sls", "app")
        let salt = #"{"local": {"__extend__": [{"dbsvc": {"service": [{"enable": true}, {"require": [{"file": "second"}]}], "__sls__": "app.web", "__env__": "base"}}], "__exclude__": [{"id": "gone"}], "first": {"__sls__": "app", "__env__": "base", "pkg": ["installed", {"order": 10003}]}, "second": {"cmd": [{"require": [{"pkg": "first"}]}, "run", {"name": "echo hi"}, {"order": 10004}], "file": [{"name": "/tmp/second", "mode": "0644"}, {"context": {"order": {"a": {"b": 3, "y": 2}, "z": 1}}}, "managed", {"order": 10005}], "__sls__": "app", "__env__": "base"}, "shared": {"test": ["nop", {"order": 10006}], "__sls__": "app", "__env__": "base"}, "web": {"service": [{"name": "nginx"}, {"order": 5}, "running"], "__sls__": "app.web", "__env__": "base", "__sls_included_from__": ["app"]}, "dbsvc": {"service": [{"name": "postgresql"}, {"require": [{"pkg": "first"}]}, "running", {"order": 10000}], "__sls__": "app.db", "__env__": "base", "__sls_included_from__": ["app"]}, "gone": {"__sls__": "app.db", "__env__": "base", "test": ["nop", {"order": 10001}], "__sls_included_from__": ["app"]}, "pkgname": {"test": [{"name": "pg"}, "nop", {"order": 10002}], "__sls__": "app.db", "__env__": "base", "__sls_included_from__": ["app"]}}}"#
        #expect(JSON.encode(["local": high], indent: nil) == salt)
    }

    /// Applying applies the extend (Salt replaces the whole argument mapping
    /// whose first key is extended) and the exclude (`gone` never runs), and
    /// merges the keys of a multi-key mapping into the call.
    @Test func applyUsesExtendExcludeAndMergedArguments() throws {
        defer { tree.remove() }
        try tree.sls("app.sls", """
            extend:
              a:
                test:
                  - name: extended
            exclude:
              - id: gone
            a:
              test.succeed_without_changes:
                - name: original
            b:
              test.show_notification:
                - text: kept
                  name: b-name
            gone:
              test.fail_without_changes: []
            """)
        let ctx = try tree.context()
        let result = try state(ctx, "sls", "app", "test=True")
        #expect(result.runs.count == 2)
        #expect(result.ret("a")?["name"] == "extended")
        #expect(result.ret("b")?["name"] == "b-name")
        #expect(result.ret("b")?["comment"] == "kept")
        #expect(ctx.outcome.retcode == 0)
    }

    /// `state.sls_id` compiles the whole SLS and runs the ID with what it
    /// requires, directly or through `_in` forms, and nothing else (Salt
    /// 3008 ran a, d, b here, in that order).
    @Test func slsIDRunsItsRequisites() throws {
        defer { tree.remove() }
        try tree.sls("t.sls", """
            a:
              test.succeed_with_changes: []
            b:
              test.succeed_without_changes:
                - require:
                  - test: a
            c:
              test.nop: []
            d:
              test.nop:
                - watch_in:
                  - test: b
            """)
        let ctx = try tree.context()
        let result = try state(ctx, "sls_id", "b", "t")
        #expect(result.runs.map { $0.ret["__id__"] } == ["a", "d", "b"])
        #expect(ctx.outcome.retcode == 0)
        let missing = try state(ctx, "sls_id", "nope", "t")
        #expect(missing.errors == ["No matches for ID 'nope' found in SLS 't' within saltenv 'base'"])
    }
}
