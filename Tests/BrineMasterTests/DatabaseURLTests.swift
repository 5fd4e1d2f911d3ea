import BrineCluster
import BrineCore
import Testing

/// `cluster_database`: libpq's URL form, read as libpq reads it; a bad one
/// is a configuration error that says what to write and never repeats the password.
@Suite struct DatabaseURLTests {
    @Test func fullForm() throws {
        let url = try DatabaseURL("postgresql://brine:p%40ss%3Aword@db1.example:5433/fleet?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(url.user == "brine" && url.password == "p@ss:word" && url.host == "db1.example" && url.port == 5433)
        #expect(url.database == "fleet" && url.sslMode == .verifyFull && url.sslRootCert == "/etc/ca.pem")
        #expect(url.redacted == "postgresql://brine@db1.example:5433/fleet")
    }

    @Test func defaultsAsLibpq() throws {
        let url = try DatabaseURL("postgres://brine@localhost/")
        #expect(url.port == 5432 && url.password == nil && url.database == "brine" && url.sslMode == .prefer)
        let socket = try DatabaseURL("postgresql://brine@/fleet?host=/run/postgresql")
        #expect(socket.host == "/run/postgresql" && socket.database == "fleet")
        let v6 = try DatabaseURL("postgresql://brine@[fd00::5]:6432/x")
        #expect(v6.host == "fd00::5" && v6.port == 6432)
    }

    @Test func refusals() {
        for (text, words) in [
            ("mysql://brine@h/db", "not a postgresql:// URL"),
            ("postgresql://brine:secret@h:70000/db", "port '70000' is not 1-65535"),
            ("postgresql://brine:secret@h/db?sslmode=always", "sslmode 'always' is not one of"),
            ("postgresql://brine:secret@h/db?colour=blue", "unknown parameter 'colour'"),
            ("postgresql://h/db", "no user"),
            ("postgresql://brine:secret@[fd00::5/db", "closing ']'"),
        ] {
            do {
                _ = try DatabaseURL(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.kind == .config && error.description.contains(words), "\(error.description)")
                #expect(!error.description.contains("secret"), "the password is never repeated: \(error.description)")
            }
        }
    }
}
