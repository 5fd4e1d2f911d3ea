import BrineCore
import Foundation
import OrderedCollections

/// Salt's `pkg` repository functions for APT (`get_repo`, `list_repos`,
/// `del_repo`), on the lists `AptSource` reads.
extension PkgModule {
    static let repoFunctions: [ExecutionFunction] = [
        ExecutionFunction("get_repo", doc: "The configured repository a deb line names (type, URI and suite), or {}.",
                          [Parameter("repo")], kwargs: true) { a, _ in
            guard let wanted = AptSource.parse(a.string("repo") ?? "", file: "") else {
                throw BrineError(.arguments, "Invalid repo line: \(a.string("repo") ?? "")", hint: "give it as 'deb [options] URI SUITE [COMPONENTS]'")
            }
            return try AptSource.all().first { $0.sameRepository(as: wanted) }?.asValue ?? .emptyMap
        },
        ExecutionFunction("list_repos", doc: "Every configured repository, grouped by URI.", [], kwargs: true) { _, _ in
            var grouped = OrderedDictionary<String, Value>()
            for source in try AptSource.all() {
                grouped[source.uri] = .list((grouped[source.uri]?.listValue ?? []) + [source.asValue])
            }
            return .map(grouped)
        },
        ExecutionFunction("del_repo", doc: "Remove a repository's line (its file too when nothing else is left in it).",
                          [Parameter("repo")], kwargs: true) { a, _ in
            guard let wanted = AptSource.parse(a.string("repo") ?? "", file: "") else {
                throw BrineError(.arguments, "Invalid repo line: \(a.string("repo") ?? "")")
            }
            guard let found = try AptSource.all().first(where: { $0.sameRepository(as: wanted) }) else {
                throw BrineError(.execution, "Repo \(a.string("repo") ?? "") doesn't exist in the sources.list(s)")
            }
            try removeRepository(found)
            return .string("Repo '\(a.string("repo") ?? "")' has been removed from \(found.file).\n")
        },
    ]

    /// Drops the entry's line (a deb822 file: its stanza); a file left with
    /// nothing but blank lines and comments is removed, as Salt removes it.
    static func removeRepository(_ source: AptSource) throws {
        let text = try FileOps.readText(source.file)
        let kept: String
        if source.file.hasSuffix(".sources") {
            guard let stanza = source.stanza, stanza.alone else {
                throw BrineError(.execution, "\(source.file) lists '\(source.line)' in a stanza with other types, URIs or suites: "
                                 + "Brine removes whole stanzas only", hint: "split the stanza by hand, or manage the file with file.managed")
            }
            var stanzas = AptSource.stanzas(text)
            guard stanza.index < stanzas.count else { throw BrineError(.execution, "\(source.file) changed while it was read") }
            stanzas.remove(at: stanza.index)
            // Each stanza ends with its newline: one more between them is the blank line.
            kept = stanzas.joined(separator: "\n")
        } else {
            kept = text.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { line in AptSource.parse(String(line), file: source.file).map { !$0.sameRepository(as: source) } ?? true }
                .joined(separator: "\n")
        }
        let meaningful = kept.split(separator: "\n").contains { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
        if meaningful {
            try AtomicFile.write(kept, to: source.file)
        } else {
            try FileManager.default.removeItem(atPath: source.file)
        }
    }
}
