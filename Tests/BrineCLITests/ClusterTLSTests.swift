import BrineCore
import Foundation
import Glibc
import Testing

/// Issue 19: `cluster_database` over TLS, libpq's `sslmode` and
/// `sslrootcert`, against a real PostgreSQL that takes only TLS connections
/// (`hostssl` in pg_hba.conf) with certificates made here by openssl (a
/// PostgreSQL dependency on Debian, through ssl-cert). Each wrong setting
/// fails at once with the server's or the TLS layer's reason, never a hang.
@Suite(.serialized, .enabled(if: ClusterPostgres.usable || ProcessInfo.processInfo.environment["BRINE_REQUIRE_POSTGRES"] == "1"))
struct ClusterTLSTests {
    let database = ClusterPostgres()
    var tls: String { database.dir + "-tls" }

    /// A CA, a certificate it signs for `san`, and a second CA that signs nothing here.
    func makeCertificates() {
        let made = database.run("""
            set -e; mkdir -p \(tls) && cd \(tls)
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj '/CN=brine test CA' -days 2
            openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -subj '/CN=another CA' -days 2
            for name in server elsewhere; do
              openssl req -newkey rsa:2048 -nodes -keyout $name.key -out $name.csr -subj "/CN=$name"
            done
            printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext
            printf 'subjectAltName=DNS:db.example\\n' > elsewhere.ext
            for name in server elsewhere; do
              openssl x509 -req -in $name.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $name.crt -days 2 -extfile $name.ext
            done
            chown postgres: *.key *.crt && chmod 600 *.key
            """)
        #expect(made.code == 0, "\(made.output)")
    }

    /// `brine key -L` through a master configuration naming the database with `query`.
    func listKeys(_ query: String) throws -> Run {
        let config = tls + "/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try """
            root_dir: \(config)
            cluster_id: test
            cluster_database: postgresql://brine:cluster%20pw@127.0.0.1:\(database.port)/brine?\(query)

            """.write(toFile: config + "/master", atomically: true, encoding: .utf8)
        return try brine(["key", "-L"], environment: ["BRINE_CONFIG_DIR": config])
    }

    @Test func sslmodesAgainstAServerThatTakesOnlyTLS() throws {
        defer {
            database.remove()
            try? FileManager.default.removeItem(atPath: tls)
        }
        makeCertificates()
        try database.start(hba: "local all all peer\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
                           options: "-c ssl=on -c ssl_cert_file=\(tls)/server.crt -c ssl_key_file=\(tls)/server.key")
        database.createDatabase()

        // Verified against the CA, host name (the address) included; tables made on first use.
        let verified = try listKeys("sslmode=verify-full&sslrootcert=\(tls)/ca.crt")
        #expect(verified.code == 0 && verified.stdout.contains("Accepted Keys:"), "\(verified.stderr)")
        #expect(try listKeys("sslmode=require").code == 0, "encrypted, not verified, as libpq")

        // Not encrypted: the server's own reason.
        let plain = try listKeys("sslmode=disable")
        #expect(plain.code != 0 && plain.stderr.contains("no pg_hba.conf entry") && plain.stderr.contains("no encryption"), "\(plain.stderr)")
        // A CA that did not sign the server's certificate, and this system's roots (no sslrootcert).
        for query in ["sslmode=verify-ca&sslrootcert=\(tls)/other.crt", "sslmode=verify-full"] {
            let refused = try listKeys(query)
            #expect(refused.code != 0 && refused.stderr.contains("TLS handshake failed"), "\(query): \(refused.stderr)")
        }
        // sslrootcert that is not a certificate: a clear error, not a hang.
        let notCertificate = try listKeys("sslmode=verify-ca&sslrootcert=\(tls)/ca.key")
        #expect(notCertificate.code != 0 && notCertificate.stderr.contains("TLS settings"), "\(notCertificate.stderr)")

        // A certificate made for another host name: verify-ca takes it, verify-full does not.
        database.stop()
        try database.start(options: "-c ssl=on -c ssl_cert_file=\(tls)/elsewhere.crt -c ssl_key_file=\(tls)/elsewhere.key")
        #expect(try listKeys("sslmode=verify-ca&sslrootcert=\(tls)/ca.crt").code == 0)
        let wrongHost = try listKeys("sslmode=verify-full&sslrootcert=\(tls)/ca.crt")
        #expect(wrongHost.code != 0 && wrongHost.stderr.contains("TLS handshake failed"), "\(wrongHost.stderr)")
    }
}
