import BrineCore
@testable import BrineModules
import BrineState
import Foundation
import Testing

/// A throwaway PostgreSQL server: initdb in a temporary directory (as the
/// postgres user), its socket there, TCP on 127.0.0.1 with scram-sha-256
/// passwords, stopped and removed by `stop()`.
struct ThrowawayPostgres {
    static var binaries: String? {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted()
        return versions.last.map { "/usr/lib/postgresql/\($0)/bin" }
    }

    static var usable: Bool {
        geteuid() == 0 && getpwnam("postgres") != nil && binaries.map { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") } == true
    }

    let dir: String
    let port: Int

    init() throws {
        dir = "/tmp/brine-pg-\(UUID().uuidString.prefix(8))"
        port = Int.random(in: 20000...29999)
        let bin = try #require(Self.binaries)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let setup = try runShell("""
            chown postgres: \(dir) && chmod 700 \(dir) && cd / && \
            runuser -u postgres -- \(bin)/initdb -D \(dir)/data --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null && \
            runuser -u postgres -- \(bin)/pg_ctl -D \(dir)/data -l \(dir)/log -w -o "-k \(dir) -p \(port) -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
            """)
        #expect(setup.code == 0, "\(setup.output)")
    }

    /// psql as the superuser over the socket: tuples only, unaligned.
    func sql(_ query: String, database: String = "postgres") throws -> String {
        let r = try runShell("cd / && runuser -u postgres -- psql -h \(dir) -p \(port) -d '\(database)' -Atc \"\(query)\"")
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        if let bin = Self.binaries { _ = try? runShell("cd / && runuser -u postgres -- \(bin)/pg_ctl -D \(dir)/data -m immediate stop >/dev/null 2>&1") }
        try? FileManager.default.removeItem(atPath: dir)
    }
}

func runShell(_ line: String, environment: [String: String] = [:]) throws -> (code: Int, output: String) {
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let r = try ProcessRunner().run(Command(["/bin/sh", "-c", line], environment: env, mergeStderr: true))
    return (r.retcode, r.stdout)
}

/// postgres_user/group/database/schema/extension against a real server;
/// comments and changes are Salt 3008.4's (see bench/README.md).
@Suite(.serialized, .enabled(if: ThrowawayPostgres.usable || ProcessInfo.processInfo.environment["BRINE_REQUIRE_POSTGRES"] == "1"))
struct PostgresStateTests {
    let tree = Tree()

    func apply(_ server: ThrowawayPostgres, _ text: String, _ extra: String...) throws -> [Value] {
        try tree.applyStates("pg", text, extra, options: ["postgres.host": .string(server.dir), "postgres.port": .int(server.port)])
    }

    func call(_ server: ThrowawayPostgres, _ fun: String, _ words: String...) throws -> Value {
        let ctx = try tree.context(options: ["postgres.host": .string(server.dir), "postgres.port": .int(server.port)])
        return try ctx.loader.call(fun, CallArguments.parse(words), context: ctx)
    }

    @Test func rolesPresentChangedAbsent() throws {
        let server = try ThrowawayPostgres()
        defer { server.stop(); tree.remove() }
        let states = """
            readers:
              postgres_group.present: []
            alice:
              postgres_user.present:
                - password: s3cret'pw
                - createdb: True
                - groups: [readers]
                - valid_until: '2040-01-02 03:04:05'
            """
        let preview = try apply(server, states, "test=True")
        #expect(preview[1]["comment"] == "User alice is set to be created" && preview[1]["result"] == .null)
        #expect(try server.sql("SELECT count(*) FROM pg_roles WHERE rolname = 'alice'") == "0")

        let created = try apply(server, states)
        #expect(created[0]["changes"] == ["readers": "Present"] && created[0]["comment"] == "The group readers has been created")
        #expect(created[1]["changes"] == ["alice": "Present"] && created[1]["comment"] == "The user alice has been created", "\(created[1])")
        #expect(try server.sql("SELECT rolcanlogin, rolcreatedb, rolinherit, rolvaliduntil::timestamp(0) FROM pg_roles WHERE rolname = 'alice'")
                == "t|t|t|2040-01-02 03:04:05")
        #expect(try server.sql("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'readers'") == "f")
        #expect(try server.sql("SELECT pg_has_role('alice', 'readers', 'MEMBER')") == "t")
        // hashed as the server wants (scram-sha-256), and the password works over TCP
        #expect(try server.sql("SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'alice'") == "SCRAM-SHA-256$")
        let login = try runShell("psql -h 127.0.0.1 -p \(server.port) -U alice -d postgres -Atc 'SELECT current_user'", environment: ["PGPASSWORD": "s3cret'pw"])
        #expect(login.output == "alice\n", "\(login.output)")

        let again = try apply(server, states)
        #expect(again[1]["changes"] == .emptyMap && again[1]["comment"] == "User alice is already present", "\(again[1])")

        let changed = try apply(server, """
            alice:
              postgres_user.present:
                - password: other
                - createdb: False
                - encrypted: md5
            """)
        #expect(changed[0]["changes"] == ["alice": ["createdb": false, "password": true]], "\(changed[0])")
        #expect(changed[0]["comment"] == "The user alice has been updated")
        #expect(try server.sql("SELECT rolcreatedb, rolpassword = 'md5' || md5('otheralice') FROM pg_authid WHERE rolname = 'alice'") == "f|t")

        // a name with quotes and a semicolon is data
        let odd = "o'brien\"; DROP ROLE alice; --"
        let made = try call(server, "postgres.user_create", "username=\(odd)", "login=False")
        #expect(made == true)
        #expect(try call(server, "postgres.user_exists", "name=\(odd)") == true)
        #expect(try server.sql("SELECT count(*) FROM pg_roles WHERE rolname = 'alice'") == "1")
        let listed = try call(server, "postgres.role_get", "name=alice")
        #expect(listed["can create databases"] == false && listed["can login"] == true && listed["groups"] == ["readers"], "\(listed)")
        #expect(listed["expiry time"] == "2040-01-02 03:04:05" && listed["connections"] == .int(-1))

        let gone = try apply(server, """
            alice:
              postgres_user.absent: []
            readers:
              postgres_group.absent: []
            """)
        #expect(gone[0]["changes"] == ["alice": "Absent"] && gone[0]["comment"] == "User alice has been removed")
        #expect(gone[1]["comment"] == "Group readers has been removed")
        #expect(try apply(server, "alice:\n  postgres_user.absent: []\n")[0]["comment"] == "User alice is not present, so it cannot be removed")
        #expect(try call(server, "postgres.user_remove", "username=\(odd)") == true)
    }

    @Test func databaseSchemaExtension() throws {
        let server = try ThrowawayPostgres()
        defer { server.stop(); tree.remove() }
        _ = try server.sql("CREATE ROLE owner1; CREATE ROLE owner2")
        let states = """
            app db:
              postgres_database.present:
                - owner: owner1
                - encoding: UTF8
                - lc_collate: C.UTF-8
                - lc_ctype: C.UTF-8
                - template: template0
            reports:
              postgres_schema.present:
                - dbname: app db
                - owner: owner1
            citext:
              postgres_extension.present:
                - maintenance_db: app db
                - schema: reports
            """
        let preview = try apply(server, states, "test=True")
        #expect(preview[0]["comment"] == "Database app db is set to be created")
        let created = try apply(server, states)
        #expect(created[0]["changes"] == ["app db": "Present"] && created[0]["comment"] == "The database app db has been created", "\(created[0])")
        #expect(created[1]["changes"] == ["reports": "Present"] && created[1]["comment"] == "Schema reports has been created in database app db", "\(created[1])")
        #expect(created[1]["dbname"] == "app db")
        #expect(created[2]["changes"] == ["citext": "Installed"] && created[2]["comment"] == "The extension citext has been installed", "\(created[2])")
        #expect(try server.sql("SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = 'app db'")
                == "owner1|UTF8|C.UTF-8")
        #expect(try server.sql("SELECT e.extname, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'citext'",
                               database: "app db") == "citext|reports")

        let again = try apply(server, states)
        #expect(again.map { $0["comment"] } == ["Database app db is already present", "Schema reports already exists in database app db",
                                                "Extension citext is already present"])
        #expect(again.allSatisfy { $0["changes"] == .emptyMap })

        let owner = try apply(server, "app db:\n  postgres_database.present:\n    - owner: owner2\n")
        #expect(owner[0]["changes"] == ["app db": "Parameters changed"] && owner[0]["comment"] == "Parameters for database app db have been changed")
        #expect(try server.sql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app db'") == "owner2")
        let fixed = try apply(server, "app db:\n  postgres_database.present:\n    - encoding: LATIN1\n")
        #expect(fixed[0]["result"] == false && fixed[0]["comment"] == "Database app db has wrong parameters which couldn't be changed on fly.")

        // a user's query reaches the server only: psql runs no \\! of it
        let marker = tree.target + "/shell-ran"
        _ = try call(server, "postgres.psql_query", "query=SELECT 1\n\\! touch \(marker)\n")
        #expect(!FileManager.default.fileExists(atPath: marker))
        let rows = try call(server, "postgres.psql_query", "query=SELECT 1 AS one, NULL AS none, 'a,\"b\"' AS text;", "maintenance_db=app db")
        #expect(rows == [["one": "1", "none": "", "text": "a,\"b\""]], "\(rows)")

        let removed = try apply(server, """
            citext:
              postgres_extension.absent:
                - maintenance_db: app db
            reports:
              postgres_schema.absent:
                - dbname: app db
            app db:
              postgres_database.absent: []
            """)
        #expect(removed.map { $0["comment"] } == ["Extension citext has been removed", "Schema reports has been removed from database app db",
                                                  "Database app db has been removed"], "\(removed)")
        #expect(try server.sql("SELECT count(*) FROM pg_database WHERE datname = 'app db'") == "0")
    }
}

extension PostgresStateTests {
    @Test func tablespacesAndPrivileges() throws {
        let server = try ThrowawayPostgres()
        defer { server.stop(); tree.remove() }
        _ = try server.sql("CREATE ROLE owner1; CREATE ROLE owner2; CREATE TABLE public.t1 (i int)")
        #expect(try runShell("mkdir \(server.dir)/ts && chown postgres: \(server.dir)/ts").code == 0)
        let states = """
            fast:
              postgres_tablespace.present:
                - directory: \(server.dir)/ts
                - owner: owner1
                - options:
                    seq_page_cost: 1.5
            owner2_table:
              postgres_privileges.present:
                - name: owner2
                - object_name: t1
                - object_type: table
                - privileges: [SELECT, INSERT]
            owner2_group:
              postgres_privileges.present:
                - name: owner2
                - object_name: owner1
                - object_type: group
            owner2_db:
              postgres_privileges.present:
                - name: owner2
                - object_name: postgres
                - object_type: database
                - privileges: [ALL]
            """
        let preview = try apply(server, states, "test=True")
        #expect(preview.map { $0["comment"] } == ["Tablespace fast is set to be created", "The privilege(s): SELECT,INSERT are set to be granted to owner2",
                                                  "The privilege(s): owner1 are set to be granted to owner2", "The privilege(s): ALL are set to be granted to owner2"])
        let created = try apply(server, states)
        #expect(created.map { $0["comment"] } == ["The tablespace fast has been created", "The privilege(s): SELECT,INSERT have been granted to owner2",
                                                  "The privilege(s): owner1 have been granted to owner2", "The privilege(s): ALL have been granted to owner2"], "\(created)")
        #expect(try server.sql("SELECT pg_get_userbyid(spcowner), spcoptions FROM pg_tablespace WHERE spcname = 'fast'") == "owner1|{seq_page_cost=1.5}")
        #expect(try server.sql("SELECT has_table_privilege('owner2', 't1', 'SELECT'), has_table_privilege('owner2', 't1', 'UPDATE'), pg_has_role('owner2', 'owner1', 'MEMBER')") == "t|f|t")
        let again = try apply(server, states)
        #expect(again.map { $0["comment"] } == ["Tablespace fast is already present", "The requested privilege(s) are already set",
                                                "The requested privilege(s) are already set", "The requested privilege(s) are already set"], "\(again)")

        let changed = try apply(server, """
            fast:
              postgres_tablespace.present:
                - directory: \(server.dir)/ts
                - owner: owner2
                - options:
                    random_page_cost: 3.5
            owner2_table:
              postgres_privileges.absent:
                - name: owner2
                - object_name: t1
                - object_type: table
                - privileges: [INSERT]
            """)
        #expect(changed[0]["changes"] == ["fast": ["owner": "owner2", "options": ["random_page_cost": 3.5]]] && changed[0]["comment"] == "Tablespace fast opts changed")
        #expect(changed[1]["comment"] == "The privilege(s): INSERT have been revoked from owner2" && changed[1]["changes"] == ["owner2": "Absent"])
        #expect(try server.sql("SELECT has_table_privilege('owner2', 't1', 'INSERT'), pg_get_userbyid(spcowner) FROM pg_tablespace WHERE spcname = 'fast'") == "f|owner2")
        let moved = try apply(server, "fast:\n  postgres_tablespace.present:\n    - directory: /elsewhere\n")
        #expect(moved[0]["result"] == false)
        let gone = try apply(server, "fast:\n  postgres_tablespace.absent: []\n")
        #expect(gone[0]["comment"] == "Tablespace fast has been removed" && gone[0]["changes"] == ["fast": "Absent"])
    }
}

/// The SQL and password helpers, on known answers.
@Suite struct PostgresHelperTests {
    @Test func quotingAndCSV() {
        #expect(SQLQuote.identifier("a\"b") == "\"a\"\"b\"")
        #expect(SQLQuote.literal("it's") == "'it''s'")
        #expect(CSVReader.records("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"multi\nline\",\n") == [["a", "b"], ["x,y", "say \"hi\""], ["multi\nline", ""]])
        #expect(CSVReader.records("") == [])
        #expect(CSVReader.records("h\n\n\"\"\n") == [["h"], [], [""]])
    }

    @Test func privilegeTargets() throws {
        #expect(try PostgresModule.objectTarget("t1", type: "table", prepend: "public") == "\"public\".\"t1\"")
        #expect(try PostgresModule.objectTarget("f(integer, character varying)", type: "function", prepend: "s") == "\"s\".\"f\"(integer, character varying)")
        #expect(throws: BrineError.self) { try PostgresModule.objectTarget("f(integer) TO evil; --)", type: "function", prepend: "public") }
        // without a closing parenthesis the whole text is one quoted name
        #expect(try PostgresModule.objectTarget("f(integer) TO evil --", type: "function", prepend: "public") == "\"public\".\"f(integer) TO evil --\"")
        #expect(try PostgresModule.objectTarget("my db", type: "database", prepend: "public") == "\"my db\"")
    }

    /// Salt 3008.4's `_md5_password` and `_scram_sha_256` for the same input.
    @Test func passwordVerifiers() {
        #expect(PostgresPassword.md5(role: "alice", password: "secret") == "md54a0a68b43b6cd5cf266fa02f196e2371")
        let scram = PostgresPassword.scram(password: "secret", salt: Array(0..<16))
        #expect(scram == "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$THoPhoTAuqyoQsK4dUHncUzgfD8fdmhsgKZhWVqNP5U=:7YiHMMi2OcXGRogub03Ek06JRZ9bkhTOdCzHa5iPLiQ=")
        #expect(PostgresPassword.matches(role: "alice", password: "secret", stored: scram))
        #expect(!PostgresPassword.matches(role: "alice", password: "Secret", stored: scram))
        #expect(PostgresPassword.matches(role: "alice", password: "secret", stored: "md54a0a68b43b6cd5cf266fa02f196e2371"))
        #expect(!PostgresPassword.matches(role: "alice", password: "x", stored: "SCRAM-SHA-256$0:!!$a:b"))
    }
}
