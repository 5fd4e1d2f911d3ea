import BrineCore
import Foundation
import OrderedCollections

/// Salt's `ssh` execution module, the authorized_keys part: reading a
/// user's keys, checking, adding, replacing and removing one, with Salt's
/// parsing of key lines (options, type, base64 key, comment) and its
/// answers (`new`, `replace`, `no change`, `Key removed`…).
public enum SshModule: ExecutionModule {
    public static let name = "ssh"

    static let keyFile: [Parameter] = [Parameter("config", default: ".ssh/authorized_keys"),
                                       Parameter("fingerprint_hash_type", default: .null)]

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("auth_keys", doc: "The user's authorized keys: {key: {enc, comment, options, fingerprint}}.",
                          [Parameter("user")] + keyFile) { a, _ in
            let file = try keysFile(a.string("user") ?? "", config: a.string("config"))
            guard FileOps.isFile(file.path) else { return .emptyMap }
            return .map(try keys(in: FileOps.readText(file.path), hash: a.string("fingerprint_hash_type")).mapValues(\.value))
        },
        ExecutionFunction("check_key", doc: "Whether the key is there as given: add, update or exists.",
                          [Parameter("user"), Parameter("key"), Parameter("enc"), Parameter("comment"), Parameter("options")] + keyFile) { a, _ in
            let key = AuthorizedKey(key: a.string("key") ?? "", enc: try refine(a.string("enc") ?? "ssh-rsa"),
                                    comment: a.string("comment") ?? "", options: a.stringList("options") ?? [])
            return .string(try check(key, user: a.string("user") ?? "", config: a.string("config"), hash: a.string("fingerprint_hash_type")))
        },
        ExecutionFunction("set_auth_key", doc: "Add or update a key: new, replace, no change, invalid, fail.",
                          [Parameter("user"), Parameter("key"), Parameter("enc", default: "ssh-rsa"), Parameter("comment", default: ""),
                           Parameter("options", default: .null)] + keyFile) { a, _ in
            let key = AuthorizedKey(key: a.string("key") ?? "", enc: try refine(a.string("enc") ?? "ssh-rsa"),
                                    comment: a.string("comment") ?? "", options: a.stringList("options") ?? [])
            return .string(try set(key, user: a.string("user") ?? "", config: a.string("config"), hash: a.string("fingerprint_hash_type")))
        },
        ExecutionFunction("rm_auth_key", doc: "Remove a key: Key removed, Key not present.",
                          [Parameter("user"), Parameter("key")] + keyFile) { a, _ in
            .string(try remove(a.string("key") ?? "", user: a.string("user") ?? "", config: a.string("config"),
                               hash: a.string("fingerprint_hash_type")))
        },
    ] + knownHostFunctions

    /// One authorized_keys entry.
    struct AuthorizedKey: Equatable {
        var key: String
        var enc: String
        var comment: String
        var options: [String]

        /// Salt's `_format_auth_line`.
        var line: String {
            (options.isEmpty ? "" : options.joined(separator: ",") + " ") + "\(enc) \(key) \(comment)\n"
        }

        func value(fingerprint: String) -> Value {
            .map(["enc": .string(enc), "comment": .string(comment), "options": .list(options.map(Value.string)),
                  "fingerprint": .string(fingerprint)])
        }
    }

    /// Salt's key-line expression `^(.*?)\s?((?:sk-)?(?:ssh\-|ecds)[\w@.-]+\s.+)$`:
    /// the options before the first key type, then type, key and comment.
    static func parse(_ line: String) -> (options: String, fields: [String])? {
        let chars = Array(line)
        for start in chars.indices where startsKeyType(chars, at: start) {
            var optionsEnd = start
            if start > 0, chars[start - 1].isWhitespace { optionsEnd -= 1 }
            let fields = String(chars[start...]).split(whereSeparator: \.isWhitespace).map(String.init)
            return (String(chars[..<optionsEnd]), fields)
        }
        return nil
    }

    /// Salt's `options.split(',')` (nothing for no options).
    static func splitOptions(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }

    static func startsKeyType(_ chars: [Character], at start: Int) -> Bool {
        var i = start
        func take(_ text: String) -> Bool {
            let word = Array(text)
            guard i + word.count <= chars.count, Array(chars[i..<(i + word.count)]) == word else { return false }
            i += word.count
            return true
        }
        _ = take("sk-")
        guard take("ssh-") || take("ecds") else { return false }
        let nameStart = i
        while i < chars.count, chars[i].isLetter || chars[i].isNumber || "_@.-".contains(chars[i]) { i += 1 }
        guard i > nameStart, i < chars.count, chars[i].isWhitespace else { return false }
        return i + 1 < chars.count  // `.+` after the whitespace
    }

    /// Salt's `_validate_keys`: every key line whose key is valid base64.
    static func keys(in text: String, hash: String?) throws -> OrderedDictionary<String, (key: AuthorizedKey, value: Value)> {
        var found = OrderedDictionary<String, (key: AuthorizedKey, value: Value)>()
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), let (options, fields) = parse(line), fields.count >= 2 else { continue }
            guard let fingerprint = try fingerprint(fields[1], hash: hash) else { continue }
            let key = AuthorizedKey(key: fields[1], enc: fields[0], comment: fields.dropFirst(2).joined(separator: " "),
                                    options: splitOptions(options))
            found[fields[1]] = (key, key.value(fingerprint: fingerprint))
        }
        return found
    }

    /// Salt's `_fingerprint`: the hash of the decoded key, as `aa:bb:…`;
    /// nil when the key is not base64.
    static func fingerprint(_ key: String, hash: String?) throws -> String? {
        guard let raw = Data(base64Encoded: key) else { return nil }
        let algorithm = (hash ?? "sha256").lowercased()
        guard Hashing.algorithms.contains(algorithm) else {
            throw BrineError(.arguments, "The fingerprint_hash_type \(algorithm) is not supported.")
        }
        let hex = Array(try Hashing.hexDigest(raw, algorithm: algorithm))
        return stride(from: 0, to: hex.count, by: 2).map { String(hex[$0..<min($0 + 2, hex.count)]) }.joined(separator: ":")
    }

    /// Salt's `_refine_enc`: short names to key types.
    static func refine(_ enc: String) throws -> String {
        switch enc {
        case "r", "rsa", "ssh-rsa": return "ssh-rsa"
        case "d", "dsa", "dss", "ssh-dss": return "ssh-dss"
        case "e", "ecdsa": return "ecdsa-sha2-nistp256"
        case "ed25519", "ssh-ed25519": return "ssh-ed25519"
        case "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256",
             "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com",
             "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
             "ecdsa-sha2-nistp521-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
             "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com",
             "sk-ssh-ed25519-cert-v01@openssh.com":
            return enc
        default: throw BrineError(.arguments, "Incorrect encryption key type '\(enc)'.")
        }
    }

    /// The key file of a user (`%u`, `%h` expanded, relative to the home).
    static func keysFile(_ user: String, config: String?) throws -> (path: String, home: String, uid: uid_t, gid: gid_t) {
        guard !user.isEmpty, let pw = getpwnam(user) else { throw BrineError(.execution, "User '\(user)' does not exist") }
        let home = String(cString: pw.pointee.pw_dir)
        var path = "", escaped = false
        for ch in config ?? ".ssh/authorized_keys" {
            if escaped {
                escaped = false
                switch ch {
                case "%": path += "%"
                case "u": path += user
                case "h": path += home
                default: throw BrineError(.execution, "AuthorizedKeysFile path: unknown token character \"%\(ch)\"")
                }
            } else if ch == "%" {
                escaped = true
            } else {
                path.append(ch)
            }
        }
        if escaped { throw BrineError(.execution, "AuthorizedKeysFile path: Last character can't be escape character") }
        if !path.hasPrefix("/") { path = home + "/" + path }
        return (path, home, pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    static func check(_ key: AuthorizedKey, user: String, config: String?, hash: String?) throws -> String {
        let file = try keysFile(user, config: config)
        let current = FileOps.isFile(file.path) ? try keys(in: FileOps.readText(file.path), hash: hash) : [:]
        guard let existing = current[key.key]?.key else { return "add" }
        return existing.line == key.line ? "exists" : "update"
    }

    static func set(_ key: AuthorizedKey, user: String, config: String?, hash: String?) throws -> String {
        if key.key.split(whereSeparator: \.isWhitespace).count > 1 { return "invalid" }
        guard getpwnam(user) != nil else { return "fail" }
        guard try fingerprint(key.key, hash: hash) != nil else { return "Invalid public key" }
        let file = try keysFile(user, config: config)
        switch try check(key, user: user, config: config, hash: hash) {
        case "exists": return "no change"
        case "update":
            try rewrite(file.path) { line in
                guard let (_, fields) = parse(line), fields.count >= 2, fields[1] == key.key else { return line }
                return key.line
            }
            return "replace"
        default:
            if file.path.hasPrefix(file.home), !FileOps.isDirectory(file.home) { return "fail" }
            let directory = (file.path as NSString).deletingLastPathComponent
            if !FileOps.isDirectory(directory) {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                if geteuid() == 0 { chown(directory, file.uid, file.gid) }
                chmod(directory, 0o700)
            }
            let isNew = !FileOps.exists(file.path)
            var text = isNew ? "" : try FileOps.readText(file.path)
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
            try AtomicFile.write(text + key.line, to: file.path, mode: isNew ? 0o600 : nil)
            if isNew && geteuid() == 0 { chown(file.path, file.uid, file.gid) }
            return "new"
        }
    }

    static func remove(_ key: String, user: String, config: String?, hash: String?) throws -> String {
        let file = try keysFile(user, config: config)
        guard FileOps.isFile(file.path) else { return "Key not present" }
        guard try keys(in: FileOps.readText(file.path), hash: hash)[key] != nil else { return "Key not present" }
        try rewrite(file.path) { line in
            guard let (_, fields) = parse(line) else { return nil }
            if fields.count < 2 { return line }
            return fields[1] == key ? nil : line
        }
        return "Key removed"
    }

    /// Salt's rewrite of a key file: blank lines dropped, comments kept,
    /// each other line through `transform` (nil drops it).
    static func rewrite(_ path: String, _ transform: (String) -> String?) throws {
        var out = ""
        for raw in try FileOps.readText(path).split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") { out += line + "\n"; continue }
            if let kept = transform(line + "\n") { out += kept.hasSuffix("\n") ? kept : kept + "\n" }
        }
        try AtomicFile.write(out, to: path)
    }
}
