import BrineCore
import Foundation
import OrderedCollections

/// Salt's `ssh` known_hosts functions: entries found with `ssh-keygen -F`,
/// removed with `-R`, hashed with `-H`, fetched with `ssh-keyscan`; the
/// file is the system's (/etc/ssh/ssh_known_hosts) or a user's.
extension SshModule {
    static let knownHostFunctions: [ExecutionFunction] = [
        ExecutionFunction("get_known_host_entries", doc: "The entries for a host: [{hostname, enc, key, fingerprint}], or None.",
                          [Parameter("user", default: .null), Parameter("hostname"), Parameter("config", default: .null),
                           Parameter("port", default: .null), Parameter("fingerprint_hash_type", default: .null)]) { a, ctx in
            let file = try knownHostsFile(a.string("config"), user: a.string("user"))
            let entries = try knownHostEntries(a.string("hostname") ?? "", port: a.int("port"), file: file, hash: a.string("fingerprint_hash_type"), ctx)
            return entries.isEmpty ? .null : .list(entries.map(\.value))
        },
        ExecutionFunction("rm_known_host", doc: "Remove a host's entries (ssh-keygen -R).",
                          [Parameter("user", default: .null), Parameter("hostname"), Parameter("config", default: .null),
                           Parameter("port", default: .null)]) { a, ctx in
            try removeKnownHost(a.string("hostname") ?? "", user: a.string("user"), config: a.string("config"), port: a.int("port"), ctx)
        },
    ]

    struct KnownHost {
        var hostname: String
        var enc: String
        var key: String
        var fingerprint: String?

        var value: Value {
            var map: OrderedDictionary<String, Value> = ["hostname": .string(hostname), "key": .string(key), "enc": .string(enc)]
            if let fingerprint { map["fingerprint"] = .string(fingerprint) }
            return .map(map)
        }
    }

    /// Salt's `_get_known_hosts_file`: absolute as given, else in the user's
    /// home; the system file without a user.
    static func knownHostsFile(_ config: String?, user: String?) throws -> String {
        let config = config ?? (user == nil ? "/etc/ssh/ssh_known_hosts" : ".ssh/known_hosts")
        if config.hasPrefix("/") { return config }
        guard let user else { throw BrineError(.execution, "Cannot determine absolute path to file.") }
        guard let pw = getpwnam(user) else { throw BrineError(.execution, "User \(user) does not exist") }
        return String(cString: pw.pointee.pw_dir) + "/" + config
    }

    static func sshHostname(_ host: String, port: Int?) -> String {
        guard let port, port != 22 else { return host }
        return "[\(host)]:\(port)"
    }

