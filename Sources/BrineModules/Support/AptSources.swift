import BrineCore
import Foundation
import OrderedCollections

/// APT's repository lists as Salt's `aptpkg` reads them: one-line entries in
/// /etc/apt/sources.list and sources.list.d/*.list (a commented-out entry is
/// a disabled repository), deb822 stanzas in sources.list.d/*.sources.
struct AptSource: Equatable {
    var type: String
    var options: [(key: String, value: String)]
    var uri: String
    var dist: String
    var comps: [String]
    var disabled = false
    var file: String
    /// The entry as written (one-line files), without a `# ` for disabled.
    var line: String
    /// In a deb822 file: the stanza's index, and whether the stanza holds
    /// this repository only (one type, URI and suite), so it can be
    /// rewritten or removed as a whole.
    var stanza: (index: Int, alone: Bool)? = nil

    static func == (a: AptSource, b: AptSource) -> Bool { a.asValue == b.asValue }

    var architectures: [String] { option("arch")?.split(separator: ",").map(String.init) ?? [] }
    var signedBy: String { option("signed-by") ?? "" }

    func option(_ key: String) -> String? { options.last { $0.key == key }?.value }

    /// Salt's `get_repo` answer for this entry.
    var asValue: Value {
        .map([
            "file": .string(file), "comps": .list(comps.map(Value.string)), "disabled": .bool(disabled), "enabled": .bool(!disabled),
            "dist": .string(dist), "suites": [.string(dist)], "type": .string(type), "types": [.string(type)],
            "uri": .string(uri), "uris": [.string(uri)], "line": .string(line),
            "architectures": .list(architectures.map(Value.string)), "signedby": .string(signedBy),
        ])
    }

    /// The one-line form: `deb [k=v …] uri dist comps…`.
    var rendered: String {
        var words = [type]
        if !options.isEmpty { words.append("[" + options.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "]") }
        words += [uri, dist] + comps
        return words.joined(separator: " ")
    }

    /// The entry's deb822 fields, in the order Salt writes them.
    var deb822Fields: [(name: String, value: String)] {
        var fields = [("Types", type), ("URIs", uri), ("Suites", dist)]
        if !comps.isEmpty { fields.append(("Components", comps.joined(separator: " "))) }
        if option("trusted") == "yes" { fields.append(("Trusted", "yes")) }
        if !signedBy.isEmpty { fields.append(("Signed-By", signedBy)) }
        if !architectures.isEmpty { fields.append(("Architectures", architectures.joined(separator: " "))) }
        if disabled { fields.append(("Enabled", "no")) }
        return fields
    }

    /// The entry as a new deb822 stanza.
    var deb822Stanza: String { deb822Fields.map { "\($0.name): \($0.value)\n" }.joined() }

    /// The fields Brine writes; a stanza's others (and its comments) are kept.
    static let deb822Known: Set<String> = ["types", "uris", "suites", "components", "trusted", "signed-by", "architectures", "enabled"]

