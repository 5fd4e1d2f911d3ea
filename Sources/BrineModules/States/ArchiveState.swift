import BrineCore
import Foundation
import OrderedCollections

/// Salt's `archive.extracted`: a tar or zip archive (from `salt://`,
/// `file://`, a local path or `http://`) unpacked into a directory when
/// any of its members is missing there, with Salt's checks (`if_missing`,
/// `source_hash`, one top-level directory unless `enforce_toplevel:
/// False`), comments and changes (`directories_created`,
/// `extracted_files`, `updated ownership`). tar and unzip do the work.
public enum ArchiveState: StateModule {
    public static let name = "archive"

    public static let functions: [StateFunction] = [
        StateFunction("extracted", doc: "Extract an archive (tar, zip) into the directory name when its files are not all there.",
                      .optional("source", "source_hash", "options", "archive_format", "if_missing", "user", "group", "trim_output")
                          + [Parameter("skip_verify", default: false), Parameter("enforce_toplevel", default: true),
                             Parameter("overwrite", default: false)]) { call in
            try Extraction(call).run()
        },
    ]

    struct Extraction {
        let call: StateCall
        /// The destination with one trailing slash, as Salt words it.
        let destination: String
        let source: String

        init(_ call: StateCall) {
            self.call = call
            var name = call.name
            while name.count > 1 && name.hasSuffix("/") { name.removeLast() }
            destination = name + "/"
            source = call.string("source") ?? ""
        }

        func fail(_ comment: String) -> StateResult { .failed(call.name, comment) }

        func run() throws -> StateResult {
            guard call.name.hasPrefix("/") else { return fail("\(call.name) is not an absolute path") }
            if FileOps.isFile(String(destination.dropLast())) { return fail("\(destination.dropLast()) exists and is not a directory") }
            if let ifMissing = call.string("if_missing") {
                guard ifMissing.hasPrefix("/") else { return fail("Value for 'if_missing' is not an absolute path") }
                if FileOps.exists(ifMissing) { return StateResult(name: call.name, comment: "Path \(ifMissing) exists") }
            }
            if let user = call.string("user"), FileOps.uid(user) == nil { return fail("User \(user) does not exist") }
            if let group = call.string("group"), FileOps.gid(group) == nil { return fail("Group \(group) does not exist") }
            guard !source.isEmpty else { return fail("Invalid source \"\(source)\"") }
            let local = localPath()
            if let local, !FileOps.isFile(local) { return fail("Source file '\(local)' does not exist") }
            let format = (call.string("archive_format") ?? ArchiveState.guessFormat(source))?.lowercased()
            guard let format else {
                return fail("Could not guess archive_format from the value of the 'source' argument. Please set this archive_format to one of the following: tar, rar, zip")
            }
            guard format == "tar" || format == "zip" else {
                return fail(format == "rar" ? "archive.unrar function not available, rar/unrar might not be installed on minion"
                            : "Invalid archive_format '\(format)'. Either set it to a supported value (tar, rar, zip) or remove this argument and the archive format will be guessed based on file extension.")
            }
            if call.test && local == nil {
                return StateResult(name: call.name, result: nil,
                                   comment: "Archive \(source) would be cached (if necessary) and checked to discover if extraction is needed")
            }
            if local == nil && !source.hasPrefix("salt://") && call["source_hash"].isNull && !call.bool("skip_verify") {
                return fail("Unable to verify upstream hash of source file \(HTTPClient.redactBasicAuth(source)), please set source_hash or set skip_verify to True")
            }
            guard let archive = try local ?? cache() else {
                return StateResult(name: source, result: false, comment: "Failed to cache \(source), check minion log for more information")
            }
            let shownSource = local ?? source
            if let expected = try expectedHash(), !call.bool("skip_verify") {
                let actual = try Hashing.fileDigest(archive, algorithm: expected.algorithm)
                if actual != expected.hex { return fail("\(shownSource) does not match the desired source_hash \(expected.hex)") }
            }
            let members = try list(archive, format: format)
            if call.flag("enforce_toplevel", default: true) {
                let tops = Set(members.map { String($0.path.split(separator: "/").first ?? "") })
                let topFiles = members.contains { !$0.path.contains("/") && !$0.isDirectory }
                if tops.count > 1 || topFiles {
                    return fail("Archive does not have a single top-level directory. To allow this archive to be extracted, set 'enforce_toplevel' "
                                + "to False. To avoid a '\(format)-bomb' it may also be advisable to set a top-level directory by adding it to the "
                                + "'name' value (for example, setting 'name' to \(destination)some_dir instead of \(destination)).")
                }
            }
            let missing = strippedPaths(members).contains { !FileOps.exists(destination + $0) && !FileOps.isLink(destination + $0) }
            guard missing || call.bool("overwrite") else {
                var ret = StateResult(name: call.name, comment: "All files in archive are already present")
                if try enforceOwnership(members, test: call.test) {
                    ret.changes["updated ownership"] = true
                    if call.test {
                        ret.result = nil
                        ret.comment += ". Ownership would be updated on one or more files/directories."
                    }
                }
                return ret
            }
            let reason = missing ? ", due to absence of one or more files/dirs" : ""
            if call.test {
                return StateResult(name: call.name, result: nil, comment: "Archive \(shownSource) would be extracted to \(destination)\(reason)")
            }
            var ret = StateResult(name: call.name)
            if !FileOps.isDirectory(destination) {
                _ = try FileOps.makeDirectories(destination)
                ret.changes["directories_created"] = [.string(destination)]
            }
            var files = try extract(archive, format: format, members: members)
            guard !files.isEmpty else { return fail("No files were extracted from \(shownSource)") }
            let trim = trimCount()
            if let trim { files = Array(files.prefix(trim)) }
            ret.changes["extracted_files"] = .list(files.map(Value.string))
            if try enforceOwnership(members, test: false) { ret.changes["updated ownership"] = true }
            ret.comment = "\(shownSource) extracted to \(destination)\(reason)"
            if let trim { ret.comment += ". Output was trimmed to \(trim) number of lines" }
            return ret
        }