    /// Salt's `_parse_openssh_output`: `host enc key` lines with a valid key.
    static func parseKnownHosts(_ text: String, hash: String?) throws -> [KnownHost] {
        var found: [KnownHost] = []
        for raw in FileOps.universalNewlines(text).split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard words.count == 3, let print = try fingerprint(words[2], hash: hash) else { continue }
            found.append(KnownHost(hostname: words[0], enc: words[1], key: words[2], fingerprint: print))
        }
        return found
    }

    static func keygen(_ arguments: [String], _ ctx: ExecutionContext) throws -> ProcessResult {
        var result = try ctx.runner.run(Command(["ssh-keygen"] + arguments, environment: ["LC_ALL": "C", "PATH": "/usr/bin:/bin"]))
        result.stdout = CmdModule.rstrip(result.stdout)
        return result
    }

    static func knownHostEntries(_ host: String, port: Int?, file: String, hash: String?, _ ctx: ExecutionContext) throws -> [KnownHost] {
        guard FileOps.isFile(file) else { return [] }
        return try parseKnownHosts(try keygen(["-F", sshHostname(host, port: port), "-f", file], ctx).stdout, hash: hash)
    }

    static func removeKnownHost(_ host: String, user: String?, config: String?, port: Int?, _ ctx: ExecutionContext) throws -> Value {
        let file = try knownHostsFile(config, user: user)
        guard FileOps.isFile(file) else { return ["status": "error", "error": .string("Known hosts file \(file) does not exist")] }
        let result = try keygen(["-R", sshHostname(host, port: port), "-f", file], ctx)
        if let user, geteuid() == 0, let pw = getpwnam(user) { chown(file, pw.pointee.pw_uid, pw.pointee.pw_gid) }
        return ["status": "removed", "comment": .string([result.stdout, CmdModule.rstrip(result.stderr)].filter { !$0.isEmpty }.joined(separator: "\n"))]
    }

    /// Salt's `set_known_host` for a given key (or keys fetched with
    /// ssh-keyscan when none is given): stale entries of the host removed,
    /// the new ones appended, the file hashed unless `hash_known_hosts` is
    /// false. Answers {status: exists|updated|error, old, new}.
    static func setKnownHost(_ host: String, user: String?, config: String?, key: String?, enc: String?, fingerprint: String?,
                             port: Int?, hashFile: Bool, hash: String?, timeout: Int = 5, _ ctx: ExecutionContext) throws -> Value {
        if let port, port != 22, hashFile {
            return ["status": "error", "error": "argument port can not be used in conjunction with argument hash_known_hosts"]
        }
        let file = try knownHostsFile(config, user: user)
        // A user's file is the user's to replace with a link: never written through one.
        if user != nil, FileOps.isLink(file) || FileOps.isLink(FileOps.dirname(file)) {
            return ["status": "error", "error": .string("\(file) is a symbolic link: not written for user \(user ?? "")")]
        }
        let stored = try knownHostEntries(host, port: port, file: file, hash: hash, ctx)
        let storedKeys = stored.filter { enc == nil || $0.enc == enc }.map(\.key)
        let update = stored.isEmpty || (fingerprint.map { f in !stored.contains { $0.fingerprint == f } } ?? false)
            || (key.map { !storedKeys.contains($0) } ?? false)
        let check = !update && key == nil && fingerprint == nil
        if !update && !check { return ["status": "exists", "keys": .list(storedKeys.map(Value.string))] }
        var fresh: [KnownHost]
        if let key {
            fresh = [KnownHost(hostname: host, enc: enc ?? "", key: key)]
        } else {
            var scan = ["ssh-keyscan"] + (port.map { ["-p", String($0)] } ?? []) + (enc.map { ["-t", $0] } ?? [])
            scan += (hashFile ? ["-H"] : []) + ["-T", String(max(1, timeout)), host]
            fresh = []
            for _ in 0..<5 where fresh.isEmpty {  // Salt's five attempts
                fresh = try parseKnownHosts(try ctx.runner.run(Command(scan)).stdout, hash: hash)
            }
            if fresh.isEmpty { return ["status": "error", "error": "Unable to receive remote host keys"] }
            if let fingerprint, !fresh.contains(where: { $0.fingerprint == fingerprint }) {
                return ["status": "error", "error": "Remote host public keys found but none of their fingerprints match the one you have provided"]
            }
            if check && Set(fresh.map(\.key)) == Set(storedKeys) { return ["status": "exists", "keys": .list(storedKeys.map(Value.string))] }
        }
        let existed = FileOps.isFile(file)
        if existed {
            // Salt's `_get_matched_host_line_numbers`: the lines ssh-keygen -F reports for the host.
            let found = try keygen(["-F", sshHostname(host, port: port), "-f", file], ctx).stdout.split(separator: "\n").map(String.init)
            var stale = Set<Int>()
            for (index, line) in found.enumerated() where line.hasPrefix("# Host ") && index + 1 < found.count {
                let entry = found[index + 1].split(whereSeparator: \.isWhitespace)
                guard let number = line.split(separator: " ").last.flatMap({ Int($0) }), entry.count >= 2 else { continue }
                if enc == nil || String(entry[entry.count - 2]) == enc { stale.insert(number) }
            }
            if !stale.isEmpty {
                let lines = try FileOps.readText(file).split(separator: "\n", omittingEmptySubsequences: false)
                let kept = lines.enumerated().filter { !stale.contains($0.offset + 1) }.map { String($0.element) }
                try AtomicFile.write(kept.joined(separator: "\n"), to: file)
            }
        }
        let lines = fresh.map { entry in
            (hashFile || port == nil || port == 22 || entry.hostname.contains(":") ? entry.hostname : "[\(entry.hostname)]:\(port ?? 22)")
                + " \(entry.enc) \(entry.key)\n"
        }
        let directory = FileOps.dirname(file)
        if !FileOps.isDirectory(directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if let user, let pw = getpwnam(user) {
                chown(directory, pw.pointee.pw_uid, pw.pointee.pw_gid)
                chmod(directory, 0o700)
            }
        }
        var text = existed ? try FileOps.readText(file) : ""
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        try AtomicFile.write(text + lines.joined(), to: file, mode: existed ? nil : 0o600)
        if let user, geteuid() == 0, let pw = getpwnam(user) { lchown(file, pw.pointee.pw_uid, pw.pointee.pw_gid) }
        if key != nil && hashFile {
            // ssh-keygen -H writes a new file (and keeps file.old, as under Salt): mode and owner put back.
            var info = stat()
            let hadMode = lstat(file, &info) == 0
            _ = try keygen(["-H", "-f", file], ctx)
            if hadMode { chmod(file, info.st_mode & 0o7777) }
            if let user, geteuid() == 0, let pw = getpwnam(user) { lchown(file, pw.pointee.pw_uid, pw.pointee.pw_gid) }
        }
        return ["status": "updated", "old": stored.isEmpty ? .null : .list(stored.map(\.value)), "new": .list(fresh.map(\.value))]
    }
}
