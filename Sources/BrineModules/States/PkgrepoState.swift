import BrineCore
import Foundation
import OrderedCollections

/// Salt's `pkgrepo` states for APT: a repository given as a one-line deb
/// entry in `name`, written to `file` (default /etc/apt/sources.list; a
/// `.sources` file gets a deb822 stanza), with its key (`key_url` into
/// `signed_by`), then the index refreshed.
public enum PkgrepoState: StateModule {
    public static let name = "pkgrepo"

    static let testNote = "This may cause pkg states to behave differently than stated if this action is repeated without test=True, "
        + "due to the differences in the configured repositories."

    public static let functions: [StateFunction] = [
        StateFunction("managed", doc: "Make sure an APT repository is configured (name: 'deb [options] URI SUITE COMPONENTS').",
                      .optional("file", "key_url", "signed_by", "architectures", "comps")
                          + [Parameter("refresh", default: true), Parameter("clean_file", default: false),
                             Parameter("disabled", default: false), Parameter("aptkey", default: false)]) { call in
            try managed(call)
        },
        StateFunction("absent", doc: "Make sure an APT repository is not configured.") { call in
            try absent(call)
        },
    ]

    /// The entry the state asks for: `name`'s line, with `architectures`,
    /// `comps`, `signed_by` and `disabled` applied as Salt applies them.
    static func desired(_ call: StateCall) throws -> AptSource? {
        guard var source = AptSource.parse(call.name, file: call.string("file") ?? "/etc/apt/sources.list") else { return nil }
        if let arch = call.arguments.stringList("architectures") {
            source.options.removeAll { $0.key == "arch" }
            source.options.append(("arch", arch.joined(separator: ",")))
        }
        if let comps = call.arguments.stringList("comps") { source.comps = comps }
        if let key = call.string("signed_by"), source.option("signed-by") != key {
            source.options.removeAll { $0.key == "signed-by" }
            source.options.append(("signed-by", key))
        }
        source.disabled = call.bool("disabled")
        source.line = source.rendered
        return source
    }

    static func managed(_ call: StateCall) throws -> StateResult {
        let name = call.name
        guard let wanted = try desired(call) else {
            return .failed(name, "Repo '\(name)' is not a one-line APT entry ('deb [options] URI SUITE [COMPONENTS]'), which names the repository (also for a .sources file)")
        }
        let before = try AptSource.all().first { $0.sameRepository(as: wanted) }
        var target = wanted
        if let before, call.string("file") == nil { target.file = before.file }
        // Checked before anything is written: moving it would have to remove it from that stanza.
        if let before, before.stanza?.alone == false {
            return .failed(name, "Package repo '\(name)' is configured in \(before.file) in a stanza with other types, URIs or suites: "
                           + "Brine rewrites and removes whole stanzas only; split the stanza first")
        }
        let newKey = try keyToInstall(call)
        let configured = target.file.hasSuffix(".sources") ? before?.sameSettings(as: target) : before.map { $0 == target }
        if configured == true, newKey == nil, !call.bool("clean_file") {
            return StateResult(name: name, comment: "Package repo '\(name)' already configured")
        }
        if call.test {
            return StateResult(name: name, result: nil, changes: changes(before, target, name: name),
                               comment: "Package repo '\(name)' would be configured. \(testNote)")
        }
        if let newKey, let path = call.string("signed_by") {
            _ = try FileOps.makeDirectories(FileOps.dirname(path))
            try AtomicFile.write(Array(newKey), to: path, mode: 0o644)
        }
        if let before, before.file != target.file || call.bool("clean_file") { try PkgModule.removeRepository(before) }
        try write(target, replacing: before?.file == target.file && !call.bool("clean_file") ? before : nil, clean: call.bool("clean_file"))
        var ret = StateResult(name: name, changes: changes(before, target, name: name), comment: "Configured package repo '\(name)'")
        if call.flag("refresh", default: true) {
            let refreshed = try PkgModule.refreshDatabase(call.context, failhard: false)
            if refreshed.mapValue?.values.contains(.bool(false)) == true {
                ret.result = false
                ret.comment += ". Failed to refresh the package index (apt-get update)"
            }
        }
        return ret
    }

    /// Salt's changes: the new repository, or each field of its
    /// `get_repo` answer that changed.
    static func changes(_ before: AptSource?, _ after: AptSource, name: String) -> OrderedDictionary<String, Value> {
        guard let before else { return ["repo": .string(name)] }
        var changed = OrderedDictionary<String, Value>()
        guard case .map(let old) = before.asValue, case .map(let new) = after.asValue else { return changed }
        for (key, value) in new where old[key] != value { changed[key] = ["new": value, "old": old[key] ?? .null] }
        return changed
    }

