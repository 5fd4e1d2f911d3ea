import ArgumentParser
import BrineCommandLine
import BrineCore
import BrineMaster
import BrineWire
import BrineCluster
import Foundation
import Logging

/// `brine key` (salt-key): list, accept, reject, delete minion keys and show
/// fingerprints, with Salt's words, layout and colours.
struct Key: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "key", abstract: "Manage minion keys on the master (salt-key).")

    @OptionGroup var config: ConfigOptions

    @Flag(name: [.customShort("L"), .customLong("list-all")], help: "List all keys.")
    var listAll = false
    @Option(name: [.customShort("l"), .customLong("list")], help: "List keys: acc, un, rej, den or all.")
    var list: String?
    @Option(name: [.customShort("a"), .customLong("accept")], help: "Accept the unaccepted keys matching this glob.")
    var accept: String?
    @Flag(name: [.customShort("A"), .customLong("accept-all")], help: "Accept all unaccepted keys.")
    var acceptAll = false
    @Option(name: [.customShort("r"), .customLong("reject")], help: "Reject the keys matching this glob.")
    var reject: String?
    @Flag(name: [.customShort("R"), .customLong("reject-all")], help: "Reject all unaccepted keys.")
    var rejectAll = false
    @Option(name: [.customShort("d"), .customLong("delete")], help: "Delete the keys matching this glob.")
    var delete: String?
    @Flag(name: [.customShort("D"), .customLong("delete-all")], help: "Delete all keys.")
    var deleteAll = false
    @Option(name: [.customShort("f"), .customLong("finger")], help: "Print the fingerprints of the keys matching this glob.")
    var finger: String?
    @Flag(name: [.customShort("F"), .customLong("finger-all")], help: "Print all fingerprints.")
    var fingerAll = false
    @Flag(name: [.customShort("y"), .customLong("yes")], help: "Answer yes to all questions.")
    var yes = false
    @Flag(name: .customLong("include-rejected"), help: "Also accept (or delete) rejected keys.")
    var includeRejected = false
    @Flag(name: .customLong("include-denied"), help: "Also accept (or reject) denied keys.")
    var includeDenied = false
    @Flag(name: .customLong("include-accepted"), help: "Also reject accepted keys.")
    var includeAccepted = false
    @Flag(name: .customLong("include-all"), help: "Include rejected, denied and accepted keys where it applies.")
    var includeAll = false
    @Option(name: .customLong("gen-keys"), help: "Generate a key pair NAME.pem/NAME.pub (in --gen-keys-dir) and exit.")
    var genKeys: String?
    @Option(name: .customLong("gen-keys-dir"), help: "Directory for --gen-keys (default: the current directory).")
    var genKeysDir = "."
    @Option(name: [.customLong("out"), .customLong("output")], help: "Output format: nested (Salt's text) or json.")
    var out: String?
    @Flag(name: .customLong("force-color")) var forceColor = false
    @Flag(name: .customLong("no-color")) var noColor = false

    func run() async throws {
        try await reportingErrors {
            try await execute()
        }
    }

    var colors: Colors {
        if forceColor { return .on }
        if noColor { return .none }
        return .choose(isatty(STDOUT_FILENO) == 1)
    }

    func execute() async throws {
        if let genKeys {
            try KeyStore.validate(id: genKeys)
            let pair = StaticKeyPair.generate()
            try KeyFiles(directory: genKeysDir, name: genKeys).write(pair)
            return
        }
        let opts = try config.load(.master)
        try await withMasterKeys(opts, logger: Logger.brine("brine.key")) { try await act($0, opts) }
    }

    func act(_ store: any MinionKeys, _ opts: Config) async throws {
        if let accept { return try await change(store, glob: accept, action: .accept) }
        if acceptAll { return try await change(store, glob: "*", action: .accept) }
        if let reject { return try await change(store, glob: reject, action: .reject) }
        if rejectAll { return try await change(store, glob: "*", action: .reject) }
        if let delete { return try await change(store, glob: delete, action: .delete) }
        if deleteAll { return try await change(store, glob: "*", action: .delete) }
        if let finger { return try await fingerprints(store, master: KeyFiles.master(opts), glob: finger) }
        if fingerAll { return try await fingerprints(store, master: KeyFiles.master(opts), glob: "*") }
        var statuses = KeyStore.Status.allCases
        if let list {
            guard let chosen = KeyStore.Status.parse(list) else {
                throw BrineError(.usage, "unknown key list '\(list)'", hint: "use acc, un, rej, den or all")
            }
            statuses = chosen
        }
        try await show(store, statuses)
    }

    func show(_ store: any MinionKeys, _ statuses: [KeyStore.Status]) async throws {
        if out == "json" {
            // Salt's key order for the JSON form.
            let order: [KeyStore.Status] = [.pending, .rejected, .accepted, .denied]
            var data = BrineCore.Value.emptyMap.mapValue ?? [:]
            for status in order where statuses.contains(status) {
                data[status.rawValue] = .list(try await store.list(status).map(BrineCore.Value.string))
            }
            print(JSON.encode(.map(data)))
            return
        }
        for status in statuses {
            print(heading(status))
            for id in try await store.list(status) { print(item(id, status)) }
        }
    }

    func heading(_ status: KeyStore.Status) -> String {
        let c = colors
        let color = [KeyStore.Status.accepted: c.lightGreen, .denied: c.lightMagenta, .pending: c.lightRed,
                     .rejected: c.lightBlue][status] ?? ""
        return color + status.heading + ":" + c.endc
    }

    func item(_ text: String, _ status: KeyStore.Status) -> String {
        let c = colors
        guard c.endc != "" else { return text }
        let code = [KeyStore.Status.accepted: "0;32", .denied: "0;35", .pending: "0;31", .rejected: "0;34"][status] ?? "0"
        return "\u{1B}[\(code)m" + text + c.endc
    }

    enum Action: String {
        case accept = "accepted", reject = "rejected", delete = "deleted"
        var verb: String { ["accepted": "accept", "rejected": "reject", "deleted": "delete"][rawValue] ?? rawValue }
    }

    func change(_ store: any MinionKeys, glob: String, action: Action) async throws {
        let target: KeyStore.Status? = action == .accept ? .accepted : action == .reject ? .rejected : nil
        let sources = KeyStore.sources(for: KeyStore.Action(rawValue: action.verb) ?? .delete,
                                       includeRejected: includeRejected || includeAll, includeDenied: includeDenied || includeAll,
                                       includeAccepted: includeAccepted || includeAll)
        let matches = try await store.matching(glob, in: KeyStore.Status.allCases.filter { sources.contains($0) })
        guard !matches.isEmpty else {
            let kind = action == .delete ? "keys" : sources == [.pending] ? "unaccepted keys" : "keys"
            print("The key glob '\(glob)' does not match any \(kind).")
            return
        }
        print("The following keys are going to be \(action.rawValue):")
        for status in KeyStore.Status.allCases {
            let ids = matches.filter { $0.status == status }.map(\.id)
            guard !ids.isEmpty else { continue }
            print(heading(status))
            for id in ids { print(item(id, status)) }
        }
        if !yes {
            print("Proceed? [n/Y] ", terminator: "")
            fflush(nil)
            // Like Salt, an empty answer means yes; a closed stdin means no.
            guard let line = readLine() else {
                print("")
                return
            }
            let answer = line.trimmingCharacters(in: .whitespaces).lowercased()
            guard answer.isEmpty || answer.hasPrefix("y") else { return }
        }
        for (id, status) in matches {
            if let target {
                try await store.move(id, from: status, to: target)
            } else {
                try await store.delete(id, from: status)
            }
            print("Key for minion \(id) \(action.rawValue).")
        }
    }

    /// `master` is the master's pair: `cluster.pem`/`.pub` in a cluster.
    func fingerprints(_ store: any MinionKeys, master: KeyFiles, glob: String) async throws {
        if glob == "*" {
            var local: [(String, String)] = []
            if let pair = try? master.load() { local.append((master.name + ".pem", KeyFingerprint.of(pair.publicKey))) }
            if let key = try? KeyFiles.readPublicKey(at: master.publicKeyPath) { local.append((master.name + ".pub", KeyFingerprint.of(key))) }
            if !local.isEmpty {
                print("Local Keys:")
                for (name, fp) in local { print("\(name):  \(fp)") }
            }
        }
        for status in KeyStore.Status.allCases {
            let ids = try await store.list(status).filter { Glob.match($0, glob) }
            guard !ids.isEmpty else { continue }
            print(heading(status))
            for id in ids { print("\(item(id, status)):  \(await store.fingerprint(id, in: status) ?? "(unreadable key)")") }
        }
    }
}

/// The master's minion keys for a command run beside it (`brine key`,
/// `brine container`): `pki_dir`'s files, or in a cluster the database's,
/// where a change is seen by every master (its pool runs for `body`).
func withMasterKeys<T: Sendable>(_ opts: Config, logger: Logger, _ body: (any MinionKeys) async throws -> T) async throws -> T {
    guard let database = try ClusterNode.database(opts, logger: logger) else {
        return try await body(KeyStore(pkiDir: opts.string("pki_dir") ?? "/etc/brine/pki/master"))
    }
    return try await database.withRunning { database in try await body(ClusterKeys(database: database)) }
}
