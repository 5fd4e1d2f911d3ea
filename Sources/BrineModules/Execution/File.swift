import BrineCore
import Foundation
import OrderedCollections

/// Salt's `file` execution module: read, write, search and change files,
/// their owners and modes. Writes go through a temporary file and a rename.
public enum FileModule: ExecutionModule {
    public static let name = "file"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("find", doc: "Find files below a path (globs allowed): name=, iname=, regex=, iregex=, type=, mindepth=, maxdepth=, print=.",
                          [Parameter("path")], varargs: true, kwargs: true) { a, _ in
            var options = Dictionary(uniqueKeysWithValues: a.extraKeywords.map { ($0.key, $0.value) })
            if a.extra.contains("print") { options["print"] = "path" }
            let finder: FileFinder
            do { finder = try FileFinder(options) } catch let error as BrineError { return .string(error.message) }
            let pattern = (a.string("path") ?? "").replacingOccurrences(of: "~", with: NSHomeDirectory(), options: .anchored)
            return .list(FileFinder.expand(pattern).flatMap(finder.find).map(finder.printed).sorted { $0.pythonString < $1.pythonString })
        },
        ExecutionFunction("readdir", doc: "List a directory's entries, '.' and '..' first.", [Parameter("path")]) { a, _ in
            let path = a.string("path") ?? ""
            guard path.hasPrefix("/") else { throw BrineError(.arguments, "Dir path must be absolute.") }
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
                throw BrineError(.arguments, "A valid directory was not specified: \(path)")
            }
            return .list([".", ".."] + names.map(Value.string))
        },
        ExecutionFunction("access", doc: "Whether a path is accessible: mode f (exists), r, w or x.",
                          [Parameter("path"), Parameter("mode")]) { a, _ in
            let path = a.string("path") ?? ""
            guard path.hasPrefix("/") else { throw BrineError(.arguments, "Path to link must be absolute.") }
            let modes: [String: Int32] = ["f": F_OK, "r": R_OK, "w": W_OK, "x": X_OK]
            let number = a.int("mode").flatMap { Int32(exactly: $0) }.flatMap { Set(modes.values).contains($0) ? $0 : nil }
            guard let mode = modes[a["mode"].pythonString] ?? number else {
                throw BrineError(.arguments, "Invalid mode specified.")
            }
            return .bool(Foundation.access(path, mode) == 0)
        },
        fn("file_exists", "Return True if the path is a regular file.", ["path"]) { a, _ in
            .bool(FileOps.isFile(path(a)))
        },
        fn("directory_exists", "Return True if the path is a directory.", ["path"]) { a, _ in
            .bool(FileOps.isDirectory(path(a)))
        },
        fn("exists", "Return True if the path exists (any type).", ["path"]) { a, _ in
            .bool(FileOps.exists(path(a)))
        },
        ExecutionFunction("read", doc: "Return the content of the file.", [Parameter("path"), Parameter("binary", default: false)]) { a, _ in
            .string(try FileOps.readText(path(a)))
        },
        ExecutionFunction("write", doc: "Write the given lines to the file, replacing its content; each argument is a line.",
                          [Parameter("path")], varargs: true, kwargs: true) { a, _ in
            let lines = lineArguments(a)
            let p = path(a)
            try AtomicFile.write(lines.map { $0 + "\n" }.joined(), to: p)
            return .string("Wrote \(lines.count) lines to \"\(p)\"")
        },
        ExecutionFunction("append", doc: "Append lines to the end of an existing file (a newline is added first if missing).",
                          [Parameter("path")], varargs: true, kwargs: true) { a, _ in
            let lines = lineArguments(a)
            let p = path(a)
            var text = try FileOps.readText(p)
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
            text += lines.map { $0 + "\n" }.joined()
            try AtomicFile.write(text, to: p)
            return .string("Wrote \(lines.count) lines to \"\(p)\"")
        },
        ExecutionFunction("replace", doc: "Replace occurrences of a regular expression in a file; returns a diff (show_changes) or whether it changed.",
                          [Parameter("path"), Parameter("pattern"), Parameter("repl"), Parameter("count", default: 0),
                           Parameter("flags", default: 8), Parameter("bufsize", default: 1),
                           Parameter("append_if_not_found", default: false), Parameter("prepend_if_not_found", default: false),
                           Parameter("not_found_content", default: .null), Parameter("backup", default: ".bak"),
                           Parameter("dry_run", default: false), Parameter("search_only", default: false),
                           Parameter("show_changes", default: true), Parameter("ignore_if_missing", default: false),
                           Parameter("preserve_inode", default: true), Parameter("backslash_literal", default: false)]) { a, _ in
            try replace(a).value
        },
        ExecutionFunction("search", doc: "Search for occurrences of a regular expression in a file; returns True or False.",
                          [Parameter("path"), Parameter("pattern"), Parameter("flags", default: 8), Parameter("bufsize", default: 1),
                           Parameter("ignore_if_missing", default: false), Parameter("multiline", default: false)]) { a, _ in
            let p = path(a)
            guard FileOps.exists(p) else {
                if a.bool("ignore_if_missing") { return false }
                throw BrineError(.execution, "file.search: \(p) does not exist")
            }
            var flags = a["flags"]
            if a.bool("multiline"), let bits = flags.intValue { flags = .int(bits | 8 | 16) }
            return .bool(try PyRegex(a.string("pattern") ?? "", flags: flags).firstMatch(in: FileOps.readText(p)))
        },
        fn("contains", "Return True if the file contains the given text.", ["path", "text"]) { a, _ in
            let p = path(a)
            guard FileOps.exists(p) else { return false }
            return .bool(try FileOps.readText(p).contains(a.string("text") ?? ""))
        },
        ExecutionFunction("mkdir", doc: "Ensure that a directory exists, creating parents (like mkdir -p).",
                          [Parameter("dir_path"), Parameter("user", default: .null), Parameter("group", default: .null),
                           Parameter("mode", default: .null)]) { a, _ in
            let dir = FileOps.expandUser(a.string("dir_path") ?? "")
            try absolute(dir)
            _ = try FileOps.makeDirectories(dir, user: a.string("user"), group: a.string("group"),
                                            mode: FileOps.parseMode(a["mode"]))
            return true
        },
        ExecutionFunction("makedirs", doc: "Ensure the parent directories of path exist (a trailing / makes path itself a directory).",
                          [Parameter("path"), Parameter("user", default: .null), Parameter("group", default: .null),
                           Parameter("mode", default: .null)]) { a, _ in
            let p = path(a)
            try absolute(p)
            let dir = p.hasSuffix("/") ? p : (p as NSString).deletingLastPathComponent
            if FileOps.isDirectory(dir) { return .string("Directory '\(dir)' already exists") }
            _ = try FileOps.makeDirectories(dir, user: a.string("user"), group: a.string("group"),
                                            mode: FileOps.parseMode(a["mode"]))
            return true
        },
        fn("remove", "Remove the named file, link or directory tree; False if it did not exist.", ["path"]) { a, _ in
            let p = path(a)
            try absolute(p)
            guard FileOps.exists(p) else { return false }
            do {
                try FileManager.default.removeItem(atPath: p)
            } catch {
                throw BrineError(.io, "Could not remove '\(p)': \(error.localizedDescription)")
            }
            return true
        },
        ExecutionFunction("stats", doc: "Return a dict of stats for the file: inode, uid, gid, user, group, times, size, mode, type, target.",
                          [Parameter("path"), Parameter("hash_type", default: .null), Parameter("follow_symlinks", default: true)]) { a, _ in
            try stats(path(a), hashType: a.string("hash_type"), follow: a.values["follow_symlinks"]?.asFlag ?? true)
        },
        ExecutionFunction("get_hash", doc: "Return the hash of a file (sha256 by default; md5, sha1, sha384, sha512).",
                          [Parameter("path"), Parameter("form", default: "sha256"), Parameter("chunk_size", default: 65536)]) { a, _ in
            let p = path(a)
            guard FileOps.isFile(p) else { throw BrineError(.execution, "File not found: \(p)") }
            return .string(try Hashing.fileDigest(p, algorithm: a.string("form") ?? "sha256"))
        },
        ExecutionFunction("get_sum", doc: "Return the checksum of a file (form: sha256 by default).",
                          [Parameter("path"), Parameter("form", default: "sha256")]) { a, _ in
            let p = path(a)
            guard FileOps.isFile(p) else { return "File not found" }
            return .string(try Hashing.fileDigest(p, algorithm: a.string("form") ?? "sha256"))
        },
        ExecutionFunction("check_hash", doc: "Whether a file has the given hash: check_hash /etc/hosts sha256=… (or sha256:…).",
                          [Parameter("path"), Parameter("file_hash")]) { a, _ in
            let spec = a.string("file_hash") ?? ""
            guard let separator = spec.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw BrineError(.arguments, "Bad hash format: '\(spec)'", hint: "give it as <hash_type>=<hash>, e.g. sha256=…")
            }
            let form = String(spec[..<separator]), expected = String(spec[spec.index(after: separator)...])
            let p = path(a)
            guard FileOps.isFile(p) else { return false }
            return .bool(try Hashing.fileDigest(p, algorithm: form) == expected.lowercased())
        },
        ExecutionFunction("is_link", doc: "Whether the path is a symbolic link.", [Parameter("path")]) { a, _ in
            var info = stat()
            return .bool(lstat(path(a), &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
        },
        ExecutionFunction("get_mode", doc: "Return the mode of a file, like 0644.", [Parameter("path"), Parameter("follow_symlinks", default: true)]) { a, _ in
            guard let info = FileOps.statInfo(path(a)) else { return "" }
            return .string(FileOps.modeString(info.st_mode))
        },
        fn("get_user", "Return the user that owns the file.", ["path"]) { a, _ in
            guard let info = FileOps.statInfo(path(a)) else { return false }
            return .string(FileOps.userName(info.st_uid))
        },
        fn("get_group", "Return the group that owns the file.", ["path"]) { a, _ in
            guard let info = FileOps.statInfo(path(a)) else { return false }
            return .string(FileOps.groupName(info.st_gid))
        },
        fn("get_uid", "Return the uid of the file's owner.", ["path"]) { a, _ in
            guard let info = FileOps.statInfo(path(a)) else { return -1 }
            return .int(Int(info.st_uid))
        },
        fn("get_gid", "Return the gid of the file's group.", ["path"]) { a, _ in
            guard let info = FileOps.statInfo(path(a)) else { return -1 }
            return .int(Int(info.st_gid))
        },
        fn("chown", "Change the owner and group of a file.", ["path", "user", "group"]) { a, _ in
            let p = path(a)
            guard FileOps.exists(p) else { throw BrineError(.execution, "File not found: \(p)") }
            try FileOps.chown(p, user: a.string("user"), group: a.string("group"))
            return .null
        },
        fn("set_mode", "Set the mode of a file; returns the new mode.", ["path", "mode"]) { a, _ in
            let p = path(a)
            guard FileOps.exists(p) else { throw BrineError(.execution, "\(p): File not found") }
            guard let mode = try FileOps.parseMode(a["mode"]) else { throw BrineError(.arguments, "a mode is required") }
            try FileOps.chmod(p, mode)
            return .string(FileOps.modeString(FileOps.statInfo(p)?.st_mode ?? mode))
        },
        ExecutionFunction("touch", doc: "Create the file if missing and update its access and modification times.",
                          [Parameter("name"), Parameter("atime", default: .null), Parameter("mtime", default: .null)]) { a, _ in
            let p = FileOps.expandUser(a.string("name") ?? "")
            if !FileOps.exists(p) {
                guard FileManager.default.createFile(atPath: p, contents: nil) else {
                    throw BrineError(.io, "cannot create \(p)")
                }
            }
            let now = Date().timeIntervalSince1970
            let atime = a.double("atime") ?? now, mtime = a.double("mtime") ?? now
            var times = [timespec(tv_sec: Int(atime), tv_nsec: Int((atime - atime.rounded(.down)) * 1e9)),
                         timespec(tv_sec: Int(mtime), tv_nsec: Int((mtime - mtime.rounded(.down)) * 1e9))]
            utimensat(AT_FDCWD, p, &times, 0)
            return true
        },
        ExecutionFunction("symlink", doc: "Create a symbolic link path pointing at src.",
                          [Parameter("src"), Parameter("path"), Parameter("force", default: false)]) { a, _ in
            let p = path(a)
            try absolute(p)
            if FileOps.exists(p) {
                guard a.bool("force") else { throw BrineError(.execution, "File exists: \(p)") }
                try? FileManager.default.removeItem(atPath: p)
            }
            guard Glibc.symlink(a.string("src") ?? "", p) == 0 else {
                throw BrineError(.io, "Could not create '\(p)': \(systemError(errno))")
            }
            return true
        },
        fn("readlink", "Return the target of a symbolic link.", ["path"]) { a, _ in
            let p = path(a)
            guard FileOps.isLink(p) else { throw BrineError(.execution, "A valid link was not specified: \(p)") }
            return .string((try? FileManager.default.destinationOfSymbolicLink(atPath: p)) ?? "")
        },
        ExecutionFunction("copy", doc: "Copy a file or directory (recurse=True) from src to dst.",
                          [Parameter("src"), Parameter("dst"), Parameter("recurse", default: false),
                           Parameter("remove_existing", default: false)]) { a, _ in
            try copy(src: FileOps.expandUser(a.string("src") ?? ""), dst: FileOps.expandUser(a.string("dst") ?? ""),
                     recurse: a.bool("recurse"), removeExisting: a.bool("remove_existing"))
        },
        fn("dirname", "Return the directory part of a path.", ["path"]) { a, _ in
            let p = a.string("path") ?? ""
            guard let slash = p.lastIndex(of: "/") else { return "" }
            let head = String(p[...slash])
            return .string(head.allSatisfy { $0 == "/" } ? head : String(head.reversed().drop { $0 == "/" }.reversed()))
        },
        fn("basename", "Return the last part of a path.", ["path"]) { a, _ in
            let p = a.string("path") ?? ""
            return .string(p.lastIndex(of: "/").map { String(p[p.index(after: $0)...]) } ?? p)
        },
        ExecutionFunction("join", doc: "Join path parts as os.path.join does.", varargs: true) { a, _ in
            .string(FileOps.join(a.extra.map(\.pythonString)))
        },
        fn("user_to_uid", "Convert a user name to a uid.", ["user"]) { a, _ in
            FileOps.uid(a.string("user") ?? "").map { .int(Int($0)) } ?? ""
        },
        fn("group_to_gid", "Convert a group name to a gid.", ["group"]) { a, _ in
            FileOps.gid(a.string("group") ?? "").map { .int(Int($0)) } ?? ""
        },
        fn("uid_to_user", "Convert a uid to a user name.", ["uid"]) { a, _ in
            .string(FileOps.userName(uid_t(a.int("uid") ?? -1)))
        },
        fn("gid_to_group", "Convert a gid to a group name.", ["gid"]) { a, _ in
            .string(FileOps.groupName(gid_t(a.int("gid") ?? -1)))
        },
    ]

    static func fn(_ name: String, _ doc: String, _ params: [String], body: @escaping FunctionBody) -> ExecutionFunction {
        ExecutionFunction(name, doc: doc, params.map { Parameter($0) }, body: body)
    }

    static func path(_ a: Arguments) -> String { FileOps.expandUser(a.string("path") ?? "") }

    static func absolute(_ p: String) throws(BrineError) {
        guard p.hasPrefix("/") else { throw BrineError(.arguments, "File path must be absolute: \(p)") }
    }

    /// The lines of `file.write`/`file.append`: positional arguments, or the
    /// `args` keyword (a list or one string).
    static func lineArguments(_ a: Arguments) -> [String] {
        if let given = a.extraKeywords["args"] {
            return (given.listValue ?? [given]).map(\.pythonString)
        }
        return a.extra.map(\.pythonString)
    }

    public struct ReplaceResult {
        public var value: Value
        public var changed: Bool
        public var diff: String
    }

    /// `file.replace`, shared with the `file.replace` state.
    public static func replace(_ a: Arguments) throws(BrineError) -> ReplaceResult {
        let p = path(a)
        guard FileOps.isFile(p) else {
            if a.bool("ignore_if_missing") { return ReplaceResult(value: false, changed: false, diff: "") }
            throw BrineError(.execution, "file.replace: \(p) does not exist", hint: "create it first or pass ignore_if_missing=True")
        }
        let pattern = a.string("pattern") ?? ""
        var repl = a.string("repl") ?? ""
        if a.bool("backslash_literal") { repl = repl.replacingOccurrences(of: "\\", with: "\\\\") }
        let regex = try PyRegex(pattern, flags: a["flags"])
        let original = try FileOps.readText(p)
        let found = regex.firstMatch(in: original)
        if a.bool("search_only") { return ReplaceResult(value: .bool(found), changed: false, diff: "") }
        var updated = original
        if found {
            updated = regex.substitute(in: original, with: repl, count: a.int("count") ?? 0).0
        } else if a.bool("append_if_not_found") || a.bool("prepend_if_not_found") {
            let content = a.string("not_found_content") ?? repl
            if a.bool("prepend_if_not_found") {
                updated = content + "\n" + original
            } else {
                if !updated.isEmpty && !updated.hasSuffix("\n") { updated += "\n" }
                updated += content + "\n"
            }
        }
        let changed = updated != original
        let diff = changed ? Diff.unified(original, updated) : ""
        if changed && !a.bool("dry_run") {
            if case .string(let suffix)? = a.values["backup"], !suffix.isEmpty {
                try AtomicFile.write(original, to: p + suffix)
            }
            try AtomicFile.write(updated, to: p)
        }
        let showChanges = a.values["show_changes"]?.asFlag ?? true
        return ReplaceResult(value: showChanges ? .string(diff) : .bool(changed), changed: changed, diff: diff)
    }

    static func stats(_ p: String, hashType: String?, follow: Bool) throws(BrineError) -> Value {
        guard let info = follow ? FileOps.statInfo(p) : FileOps.lstatInfo(p) else {
            throw BrineError(.execution, "Path not found: \(p)")
        }
        var result = OrderedDictionary<String, Value>()
        result["inode"] = .int(Int(info.st_ino))
        result["uid"] = .int(Int(info.st_uid))
        result["gid"] = .int(Int(info.st_gid))
        result["group"] = .string(FileOps.groupName(info.st_gid))
        result["user"] = .string(FileOps.userName(info.st_uid))
        result["atime"] = .float(Double(info.st_atim.tv_sec) + Double(info.st_atim.tv_nsec) / 1e9)
        result["mtime"] = .float(Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        result["ctime"] = .float(Double(info.st_ctim.tv_sec) + Double(info.st_ctim.tv_nsec) / 1e9)
        result["size"] = .int(Int(info.st_size))
        result["mode"] = .string(FileOps.modeString(info.st_mode))
        if let hashType, info.st_mode & S_IFMT == S_IFREG {
            result["sum"] = .string(try Hashing.fileDigest(p, algorithm: hashType))
        }
        let kinds: [mode_t: String] = [S_IFDIR: "dir", S_IFCHR: "char", S_IFBLK: "block", S_IFREG: "file",
                                       S_IFLNK: "link", S_IFIFO: "pipe", S_IFSOCK: "socket"]
        result["type"] = .string(kinds[info.st_mode & S_IFMT] ?? "file")
        result["target"] = .string((p as NSString).resolvingSymlinksInPath)
        return .map(result)
    }

    static func copy(src: String, dst: String, recurse: Bool, removeExisting: Bool) throws(BrineError) -> Value {
        try absolute(src)
        guard FileOps.exists(src) else { throw BrineError(.execution, "No such file or directory '\(src)'") }
        let fm = FileManager.default
        do {
            if FileOps.isDirectory(src) {
                guard recurse else {
                    throw BrineError(.execution, "Cannot copy overwriting a directory without recurse flag set to true!")
                }
                if removeExisting, FileOps.exists(dst) { try fm.removeItem(atPath: dst) }
                if FileOps.isDirectory(dst) {
                    for item in try fm.contentsOfDirectory(atPath: src) {
                        _ = try copy(src: src + "/" + item, dst: dst + "/" + item, recurse: true, removeExisting: true)
                    }
                } else {
                    try fm.copyItem(atPath: src, toPath: dst)
                }
            } else {
                let target = FileOps.isDirectory(dst) ? dst + "/" + (src as NSString).lastPathComponent : dst
                guard let data = fm.contents(atPath: src) else { throw BrineError(.io, "cannot read \(src)") }
                let mode = FileOps.statInfo(src).map { $0.st_mode & 0o7777 }
                try AtomicFile.write(Array(data), to: target, mode: mode)
            }
        } catch let error as BrineError {
            throw error
        } catch {
            throw BrineError(.io, "Could not copy '\(src)' to '\(dst)': \(error.localizedDescription)")
        }
        return true
    }
}