        /// `file://…` and absolute paths are used where they are.
        func localPath() -> String? {
            if source.hasPrefix("file://") { return String(source.dropFirst("file://".count)) }
            return source.hasPrefix("/") ? source : nil
        }

        /// `salt://` through the file client; `http://` downloaded into the
        /// cache directory as Salt's `extrn_files`.
        func cache() throws -> String? {
            if source.hasPrefix("salt://") { return try call.context.fileClient.cache(source, saltenv: call.context.saltenv) }
            guard source.hasPrefix("http://"), let url = URL(string: source), let host = url.host else { return nil }
            guard let bytes = try? HTTPClient.download(source) else { return nil }
            // Salt's extrn_files layout, each part checked: the URL names a
            // file in the cache, never a path elsewhere on the minion.
            let parts = [host] + url.path.split(separator: "/").map(String.init)
            guard parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\0") }) else {
                throw BrineError(.state, "Source URL \(source) does not name a file", hint: "give the archive's own URL")
            }
            let root = (call.context.opts.string("cachedir") ?? "/var/cache/brine/minion") + "/extrn_files/" + call.context.saltenv
            let path = root + "/" + parts.joined(separator: "/")
            _ = try FileOps.makeDirectories(FileOps.dirname(path))
            try AtomicFile.write(bytes, to: path)
            return path
        }

