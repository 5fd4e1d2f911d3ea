import BrineCore
import Foundation

/// Salt's `hashutil` module: digests and encodings of strings and files.
public enum HashutilModule: ExecutionModule {
    public static let name = "hashutil"

    static func text(_ a: Arguments, _ name: String = "instr") -> [UInt8] { Array((a[name].stringValue ?? a[name].pythonString).utf8) }

    static func digest(_ name: String, _ algorithm: String) -> ExecutionFunction {
        ExecutionFunction(name, doc: "Return the \(algorithm) hex digest of a string.", [Parameter("instr")]) { a, _ in
            .string(try Hashing.hexDigest(text(a), algorithm: algorithm))
        }
    }

    public static let functions: [ExecutionFunction] = [
        digest("md5_digest", "md5"), digest("sha256_digest", "sha256"), digest("sha512_digest", "sha512"),
        ExecutionFunction("digest", doc: "Return the hex digest of a string (checksum: md5, sha256, sha512).",
                          [Parameter("instr"), Parameter("checksum", default: "md5")]) { a, _ in
            .string(try Hashing.hexDigest(text(a), algorithm: a.string("checksum") ?? "md5"))
        },
        ExecutionFunction("digest_file", doc: "Return the hex digest of a file's content.",
                          [Parameter("infile"), Parameter("checksum", default: "md5")]) { a, _ in
            .string(try Hashing.fileDigest(a.string("infile") ?? "", algorithm: a.string("checksum") ?? "md5"))
        },
        ExecutionFunction("base64_b64encode", doc: "Encode a string as base64 (no line breaks).", [Parameter("instr")]) { a, _ in
            .string(Data(text(a)).base64EncodedString())
        },
        ExecutionFunction("base64_encodestring", doc: "Encode a string as base64, lines of 76 characters, ending with a newline.",
                          [Parameter("instr")]) { a, _ in
            let encoded = Data(text(a)).base64EncodedString()
            var lines: [Substring] = []
            var rest = Substring(encoded)
            while !rest.isEmpty { lines.append(rest.prefix(76)); rest = rest.dropFirst(76) }
            return .string(lines.map { $0 + "\n" }.joined())
        },
        ExecutionFunction("base64_b64decode", doc: "Decode base64 (text when it is UTF-8).", [Parameter("instr")]) { a, _ in
            try decode(a)
        },
        ExecutionFunction("base64_decodestring", doc: "Decode base64 with line breaks.", [Parameter("instr")]) { a, _ in
            try decode(a)
        },
        ExecutionFunction("hmac_signature", doc: "Whether challenge_hmac is the base64 HMAC-SHA256 of string with shared_secret.",
                          [Parameter("string"), Parameter("shared_secret"), Parameter("challenge_hmac")]) { a, _ in
            let digest = Hashing.hmacSHA256(key: text(a, "shared_secret"), message: text(a, "string"))
            return .bool(Data(digest).base64EncodedString() == a.string("challenge_hmac"))
        },
        ExecutionFunction("hmac_compute", doc: "Return the hex HMAC-SHA256 of string with shared_secret.",
                          [Parameter("string"), Parameter("shared_secret")]) { a, _ in
            .string(ASCIIText.hex(Hashing.hmacSHA256(key: text(a, "shared_secret"), message: text(a, "string"))))
        },
    ]

    static func decode(_ a: Arguments) throws -> Value {
        guard let data = Data(base64Encoded: String(decoding: text(a), as: UTF8.self), options: .ignoreUnknownCharacters) else {
            throw BrineError(.arguments, "Incorrect padding: the value is not base64")
        }
        return .string(String(decoding: data, as: UTF8.self))
    }
}
