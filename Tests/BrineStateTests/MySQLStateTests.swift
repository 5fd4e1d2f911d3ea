import BrineCore
@testable import BrineModules
import BrineState
import Foundation
import Testing

/// A throwaway MariaDB: mariadb-install-db in a temporary directory, the
/// server on a socket there (no TCP), root by unix_socket; `stop()` ends
/// it (by its pid file) and removes everything.
struct ThrowawayMariaDB {
    static var usable: Bool {
        geteuid() == 0 && getpwnam("mysql") != nil && FileManager.default.isExecutableFile(atPath: "/usr/sbin/mariadbd")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/mariadb-install-db")
    }

    let dir: String
    var socket: String { dir + "/sock" }

    init() throws {
        dir = "/tmp/brine-mariadb-\(UUID().uuidString.prefix(8))"
        let started = try runShell("""
            mkdir -p \(dir) && chown mysql: \(dir) && cd / && \
            mariadb-install-db --no-defaults --user=mysql --datadir=\(dir)/data --auth-root-authentication-method=socket --skip-test-db >\(dir)/install.log 2>&1 && \
            (mariadbd --no-defaults --user=mysql --datadir=\(dir)/data --socket=\(dir)/sock --skip-networking --pid-file=\(dir)/pid --log-error=\(dir)/err </dev/null >/dev/null 2>&1 &) && \
            for i in $(seq 100); do [ -S \(dir)/sock ] && [ -s \(dir)/pid ] && exit 0; sleep 0.1; done; cat \(dir)/err; exit 1
            """)
        #expect(started.code == 0, "\(started.output)")
    }