    /// An existing stanza with the known fields set as this entry says, in
    /// place: other fields, comments and order kept; a known field this
    /// entry no longer has is dropped with its continuation lines.
    func updating(_ stanza: String) -> String {
        var pending = deb822Fields
        var lines: [String] = []
        var inKnownField = false
        for line in stanza.split(separator: "\n").map(String.init) {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                if !inKnownField { lines.append(line) }
                continue
            }
            let key = line.hasPrefix("#") ? nil : line.split(separator: ":", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            inKnownField = key.map(Self.deb822Known.contains) ?? false
            guard inKnownField, let key else {
                lines.append(line)
                continue
            }
            if let index = pending.firstIndex(where: { $0.name.lowercased() == key }) {
                lines.append("\(pending[index].name): \(pending[index].value)")
                pending.remove(at: index)
            }
        }
        lines += pending.map { "\($0.name): \($0.value)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Same repository, same settings (what a deb822 stanza can hold:
    /// options' order and spelling are not kept there).
    func sameSettings(as other: AptSource) -> Bool {
        sameRepository(as: other) && comps == other.comps && disabled == other.disabled && Set(architectures) == Set(other.architectures)
            && signedBy == other.signedBy && (option("trusted") == "yes") == (other.option("trusted") == "yes") && file == other.file
    }

    /// Whether two entries are the same repository (Salt matches type, URI
    /// and suite; options and components may change).
    func sameRepository(as other: AptSource) -> Bool {
        type == other.type && uri.trimmingSuffix("/") == other.uri.trimmingSuffix("/") && dist == other.dist
    }

    /// Parses `deb [options] uri dist [comps]` (nil when it is not one).
    static func parse(_ text: String, file: String) -> AptSource? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var disabled = false
        if rest.hasPrefix("#") {
            disabled = true
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
        }
        let type = String(rest.prefix { !$0.isWhitespace })
        guard type == "deb" || type == "deb-src" else { return nil }
        rest = rest.dropFirst(type.count).drop(while: \.isWhitespace)
        var options: [(key: String, value: String)] = []
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            for pair in rest[rest.index(after: rest.startIndex)..<close].split(whereSeparator: \.isWhitespace) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard let key = parts.first, !key.isEmpty else { continue }  // a stray "=": not an option
                options.append((key, parts.count > 1 ? parts[1] : ""))
            }
            rest = rest[rest.index(after: close)...].drop(while: \.isWhitespace)
        }
        let words = rest.split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count >= 2 else { return nil }
        var source = AptSource(type: type, options: options, uri: words[0], dist: words[1], comps: Array(words.dropFirst(2)),
                               disabled: disabled, file: file, line: "")
        source.line = source.rendered
        return source
    }

    /// Every repository configured on the machine under `root` ("/" normally).
    static func all(root: String = "") throws -> [AptSource] {
        var files = [root + "/etc/apt/sources.list"]
        let dir = root + "/etc/apt/sources.list.d"
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
            where name.hasSuffix(".list") || name.hasSuffix(".sources") {
            files.append(dir + "/" + name)
        }
        var found: [AptSource] = []
        for file in files where FileOps.isFile(file) {
            let text = try FileOps.readText(file)
            found += file.hasSuffix(".sources") ? deb822(text, file: file)
                : text.split(whereSeparator: \.isNewline).compactMap { parse(String($0), file: file) }
        }
        return found
    }

    /// A deb822 file's stanzas (paragraphs between blank lines), as written.
    static func stanzas(_ text: String) -> [String] {
        var stanzas: [String] = []
        var current = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !current.isEmpty { stanzas.append(current) }
                current = ""
            } else {
                current += line + "\n"
            }
        }
        if !current.isEmpty { stanzas.append(current) }
        return stanzas
    }

    /// deb822 stanzas: one entry per type, URI and suite.
    static func deb822(_ text: String, file: String) -> [AptSource] {
        var found: [AptSource] = []
        for (index, stanza) in stanzas(text).enumerated() {
            var fields: [String: String] = [:]
            for line in stanza.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2 { fields[parts[0].lowercased()] = parts[1] }
            }
            let disabled = fields["enabled"]?.lowercased() == "no"
            var options: [(key: String, value: String)] = []
            if fields["trusted"]?.lowercased() == "yes" { options.append(("trusted", "yes")) }
            if let arch = fields["architectures"] { options.append(("arch", arch.split(separator: " ").joined(separator: ","))) }
            if let key = fields["signed-by"] { options.append(("signed-by", key)) }
            let words = { (key: String) in (fields[key] ?? "").split(whereSeparator: \.isWhitespace).map(String.init) }
            let (types, uris, suites) = (words("types"), words("uris"), words("suites"))
            for type in types {
                for uri in uris {
                    for suite in suites {
                        var source = AptSource(type: type, options: options, uri: uri, dist: suite, comps: words("components"),
                                               disabled: disabled, file: file, line: "")
                        source.line = source.rendered
                        source.stanza = (index, types.count * uris.count * suites.count == 1)
                        found.append(source)
                    }
                }
            }
        }
        return found
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: Character) -> Substring {
        var s = Substring(self)
        while s.last == suffix { s = s.dropLast() }
        return s
    }
}