    /// Rewrites the entry in its file, or appends it (the whole file with
    /// `clean_file`); the file is created 0644. A `.sources` file gets a
    /// deb822 stanza.
    static func write(_ source: AptSource, replacing old: AptSource?, clean: Bool) throws {
        if source.file.hasSuffix(".sources") { return try writeStanza(source, replacing: old, clean: clean) }
        let text = (source.disabled ? "# " : "") + source.line
        var lines: [String] = []
        if !clean, FileOps.isFile(source.file) {
            lines = try FileOps.readText(source.file).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            while lines.last == "" { lines.removeLast() }
        }
        if let old, let index = lines.firstIndex(where: { AptSource.parse($0, file: source.file)?.sameRepository(as: old) ?? false }) {
            lines[index] = text
        } else {
            lines.append(text)
        }
        _ = try FileOps.makeDirectories(FileOps.dirname(source.file))
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: source.file, mode: FileOps.exists(source.file) ? nil : 0o644)
    }

    /// The stanza updated in place (its other fields and comments kept), or
    /// a new one appended after a blank line.
    static func writeStanza(_ source: AptSource, replacing old: AptSource?, clean: Bool) throws {
        var stanzas = !clean && FileOps.isFile(source.file) ? AptSource.stanzas(try FileOps.readText(source.file)) : []
        if let stanza = old?.stanza, stanza.alone, stanza.index < stanzas.count {
            stanzas[stanza.index] = source.updating(stanzas[stanza.index])
        } else {
            stanzas.append(source.deb822Stanza)
        }
        _ = try FileOps.makeDirectories(FileOps.dirname(source.file))
        try AtomicFile.write(stanzas.joined(separator: "\n"), to: source.file, mode: FileOps.exists(source.file) ? nil : 0o644)
    }

    /// `key_url` with `signed_by`: the key fetched once, returned when the
    /// keyring at that path is not already it (nil: nothing to write).
    static func keyToInstall(_ call: StateCall) throws -> Data? {
        guard let url = call.string("key_url"), let path = call.string("signed_by") else { return nil }
        let key = try fetchKey(url, call)
        guard FileOps.isFile(path) else { return key }
        return key == (try Data(contentsOf: URL(fileURLWithPath: path))) ? nil : key
    }

    /// The key's bytes; an ASCII-armored key is dearmored with gpg when the
    /// keyring's name ends in .gpg (APT reads armor only from .asc files).
    static func fetchKey(_ url: String, _ call: StateCall) throws -> Data {
        var bytes: Data
        if url.hasPrefix("https://") {
            throw BrineError(.state, "key_url \(url): https is not supported here", hint: "serve the key from salt:// (the file server) or a file")
        }
        if url.hasPrefix("http://") {
            bytes = Data(try HTTPClient.download(url, timeout: 60))
        } else {
            let local = url.hasPrefix("salt://") ? try call.context.fileClient.cache(url, saltenv: call.context.saltenv)
                : String(url.dropFirst(url.hasPrefix("file://") ? 7 : 0))
            guard let local, FileOps.isFile(local) else { throw BrineError(.state, "Failed to fetch key from \(url)") }
            bytes = try Data(contentsOf: URL(fileURLWithPath: local))
        }
        let armored = bytes.starts(with: Array("-----BEGIN PGP PUBLIC KEY BLOCK-----".utf8))
        guard armored, call.string("signed_by")?.hasSuffix(".gpg") == true else { return bytes }
        // Binary output: through a file, not a pipe read as text.
        return try FileOps.withScratchFile(bytes) { armored in
            let result = try call.context.runner.run(Command(["gpg", "--batch", "--yes", "--dearmor", "-o", armored + ".out", armored]))
            guard result.retcode == 0 else { throw BrineError(.state, "gpg --dearmor failed for \(url): \(result.stderr)") }
            return try Data(contentsOf: URL(fileURLWithPath: armored + ".out"))
        }
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name
        guard let wanted = AptSource.parse(name, file: "") else {
            return .failed(name, "Repo '\(name)' is not a one-line APT entry ('deb [options] URI SUITE [COMPONENTS]')")
        }
        guard let found = try AptSource.all().first(where: { $0.sameRepository(as: wanted) }) else {
            return StateResult(name: name, comment: "Package repo \(name) is absent")
        }
        if call.test {
            return StateResult(name: name, result: nil, comment: "Package repo '\(name)' will be removed. \(testNote)")
        }
        try PkgModule.removeRepository(found)
        return StateResult(name: name, changes: ["repo": .string(name)], comment: "Removed repo \(name)")
    }
}
