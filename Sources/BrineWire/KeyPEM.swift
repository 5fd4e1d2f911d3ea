import Crypto
import Foundation

/// The text format of Brine key files: PEM-like armour around the raw 32 key bytes.
///
///     -----BEGIN BRINE X25519 PRIVATE KEY-----
///     <base64 of 32 bytes>
///     -----END BRINE X25519 PRIVATE KEY-----
///
/// Salt keeps PEM RSA keys in the same places; ours are X25519, and the label
/// says so, so that a Salt key copied in by mistake is reported as such rather
/// than misread. No ASN.1: the raw bytes are all X25519 needs.
public enum KeyPEM {
    public static let privateLabel = "BRINE X25519 PRIVATE KEY"
    public static let publicLabel = "BRINE X25519 PUBLIC KEY"

    public static func encode(privateKey: Curve25519.KeyAgreement.PrivateKey) -> String {
        armor(Array(privateKey.rawRepresentation), label: privateLabel)
    }

    public static func encode(publicKey: Curve25519.KeyAgreement.PublicKey) -> String {
        armor(Array(publicKey.rawRepresentation), label: publicLabel)
    }

    /// Parses a private key file's text; `source` (usually the path) goes into errors.
    public static func decodePrivateKey(_ text: String, source: String) throws(KeyFileError) -> Curve25519.KeyAgreement.PrivateKey {
        let bytes = try dearmor(text, label: privateLabel, source: source)
        do {
            return try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes)
        } catch {
            throw .malformed(path: source, reason: "X25519 private key rejected: \(error)")
        }
    }

    /// Parses a public key file's text; `source` (usually the path) goes into errors.
    public static func decodePublicKey(_ text: String, source: String) throws(KeyFileError) -> Curve25519.KeyAgreement.PublicKey {
        let bytes = try dearmor(text, label: publicLabel, source: source)
        do {
            return try Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes)
        } catch {
            throw .malformed(path: source, reason: "X25519 public key rejected: \(error)")
        }
    }

    private static func armor(_ bytes: [UInt8], label: String) -> String {
        "-----BEGIN \(label)-----\n\(Data(bytes).base64EncodedString())\n-----END \(label)-----\n"
    }

    private static func dearmor(_ text: String, label: String, source: String) throws(KeyFileError) -> [UInt8] {
        let lines = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard let first = lines.first, let last = lines.last, lines.count >= 2 else {
            throw .malformed(path: source, reason: lines.isEmpty ? "file is empty" : "missing BEGIN/END lines")
        }
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        guard first == begin else {
            throw .malformed(path: source, reason: describeWrongHeader(first, expected: begin))
        }
        guard last == end else {
            throw .malformed(path: source, reason: "expected last line \"\(end)\", found \"\(last.prefix(60))\"")
        }
        let body = lines.dropFirst().dropLast().joined()
        guard let data = Data(base64Encoded: body) else {
            throw .malformed(path: source, reason: "key body is not valid base64")
        }
        guard data.count == 32 else {
            throw .malformed(path: source, reason: "key is \(data.count) bytes, expected 32")
        }
        return Array(data)
    }

    private static func describeWrongHeader(_ found: String, expected: String) -> String {
        if found.hasPrefix("-----BEGIN") && (found.contains("RSA") || !found.contains("BRINE")) {
            return "found \"\(found)\": this looks like a Salt/OpenSSL key; Brine uses X25519 keys (\"\(expected)\")"
        }
        if found.hasPrefix("-----BEGIN BRINE") {
            return "found \"\(found)\" where \"\(expected)\" was expected (public and private key files swapped?)"
        }
        return "expected first line \"\(expected)\", found \"\(found.prefix(60))\""
    }
}