    func sql(_ query: String) throws -> String {
        try runShell("mariadb --no-defaults -S \(socket) -u root -N -B -e \"\(query)\"").output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        _ = try? runShell("kill $(cat \(dir)/pid) 2>/dev/null; for i in $(seq 100); do [ -S \(dir)/sock ] || break; sleep 0.1; done")
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// mysql_database/user/grants/query against a real MariaDB; comments and
/// changes are saltext-mysql's on Salt 3008.4 for the same steps.
@Suite(.serialized, .enabled(if: ThrowawayMariaDB.usable || ProcessInfo.processInfo.environment["BRINE_REQUIRE_MARIADB"] == "1"))
struct MySQLStateTests {
    let tree = Tree()

    func apply(_ server: ThrowawayMariaDB, _ text: String, _ extra: String...) throws -> [Value] {
        try tree.applyStates("my", text, extra, options: ["mysql.unix_socket": .string(server.socket), "mysql.user": "root"])
    }

    @Test func databasesUsersGrants() throws {
        let server = try ThrowawayMariaDB()
        defer { server.stop(); tree.remove() }
        let states = """
            app_db:
              mysql_database.present:
                - character_set: utf8mb4
                - collate: utf8mb4_bin
            frank:
              mysql_user.present:
                - password: s3cr'et
            sock:
              mysql_user.present:
                - unix_socket: True
                - allow_passwordless: True
            nopass:
              mysql_user.present: []
            frank_grants:
              mysql_grants.present:
                - grant: select, insert
                - database: app_db.*
                - user: frank
            """
        let preview = try apply(server, states, "test=True")
        #expect(preview.map { $0["comment"] } == ["Database app_db is not present and needs to be created", "User frank@localhost is set to be added",
                                                  "User sock@localhost is set to be added with passwordless login using unix_socket",
                                                  "Either password or password_hash must be specified, unless allow_passwordless is True",
                                                  "MySQL grant frank_grants is set to be created"], "\(preview)")
        let created = try apply(server, states)
        #expect(created.map { $0["comment"] } == ["The database app_db has been created", "The user frank@localhost has been added",
                                                  "The user sock@localhost has been added with passwordless login using unix_socket",
                                                  "Either password or password_hash must be specified, unless allow_passwordless is True",
                                                  "Grant select, insert on app_db.* to frank@localhost has been added"], "\(created)")
        #expect(created[4]["changes"] == ["frank_grants": "Present"])
        #expect(try server.sql("SELECT default_character_set_name, default_collation_name FROM information_schema.schemata WHERE schema_name = 'app_db'")
                == "utf8mb4\tutf8mb4_bin")
        // the server's own hash of the password, and the grant on the escaped name
        #expect(try server.sql("SELECT authentication_string = PASSWORD('s3cr\\'et'), plugin FROM mysql.user WHERE user = 'frank'") == "1\tmysql_native_password")
        #expect(try server.sql("SELECT plugin FROM mysql.user WHERE user = 'sock'") == "unix_socket")
        #expect(try server.sql("SHOW GRANTS FOR 'frank'@'localhost'").contains("GRANT SELECT, INSERT ON `app\\\\_db`.* TO `frank`@`localhost`"))

        let again = try apply(server, states)
        #expect(again.map { $0["comment"] } == ["Database app_db is already present", "User frank@localhost is already present with the desired password",
                                                "User sock@localhost is already present with passwordless login",
                                                "Either password or password_hash must be specified, unless allow_passwordless is True",
                                                "Grant select, insert on app_db.* to frank@localhost is already present"], "\(again)")

        let changed = try apply(server, """
            app_db:
              mysql_database.present:
                - character_set: latin1
                - collate: latin1_swedish_ci
            frank:
              mysql_user.present:
                - password: other
            frank_select:
              mysql_grants.absent:
                - grant: select
                - database: app_db.*
                - user: frank
            """)
        #expect(changed[0]["comment"] == "Database character set latin1 != utf8mb4 needs to be updated\nDatabase collate latin1_swedish_ci != utf8mb4_bin needs to be updated")
        #expect(changed[0]["changes"] == ["collate": ["before": "utf8mb4_bin", "now": "latin1_swedish_ci"], "character_set": ["before": "utf8mb4", "now": "latin1"]])
        #expect(changed[1]["comment"] == "Password for user frank@localhost has been changed" && changed[1]["changes"] == ["frank": "Updated"])
        #expect(changed[2]["comment"] == "Grant select on app_db.* for frank@localhost has been revoked" && changed[2]["changes"] == ["frank_select": "Absent"])
        #expect(try server.sql("SELECT authentication_string = PASSWORD('other') FROM mysql.user WHERE user = 'frank'") == "1")

        let gone = try apply(server, """
            frank:
              mysql_user.absent: []
            app_db:
              mysql_database.absent: []
            """)
        #expect(gone.map { $0["comment"] } == ["User frank@localhost has been removed", "Database app_db has been removed"])
        #expect(try apply(server, "app_db:\n  mysql_database.absent: []\n")[0]["comment"] == "Database app_db is not present, so it cannot be removed")
    }

    @Test func queriesAndErrors() throws {
        let server = try ThrowawayMariaDB()
        defer { server.stop(); tree.remove() }
        let out = tree.target + "/query.txt"
        let ran = try apply(server, """
            db:
              mysql_database.present:
                - name: q
            table:
              mysql_query.run:
                - database: q
                - query: "CREATE TABLE t (id INT, name TEXT); INSERT INTO t VALUES (1, 'a\\\\tb'), (2, NULL)"
            read:
              mysql_query.run:
                - database: q
                - query: SELECT id, name FROM t ORDER BY id
                - output: \(out)
                - overwrite: False
            missing:
              mysql_query.run:
                - database: nosuchdb
                - query: SELECT 1
            """)
        #expect(ran[1]["changes"] == ["query": "Executed"], "\(ran[1])")
        let readComment = ran[2]["comment"]?.stringValue ?? ""
        #expect(readComment.hasSuffix("'rows returned': 2, 'columns': ('id', 'name'), 'results': [{'id': '1', 'name': 'a\\tb'}, {'id': '2', 'name': None}]}"), "\(ran[2])")
        #expect(tree.read(out) == "id:1\nname:a\tb\nid:2\nname:None\n")
        #expect(ran[3]["result"] == .null && ran[3]["comment"] == "Database missing is not present")

        let ctx = try tree.context(options: ["mysql.unix_socket": .string(server.socket), "mysql.user": "root"])
        let rows = try ctx.loader.call("mysql.query", CallArguments.parse(["q", "SELECT name FROM t WHERE id = 2"]), context: ctx)
        #expect(rows["results"] == [[.null]] && rows["columns"] == ["name"] && rows["rows returned"] == 1)
        // a name with quotes and a semicolon is data
        let odd = "x`; DROP DATABASE q; --"
        #expect(try ctx.loader.call("mysql.db_create", CallArguments.parse(["name=\(odd)"]), context: ctx) == true)
        #expect(try ctx.loader.call("mysql.db_exists", CallArguments.parse(["name=q"]), context: ctx) == true)
        #expect(try ctx.loader.call("mysql.db_remove", CallArguments.parse(["name=\(odd)"]), context: ctx) == true)

        // the client runs no command of its own from a query (\\! would run a shell)
        let marker = tree.target + "/shell-ran"
        _ = try? ctx.loader.call("mysql.query", CallArguments.parse(["q", "SELECT 1;\n\\! touch \(marker)\n"]), context: ctx)
        #expect(!FileManager.default.fileExists(atPath: marker))

        // a server that does not answer: Salt's error text, the state failed
        let down = try tree.applyStates("down", "q:\n  mysql_database.present: []\n", options: ["mysql.unix_socket": .string(server.dir + "/nothing"), "mysql.user": "root"])
        #expect(down[0]["result"] == false)
        let downComment = down[0]["comment"]?.stringValue ?? ""
        #expect(downComment.hasPrefix("MySQL Error 2002: Can't connect to local server through socket"), "\(down[0])")
    }
}