        /// `source_hash`: `type=hex`, a bare hex digest (type from its
        /// length), or a file (salt://, file://) holding the digest.
        func expectedHash() throws -> (algorithm: String, hex: String)? {
            guard var text = call.string("source_hash"), !text.isEmpty else { return nil }
            if text.hasPrefix("salt://") || text.hasPrefix("file://") || text.hasPrefix("/") {
                let path = text.hasPrefix("salt://") ? try call.context.fileClient.cache(text, saltenv: call.context.saltenv)
                    : String(text.dropFirst(text.hasPrefix("file://") ? 7 : 0))
                guard let path, FileOps.isFile(path) else { throw BrineError(.state, "Source hash file \(text) not found") }
                text = try FileOps.readText(path).split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
            }
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            let hex = (parts.last ?? "").lowercased()
            let byLength = [32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"]
            guard let algorithm = parts.count == 2 ? parts[0].lowercased() : byLength[hex.count] else {
                throw BrineError(.state, "Invalid source_hash '\(text)'", hint: "give TYPE=HEX, for example sha256=…")
            }
            return (algorithm, hex)
        }

        func trimCount() -> Int? {
            switch call["trim_output"] {
            case .bool(true): return 100
            case .int(let n) where n > 0: return n
            case .string(let s): return Int(s).flatMap { $0 > 0 ? $0 : nil }
            default: return nil
            }
        }

        struct Member {
            var path: String
            var isDirectory: Bool
        }

        /// The archive's members as Python's tarfile/zipfile name them
        /// (tar directories without, zip directories with a trailing slash).
        func list(_ archive: String, format: String) throws -> [Member] {
            let argv = format == "zip" ? ["unzip", "-Z1", archive] : ["tar", "-tf", archive]
            let result = try call.context.runner.run(Command(argv))
            guard result.retcode == 0 else {
                throw BrineError(.state, "Unable to list contents of \(archive): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return result.stdout.split(separator: "\n").map { line in
                var path = String(line)
                let isDirectory = path.hasSuffix("/")
                while path.hasPrefix("./") { path.removeFirst(2) }
                if format == "tar" && isDirectory { path.removeLast() }
                return Member(path: path, isDirectory: isDirectory)
            }.filter { !$0.path.isEmpty && $0.path != "." }
        }

        /// Extracts into the destination; the files as Salt lists them
        /// (the members, or tar's verbose output when `options` are given).
        func extract(_ archive: String, format: String, members: [Member]) throws -> [String] {
            let options = (try? Shlex.split(call.string("options") ?? "")) ?? []
            let argv = format == "zip" ? ["unzip", "-o", "-q"] + options + [archive, "-d", destination]
                : ["tar", "-x", "--no-same-owner"] + (options.isEmpty ? [] : ["-v"]) + options + ["-f", archive, "-C", destination]
            let result = try call.context.runner.run(Command(argv))
            guard result.retcode == 0 else {
                throw BrineError(.state, "Failed to extract \(archive): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            if format == "tar" && !options.isEmpty { return result.stdout.split(separator: "\n").map(String.init) }
            return members.map(\.path)  // as Python lists them: zip directories keep their slash
        }

        /// Where the members land: tar's `--strip-components N` in
        /// `options` drops their first N path parts, as Salt reckons it.
        func strippedPaths(_ members: [Member]) -> [String] {
            let options = (try? Shlex.split(call.string("options") ?? "")) ?? []
            var strip = 0
            for (i, option) in options.enumerated() {
                if option.hasPrefix("--strip-components=") || option.hasPrefix("--strip=") {
                    strip = Int(option.split(separator: "=", maxSplits: 1).last ?? "") ?? 0
                } else if option == "--strip-components" || option == "--strip", i + 1 < options.count {
                    strip = Int(options[i + 1]) ?? 0
                }
            }
            strip = max(0, strip)
            return members.compactMap { member in
                let parts = member.path.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count > strip else { return nil }
                let rest = parts.dropFirst(strip).joined(separator: "/")
                return rest.isEmpty ? nil : rest
            }
        }

        /// `user`/`group` on the destination and everything under it (Salt's
        /// `enforce_ownership_on` defaults to the destination), walked
        /// without following a link; true when one changed.
        func enforceOwnership(_ members: [Member], test: Bool) throws -> Bool {
            let uid = call.string("user").flatMap(FileOps.uid), gid = call.string("group").flatMap(FileOps.gid)
            guard uid != nil || gid != nil else { return false }
            let root = String(destination.dropLast())
            var paths = [root]
            if let walker = FileManager.default.enumerator(atPath: root) {  // does not descend into linked directories
                while let relative = walker.nextObject() as? String { paths.append(root + "/" + relative) }
            }
            var changed = false
            for path in paths {
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                if (uid.map { $0 != info.st_uid } ?? false) || (gid.map { $0 != info.st_gid } ?? false) {
                    changed = true
                    if !test { lchown(path, uid ?? info.st_uid, gid ?? info.st_gid) }
                }
            }
            return changed
        }
    }

    /// Salt's `guess_archive_type`: from the file's extension.
    static func guessFormat(_ source: String) -> String? {
        let name = source.lowercased()
        for ending in ["tar", "tar.gz", "tgz", "tar.bz2", "tbz2", "tbz", "tar.xz", "txz", "tar.lzma", "tlz"] where name.hasSuffix("." + ending) {
            return "tar"
        }
        for ending in ["zip", "rar"] where name.hasSuffix("." + ending) { return ending }
        return nil
    }
}
