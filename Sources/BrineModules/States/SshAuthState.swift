import BrineCore
import Foundation
import OrderedCollections

/// Salt's `ssh_auth` states: a key in a user's authorized_keys, given as
/// the bare key (with `enc`, `comment`, `options`), as a whole key line in
/// `name`, or as a file of keys (`source: salt://…`).
public enum SshAuthState: StateModule {
    public static let name = "ssh_auth"

    static let parameters: [Parameter] = [Parameter("user"), Parameter("enc", default: "ssh-rsa"), Parameter("comment", default: ""),
                                          Parameter("source", default: ""), Parameter("options", default: .null),
                                          Parameter("config", default: ".ssh/authorized_keys"),
                                          Parameter("fingerprint_hash_type", default: .null)]

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Make sure the key (or every key of source) is in the user's authorized_keys.", parameters) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Make sure the key (or every key of source) is not in the user's authorized_keys.", parameters) { call in
            try absent(call)
        },
    ]

    /// A key line given as `name` (`[options] type key [comment]`), or a
    /// bare key with its comment, as Salt's states split it.
    static func requested(_ call: StateCall, splitComment: Bool) -> SshModule.AuthorizedKey {
        var key = SshModule.AuthorizedKey(key: call.name, enc: call.string("enc") ?? "ssh-rsa", comment: call.string("comment") ?? "",
                                          options: call.arguments.stringList("options") ?? [])
        if let (options, fields) = SshModule.parse(call.name), fields.count >= 2 {
            if !options.isEmpty { key.options = SshModule.splitOptions(options) }
            key.enc = fields[0]
            key.key = fields[1]
            if fields.count >= 3 { key.comment = splitComment ? fields.dropFirst(2).joined(separator: " ") : fields[2] }
        } else {
            let parts = call.name.split(maxSplits: 1, whereSeparator: \.isWhitespace).map(String.init)
            key.key = parts.first ?? ""
            if parts.count == 2 { key.comment = parts[1] }
        }
        return key
    }

    static func sourceKeys(_ call: StateCall, _ source: String) throws -> OrderedDictionary<String, SshModule.AuthorizedKey>? {
        guard let local = try? call.context.fileClient.cache(source, saltenv: call.context.saltenv), FileOps.isFile(local) else { return nil }
        return try SshModule.keys(in: FileOps.readText(local), hash: call.string("fingerprint_hash_type")).mapValues(\.key)
    }

    static func present(_ call: StateCall) throws -> StateResult {
        let user = call.string("user") ?? "", config = call.string("config"), hash = call.string("fingerprint_hash_type")
        var ret = StateResult(name: call.name)
        if let source = call.string("source"), !source.isEmpty {
            guard let keys = try sourceKeys(call, source) else {
                return .failed(call.name, "Failed to add the ssh key. Source file \(source) is missing")
            }
            guard !keys.isEmpty else { return .failed(call.name, "No keys detected in \(source). Is file properly formatted?") }
            let options = call.arguments.stringList("options")
            if call.test {
                var said = ""
                for (text, key) in keys {
                    var wanted = key
                    if let options { wanted.options = options }
                    let status = try SshModule.check(wanted, user: user, config: config, hash: hash)
                    if status != "exists" { said += "Set to \(status): \(text)\n" }
                }
                ret.result = said.isEmpty ? true : nil
                ret.comment = said.isEmpty ? "All host keys in file \(source) are already present" : said
                return ret
            }
            var outcomes: [String] = []
            for (_, key) in keys {
                var wanted = key
                if let options { wanted.options = options }
                outcomes.append(try SshModule.set(wanted, user: user, config: config, hash: hash))
            }
            let data = outcomes.contains("fail") ? "fail" : outcomes.contains("replace") ? "replace" : outcomes.contains("new") ? "new" : "no change"
            return outcome(data, name: call.name, user: user, source: source)
        }
        var key = requested(call, splitComment: true)
        key.enc = try SshModule.refine(key.enc)
        if call.test {
            switch try SshModule.check(key, user: user, config: config, hash: hash) {
            case "update": return StateResult(name: call.name, result: nil, comment: "Key \(key.key) for user \(user) is set to be updated")
            case "add": return StateResult(name: call.name, result: nil, comment: "Key \(key.key) for user \(user) is set to be added")
            default: return StateResult(name: call.name, comment: "The authorized host key \(key.key) is already present for user \(user)")
            }
        }
        return outcome(try SshModule.set(key, user: user, config: config, hash: hash), name: call.name, user: user, key: key.key)
    }

    /// Salt's words for what `set_auth_key` answered.
    static func outcome(_ data: String, name: String, user: String, key: String? = nil, source: String = "") -> StateResult {
        let shown = key ?? name
        switch data {
        case "replace":
            return StateResult(name: name, changes: [shown: "Updated"], comment: "The authorized host key \(shown) for user \(user) was updated")
        case "no change":
            return StateResult(name: name, comment: "The authorized host key \(shown) is already present for user \(user)")
        case "new":
            return StateResult(name: name, changes: [shown: "New"], comment: "The authorized host key \(shown) for user \(user) was added")
        case "invalid", "Invalid public key":
            return .failed(name, "Invalid public ssh key, most likely has spaces or invalid syntax")
        default:
            return .failed(name, "Failed to add the ssh key. Is the home directory available, and/or does the key file exist?")
        }
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let user = call.string("user") ?? "", config = call.string("config"), hash = call.string("fingerprint_hash_type")
        var ret = StateResult(name: call.name)
        var targets: [SshModule.AuthorizedKey]
        let source = call.string("source") ?? ""
        if !source.isEmpty {
            guard let keys = try sourceKeys(call, source) else {
                return .failed(call.name, "Failed to pull key file from salt file server")
            }
            guard !keys.isEmpty else { return .failed(call.name, "No keys detected in \(source). Is file properly formatted?") }
            targets = Array(keys.values)
        } else {
            targets = [requested(call, splitComment: false)]
        }
        if call.test {
            var said = ""
            for key in targets {
                let status = try SshModule.check(key, user: user, config: config, hash: hash)
                if source.isEmpty {
                    let present = status != "add"
                    return StateResult(name: call.name, result: present ? nil : true,
                                       comment: present ? "Key \(key.key) for user \(user) is set for removal" : "Key is already absent")
                }
                if status != "add" { said += "Set to remove: \(key.key)\n" }
            }
            ret.result = said.isEmpty ? true : nil
            ret.comment = said.isEmpty ? "All host keys in file \(source) are already absent" : said
            return ret
        }
        var answers: [String] = []
        for key in targets { answers.append(try SshModule.remove(key.key, user: user, config: config, hash: hash)) }
        ret.comment = answers.contains("Key removed") ? "Key removed" : "Key not present"
        if ret.comment == "Key removed" { ret.changes[source.isEmpty ? (targets.first?.key ?? call.name) : call.name] = "Removed" }
        return ret
    }
}