/// Salt's grant parsing, on the statements Salt's own code was run on.
@Suite struct MySQLGrantTests {
    @Test func generateAndTokenize() throws {
        #expect(try MySQLModule.generateGrant("select,insert, update", "mydb.*", account: "A", grantOption: false, escape: true)
                == "GRANT SELECT, INSERT, UPDATE ON `mydb`.* TO A")
        #expect(try MySQLModule.generateGrant("all", "my_db.*", account: "A", grantOption: false, escape: true) == "GRANT ALL PRIVILEGES ON `my\\_db`.* TO A")
        #expect(try MySQLModule.generateGrant("ALL PRIVILEGES", "*.*", account: "A", grantOption: true, escape: true)
                == "GRANT ALL PRIVILEGES ON *.* TO A WITH GRANT OPTION")
        #expect(try MySQLModule.generateGrant("select", "db_1.tbl_2", account: "A", grantOption: false, escape: true) == "GRANT SELECT ON `db_1`.`tbl_2` TO A")
        #expect(try MySQLModule.generateGrant("SELECT (col1,col2), INSERT", "d.t", account: "A", grantOption: false, escape: false)
                == "GRANT SELECT (COL1, COL2), INSERT ON d.t TO A")
        #expect(try MySQLModule.generateGrant("select", "d.*", account: "A", grantOption: false, escape: true,
                                              ssl: [["SSL": true], ["CIPHER": "x'y"], ["X509": false]]) == "GRANT SELECT ON `d`.* TO A REQUIRE SSL AND CIPHER 'xy'")
        #expect(throws: MySQLModule.GrantError.self) { try MySQLModule.generateGrant("selec", "d.*", account: "A", grantOption: false, escape: true) }
        // what a column list may hold: names, not SQL
        #expect(throws: MySQLModule.GrantError.self) {
            try MySQLModule.generateGrant("select (a) on *.* to x; drop user root@localhost; -- )", "d.*", account: "A", grantOption: false, escape: true)
        }
        #expect(try MySQLModule.generateGrant("select (`a b`, c)", "d.t", account: "A", grantOption: false, escape: true) == "GRANT SELECT (`A B`, C) ON `d`.`t` TO A")
        #expect(MySQLQuote.literal("it's \\ \n") == "'it\\'s \\\\ \\n'")

        let held = MySQLModule.grantTokens("GRANT SELECT, INSERT ON `mydb`.* TO 'frank'@'localhost' WITH GRANT OPTION")
        #expect(held == MySQLModule.GrantTokens(user: "frank", host: "localhost", database: "`mydb`.*", grants: ["SELECT", "INSERT"]))
        let columns = MySQLModule.grantTokens("GRANT SELECT (`a`, `b`), LOCK TABLES, INSERT ON `d`.`t` TO 'u'@'h'")
        #expect(columns.grants == ["SELECT", "SELECT.`a`", "SELECT.`b`", "LOCK TABLES", "INSERT"] && columns.database == "`d`.`t`")
        #expect(MySQLModule.grantTokens("GRANT ALL PRIVILEGES ON `my\\_db`.* TO `bob`@`%`").host == "`%`")
    }
}
