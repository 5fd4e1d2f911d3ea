import BrineCore
import Foundation
import OrderedCollections

/// Salt's `file` states. Every write goes through a temporary file and a
/// rename; test mode reports what would change without touching anything.
public enum FileState: StateModule {
    public static let name = "file"

    static let ownership: [Parameter] = .optional("user", "group", "mode")

    public static let functions: [StateFunction] = [
        StateFunction("managed", doc: "Manage a file's content (source, contents, template), owner and mode.",
                      ownership + .optional("source", "contents", "contents_pillar", "contents_grains", "template",
                                            "context", "defaults", "source_hash", "skip_verify", "contents_newline", "contents_delimiter", "allow_empty")
                          + [Parameter("makedirs", default: false), Parameter("replace", default: true),
                             Parameter("backup", default: ""), Parameter("show_changes", default: true),
                             Parameter("create", default: true), Parameter("follow_symlinks", default: true),
                             Parameter("dir_mode", default: .null)]) { call in
            try managed(call)
        },
        StateFunction("serialize", doc: "Write data (dataset or dataset_pillar) as yaml or json, merged into the file with merge_if_exists.",
                      FileSerializeState.parameters) { call in
            try FileSerializeState.serialize(call)
        },
        StateFunction("tidied", doc: "Remove what directory NAME holds that matches (matches, exclude) and is older than age days or larger than size.",
                      FileTidiedState.parameters) { call in
            try FileTidiedState.tidied(call)
        },
        StateFunction("decode", doc: "File NAME holds the base64-decoded encoded_data (or contents_pillar); replaced when its checksum differs.",
                      FileDecodeState.parameters) { call in
            try FileDecodeState.decode(call)
        },
        StateFunction("accumulated", doc: "Gather text for file FILENAME, for its file.managed template (accumulator) or file.blockreplace; needs require_in or watch_in of that state.",
                      FileAccumulatedState.parameters) { call in
            try FileAccumulatedState.accumulated(call)
        },
        StateFunction("rename", doc: "Move source to name (force: replace an existing name; makedirs: create its directory).",
                      FileRenameState.parameters) { call in
            try FileRenameState.rename(call)
        },
        StateFunction("keyvalue", doc: "Set key=value lines of a file (key/value or key_values; uncomment, append/prepend_if_not_found, prune).",
                      FileKeyvalueState.parameters) { call in
            try FileKeyvalueState.keyvalue(call)
        },
        StateFunction("directory", doc: "Ensure a directory exists, with owner, mode, and optionally recurse or clean.",
                      .optional("user", "group", "dir_mode", "file_mode", "mode", "recurse", "exclude_pat")
                          + [Parameter("makedirs", default: false), Parameter("clean", default: false)]) { call in
            try directory(call)
        },
        StateFunction("absent", doc: "Make sure the file or directory does not exist.") { call in
            let path = call.name
            guard path.hasPrefix("/") else { return .failed(path, "Specified file \(path) is not an absolute path") }
            guard FileOps.exists(path) else { return StateResult(name: path, comment: "File \(path) is not present") }
            let kind = FileOps.isDirectory(path) && !FileOps.isLink(path) ? "directory" : "file"
            if call.test {
                return StateResult(name: path, result: nil, changes: ["removed": .string(path)],
                                   comment: "\(kind == "file" ? "File" : "Directory") \(path) is set for removal")
            }
            do { try FileManager.default.removeItem(atPath: path) } catch {
                return .failed(path, "Failed to remove \(kind) \(path): \(error.localizedDescription)")
            }
            return StateResult(name: path, changes: ["removed": .string(path)],
                               comment: "Removed \(kind) \(path)")
        },
        StateFunction("exists", doc: "Verify that the named path exists; does not create it.") { call in
            FileOps.exists(call.name) ? StateResult(name: call.name, comment: "Path \(call.name) exists")
                : .failed(call.name, "Specified path \(call.name) does not exist")
        },
        StateFunction("missing", doc: "Verify that the named path does not exist.") { call in
            FileOps.exists(call.name) ? .failed(call.name, "Specified path \(call.name) exists")
                : StateResult(name: call.name, comment: "Path \(call.name) is missing")
        },
        StateFunction("touch", doc: "Create the file if missing, else update its modification time.",
                      [Parameter("makedirs", default: false)] + .optional("atime", "mtime")) { call in
            let path = call.name
            let existed = FileOps.exists(path)
            if call.test {
                return StateResult(name: path, result: nil, changes: existed ? ["touched": .string(path)] : ["new": .string(path)],
                                   comment: "File \(path) is set to be \(existed ? "updated" : "created")")
            }
            if call.bool("makedirs") { _ = try FileOps.makeDirectories((path as NSString).deletingLastPathComponent) }
            _ = try call.call("file.touch", [.string(path)], ["atime": call["atime"], "mtime": call["mtime"]])
            return StateResult(name: path, changes: existed ? ["touched": .string(path)] : ["new": .string(path)],
                               comment: existed ? "Updated times on file \(path)" : "Created empty file \(path)")
        },
        StateFunction("symlink", doc: "Create a symbolic link name pointing at target.",
                      [Parameter("target"), Parameter("force", default: false), Parameter("makedirs", default: false)]
                          + .optional("user", "group", "backupname")) { call in
            try symlink(call)
        },
        StateFunction("replace", doc: "Replace a regular expression's matches in a file (file.replace), reporting a diff.",
                      [Parameter("pattern"), Parameter("repl"), Parameter("count", default: 0), Parameter("flags", default: 8),
                       Parameter("append_if_not_found", default: false), Parameter("prepend_if_not_found", default: false),
                       Parameter("not_found_content", default: .null), Parameter("backup", default: ".bak"),
                       Parameter("show_changes", default: true), Parameter("ignore_if_missing", default: false),
                       Parameter("backslash_literal", default: false), Parameter("bufsize", default: 1)]) { call in
            try replace(call)
        },
        StateFunction("append", doc: "Ensure lines are at the end of a file (each added only if absent).",
                      .optional("text", "source", "template", "context", "defaults")
                          + [Parameter("makedirs", default: false), Parameter("ignore_whitespace", default: true)]) { call in
            try appendOrPrepend(call, atEnd: true)
        },
        StateFunction("prepend", doc: "Ensure lines are at the start of a file (each added only if absent).",
                      .optional("text", "source", "template", "context", "defaults")
                          + [Parameter("makedirs", default: false), Parameter("ignore_whitespace", default: true)]) { call in
            try appendOrPrepend(call, atEnd: false)
        },
        StateFunction("line", doc: "Ensure one line is present, replaced, inserted or deleted (mode: ensure|replace|insert|delete).",
                      .optional("content", "match", "mode", "location", "before", "after")
                          + [Parameter("show_changes", default: true), Parameter("backup", default: false),
                             Parameter("create", default: false), Parameter("indent", default: true)]) { call in
            try line(call)
        },
        StateFunction("blockreplace", doc: "Maintain a block of text between two marker lines.",
                      [Parameter("marker_start", default: "#-- start managed zone --"),
                       Parameter("marker_end", default: "#-- end managed zone --"),
                       Parameter("content", default: ""), Parameter("append_if_not_found", default: false),
                       Parameter("prepend_if_not_found", default: false), Parameter("backup", default: ".bak"),
                       Parameter("show_changes", default: true), Parameter("append_newline", default: .null)]) { call in
            try blockreplace(call)
        },
        StateFunction("comment", doc: "Comment out lines matching a regular expression.",
                      [Parameter("regex"), Parameter("char", default: "#"), Parameter("backup", default: ".bak")]) { call in
            try comment(call, uncomment: false)
        },
        StateFunction("uncomment", doc: "Uncomment lines matching a regular expression.",
                      [Parameter("regex"), Parameter("char", default: "#"), Parameter("backup", default: ".bak")]) { call in
            try comment(call, uncomment: true)
        },
        StateFunction("copy", doc: "Copy source to name if name is missing (or force).",
                      [Parameter("source"), Parameter("force", default: false), Parameter("makedirs", default: false),
                       Parameter("preserve", default: false)] + ownership) { call in
            try copy(call)
        },
        StateFunction("recurse", doc: "Copy a directory tree from the file server (salt://) to name.",
                      [Parameter("source"), Parameter("clean", default: false), Parameter("include_empty", default: false),
                       Parameter("makedirs", default: false)] + .optional("user", "group", "dir_mode", "file_mode", "template",
                                                                           "context", "defaults")) { call in
            try recurse(call)
        },
    ]

    // MARK: - managed

    /// file.managed's ways of giving the content itself (instead of `source`).
    static let contentsArguments = ["contents", "contents_pillar", "contents_grains"]

    /// The text a `file.managed` wants, or nil to leave content alone.
    static func desiredContent(_ call: StateCall) throws -> String? {
        let given = contentsArguments.filter { !call[$0].isNull }
        if !given.isEmpty, !call["source"].isNull {
            throw BrineError(.state, "'source' cannot be used in combination with 'contents', 'contents_pillar', or 'contents_grains'")
        }
        if given.count > 1 { throw BrineError(.state, "Only one of 'contents', 'contents_pillar', and 'contents_grains' is permitted") }
        if let contents = try givenContents(call) {
            if !call.flag("allow_empty", default: true), !contents.isTruthy {
                let what = given.first.map { $0 == "contents" ? "'contents'" : "\($0) \(call[$0].pythonString)" } ?? "'contents'"
                throw BrineError(.state, "\(what) value would result in empty contents. Set allow_empty to True to allow the managed file to be empty.")
            }
            // Salt's _validate_str_list: a list's items (each as Python's str), else the value as str;
            // every line of every part ends with a newline.
            let parts = contents.listValue?.map(\.pythonString) ?? [contents.pythonString]
            var text = parts.flatMap(ASCIIText.splitLines).map { $0 + "\n" }.joined()
            if !call.flag("contents_newline", default: true) {
                while text.hasSuffix("\n") { text.removeLast() }
                if text.hasSuffix("\r") { text.removeLast() }
            }
            return try renderIfTemplate(text, call: call, file: call.name, url: call.name)
        }
        guard !call["source"].isNull else { return nil }
        return try sourceContent(call)
    }

    /// `contents`, or the pillar or grain values `contents_pillar`/`contents_grains` name
    /// (several names: their values joined by newlines), or nil.
    static func givenContents(_ call: StateCall) throws -> Value? {
        if !call["contents"].isNull { return call["contents"] }
        let delimiter = call.string("contents_delimiter") ?? ":"
        for (key, source) in [("contents_pillar", try call.context.pillar()), ("contents_grains", try call.context.grains())] where !call[key].isNull {
            let names = call[key].listValue?.map(\.pythonString) ?? [call[key].pythonString]
            var found: [Value] = []
            for name in names {
                guard let value = source.traverse(name, delimiter: delimiter) else {
                    throw BrineError(.state, "\(key == "contents_pillar" ? "Pillar" : "Grain") \(name) does not exist")
                }
                found.append(value)
            }
            return call[key].listValue == nil ? found.first : .string(found.map(\.pythonString).joined(separator: "\n"))
        }
        return nil
    }

    /// The first `source` found, rendered when `template` says so.
    static func sourceContent(_ call: StateCall) throws -> String {
        let (local, url) = try localSource(call)
        return try renderIfTemplate(try FileOps.readText(local), call: call, file: local, url: url)
    }

    /// The first `source` that exists, as a local file, and its URL.
    static func localSource(_ call: StateCall) throws -> (local: String, url: String) {
        let sources = call["source"].listValue ?? [call["source"]]
        for source in sources {
            let url = source.mapValue?.keys.first ?? source.pythonString
            let local: String?
            if url.hasPrefix("salt://") {
                local = try call.context.fileClient.cache(url, saltenv: call.context.saltenv)
            } else if url.hasPrefix("/") || url.hasPrefix("file://") {
                let path = url.hasPrefix("file://") ? String(url.dropFirst(7)) : url
                local = FileOps.isFile(path) ? path : nil
            } else {
                throw BrineError(.state, "Source '\(url)' is not a salt://, file:// or absolute path",
                                 hint: "remote sources (http, ftp) are not supported")
            }
            if let local { return (local, url) }
        }
        throw BrineError(.state, "Source file \(sources.map(\.pythonString).joined(separator: ", ")) not found in saltenv '\(call.context.saltenv)'")
    }

    /// The bytes a `file.managed` wants: a source without a template is
    /// copied byte for byte (a binary file too); text otherwise.
    static func desiredBytes(_ call: StateCall) throws -> [UInt8]? {
        let given = contentsArguments.contains { !call[$0].isNull }
        if !given, !call["source"].isNull, (call.string("template") ?? "").isEmpty {
            let (local, _) = try localSource(call)
            guard let data = FileManager.default.contents(atPath: local) else { throw BrineError(.io, "cannot read \(local)") }
            return [UInt8](data)
        }
        return try desiredContent(call).map { Array($0.utf8) }
    }

    static func renderIfTemplate(_ text: String, call: StateCall, file: String, url: String) throws -> String {
        guard let engine = call.string("template"), !engine.isEmpty else { return text }
        guard engine == "jinja" else {
            throw BrineError(.state, "Specified template format \(engine) is not supported", hint: "use template: jinja")
        }
        guard let templates = call.templates else { throw BrineError(.state, "no template engine available") }
        var variables: [String: Value] = [:]
        if case .map(let defaults) = call["defaults"] { for (k, v) in defaults { variables[k] = v } }
        if case .map(let context) = call["context"] { for (k, v) in context { variables[k] = v } }
        let name = url.hasPrefix("salt://") ? String(url.dropFirst(7)) : (file as NSString).lastPathComponent
        return try templates.render(text, name: name, file: file, variables: variables, context: call.context)
    }

    /// A unified diff of two texts; Salt's words when either is not UTF-8.
    static func diff(_ old: [UInt8], _ new: [UInt8]) -> String {
        // Salt's is_binary, simplified: a NUL byte or bytes that are not UTF-8.
        func text(_ bytes: [UInt8]) -> String? { bytes.contains(0) ? nil : String(validating: bytes, as: UTF8.self) }
        switch (text(old), text(new)) {
        case let (before?, after?): return Diff.unified(before, after)
        case (nil, nil): return "Replace binary file"
        case (nil, _?): return "Replace binary file with text file"
        case (_?, nil): return "Replace text file with binary file"
        }
    }

    static func managed(_ call: StateCall) throws -> StateResult {
        var call = call
        // file.accumulated's texts for this file: the template's `accumulator` (over `context`'s).
        if let accumulator = call.facts.accumulators.withLock({ $0.variable(for: call.name) }) {
            var context = call["context"].mapValue ?? [:]
            context["accumulator"] = accumulator
            call.arguments.values["context"] = .map(context)
        }
        let path = call.name
        guard path.hasPrefix("/") else { return .failed(path, "Specified file \(path) is not an absolute path") }
        if FileOps.isDirectory(path) { return .failed(path, "Specified target \(path) is a directory") }
        let desired: [UInt8]?
        do { desired = try desiredBytes(call) } catch let error as BrineError { return .failed(path, error.description) }
        let exists = FileOps.exists(path)
        if !exists && !call.flag("create", default: true) {
            return StateResult(name: path, comment: "File \(path) is not present and is not set for creation")
        }
        var changes = OrderedDictionary<String, Value>()
        var current: [UInt8]? = nil
        if exists && !FileOps.isDirectory(path) {
            guard let data = FileManager.default.contents(atPath: path) else { return .failed(path, "Unable to read \(path)") }
            current = [UInt8](data)
        }
        var newContent: [UInt8]? = nil
        if !exists {
            newContent = desired ?? []
            changes["diff"] = "New file"
        } else if let desired, call.flag("replace", default: true), desired != current {
            newContent = desired
            changes["diff"] = call.flag("show_changes", default: true) ? .string(diff(current ?? [], desired)) : "<show_changes=False>"
        }
        let mode = try FileOps.parseMode(call["mode"])
        let info = FileOps.statInfo(path)
        if let mode, info.map({ $0.st_mode & 0o7777 != mode }) ?? true {
            changes["mode"] = .string(FileOps.modeString(mode))
        }
        if let user = call.string("user") {
            guard let uid = FileOps.uid(user) else { return .failed(path, "User \(user) is not available") }
            if info.map({ $0.st_uid != uid }) ?? exists { changes["user"] = .string(user) }
        }
        if let group = call.string("group") {
            guard let gid = FileOps.gid(group) else { return .failed(path, "Group \(group) is not available") }
            if info.map({ $0.st_gid != gid }) ?? exists { changes["group"] = .string(group) }
        }
        if changes.isEmpty { return StateResult(name: path, comment: "File \(path) is in the correct state") }
        if call.test {
            return StateResult(name: path, result: nil, changes: changes, comment: "The file \(path) is set to be changed")
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !FileOps.isDirectory(parent) {
            guard call.bool("makedirs") else {
                return .failed(path, "Parent directory not present")
            }
            _ = try FileOps.makeDirectories(parent, user: call.string("user"), group: call.string("group"),
                                            mode: try FileOps.parseMode(call["dir_mode"]))
        }
        if let newContent {
            if exists, let suffix = call.string("backup"), suffix == "minion", let current {
                try AtomicFile.write(current, to: path + ".orig")
            }
            try AtomicFile.write(newContent, to: path, mode: mode ?? (exists ? nil : 0o644))
        }
        if let mode { try FileOps.chmod(path, mode) }
        if call.string("user") != nil || call.string("group") != nil {
            try FileOps.chown(path, user: call.string("user"), group: call.string("group"))
        }
        return StateResult(name: path, changes: changes, comment: "File \(path) updated")
    }

    // MARK: - directory

    static func directory(_ call: StateCall) throws -> StateResult {
        let path = call.name
        guard path.hasPrefix("/") else { return .failed(path, "Specified file \(path) is not an absolute path") }
        if FileOps.exists(path) && !FileOps.isDirectory(path) {
            return .failed(path, "Specified location \(path) exists and is a file")
        }
        let dirMode = try FileOps.parseMode(call["dir_mode"].isNull ? call["mode"] : call["dir_mode"])
        let fileMode = try FileOps.parseMode(call["file_mode"])
        var changes = OrderedDictionary<String, Value>()
        let exists = FileOps.isDirectory(path)
        if !exists {
            changes[path] = ["directory": "new"]
        } else if let info = FileOps.statInfo(path) {
            if let dirMode, info.st_mode & 0o7777 != dirMode { changes["mode"] = .string(FileOps.modeString(dirMode)) }
            if let user = call.string("user"), FileOps.uid(user) != info.st_uid { changes["user"] = .string(user) }
            if let group = call.string("group"), FileOps.gid(group) != info.st_gid { changes["group"] = .string(group) }
        }
        let recurse = Set((call["recurse"].listValue ?? []).map(\.pythonString))
        var recursed: [String] = []
        if exists, !recurse.isEmpty {
            recursed = try treeNeedingChanges(path, recurse: recurse, call: call, dirMode: dirMode, fileMode: fileMode)
            if !recursed.isEmpty { changes["recursion"] = .list(recursed.map(Value.string)) }
        }
        var removed: [String] = []
        if exists, call.bool("clean") {
            removed = (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted().map { path + "/" + $0 } ?? []
            if !removed.isEmpty { changes["removed"] = .list(removed.map(Value.string)) }
        }
        if changes.isEmpty { return StateResult(name: path, comment: "The directory \(path) is in the correct state") }
        if call.test {
            // Salt's `_check_directory`: one line per change, "path: what - value".
            var lines = ["The following files will be changed:\n"]
            for (key, value) in changes {
                if case .map(let inner) = value {
                    for (what, detail) in inner { lines.append("\(key): \(what) - \(detail.pythonString)\n") }
                } else {
                    lines.append("\(path): \(key) - \(value.pythonString)\n")
                }
            }
            return StateResult(name: path, result: nil, changes: changes, comment: lines.joined())
        }
        if !exists {
            let parent = (path as NSString).deletingLastPathComponent
            guard FileOps.isDirectory(parent) || call.bool("makedirs") else {
                return .failed(path, "No directory to create \(path) in")
            }
            _ = try FileOps.makeDirectories(path, user: call.string("user"), group: call.string("group"), mode: dirMode)
        }
        if let dirMode { try FileOps.chmod(path, dirMode) }
        if call.string("user") != nil || call.string("group") != nil {
            try FileOps.chown(path, user: call.string("user"), group: call.string("group"))
        }
        for item in recursed {
            let isDir = FileOps.isDirectory(item)
            if recurse.contains("user") || recurse.contains("group") {
                try FileOps.chown(item, user: recurse.contains("user") ? call.string("user") : nil,
                                  group: recurse.contains("group") ? call.string("group") : nil)
            }
            if recurse.contains("mode"), let m = isDir ? dirMode : fileMode { try FileOps.chmod(item, m) }
        }
        for item in removed { try? FileManager.default.removeItem(atPath: item) }
        return StateResult(name: path, changes: changes, comment: exists ? "Directory \(path) updated" : "")
    }

    static func treeNeedingChanges(_ root: String, recurse: Set<String>, call: StateCall, dirMode: mode_t?, fileMode: mode_t?)
        throws -> [String]
    {
        var result: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        let uid = call.string("user").flatMap(FileOps.uid), gid = call.string("group").flatMap(FileOps.gid)
        while let relative = walker.nextObject() as? String {
            let item = root + "/" + relative
            guard let info = FileOps.lstatInfo(item), info.st_mode & S_IFMT != S_IFLNK else { continue }
            let isDir = info.st_mode & S_IFMT == S_IFDIR
            var differs = false
            if recurse.contains("user"), let uid, info.st_uid != uid { differs = true }
            if recurse.contains("group"), let gid, info.st_gid != gid { differs = true }
            if recurse.contains("mode"), let m = isDir ? dirMode : fileMode, info.st_mode & 0o7777 != m { differs = true }
            if differs { result.append(item) }
        }
        return result
    }

    // MARK: - symlink

    static func symlink(_ call: StateCall) throws -> StateResult {
        let path = call.name
        guard let target = call.string("target") else { return .failed(path, "A target is required") }
        let current = FileOps.isLink(path) ? try? FileManager.default.destinationOfSymbolicLink(atPath: path) : nil
        if current == target { return StateResult(name: path, comment: "Symlink \(path) is present and owned by \(FileOps.userName(FileOps.lstatInfo(path)?.st_uid ?? 0))") }
        if FileOps.exists(path) && current == nil && !call.bool("force") {
            return .failed(path, "File exists where the symlink \(path) should be")
        }
        if call.test {
            return StateResult(name: path, result: nil, changes: ["new": .string(path)],
                               comment: "Symlink \(path) to \(target) is set for creation")
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !FileOps.isDirectory(parent) {
            guard call.bool("makedirs") else { return .failed(path, "Directory \(parent) for symlink is not present") }
            _ = try FileOps.makeDirectories(parent)
        }
        if FileOps.exists(path) { try? FileManager.default.removeItem(atPath: path) }
        guard Glibc.symlink(target, path) == 0 else { return .failed(path, "Unable to create new symlink \(path) -> \(target): \(systemError(errno))") }
        if call.string("user") != nil || call.string("group") != nil {
            try FileOps.chown(path, user: call.string("user"), group: call.string("group"), followLinks: false)
        }
        return StateResult(name: path, changes: current == nil ? ["new": .string(path)] : ["replaced": .string(path)],
                           comment: "Created new symlink \(path) -> \(target)")
    }

    // MARK: - text edits

    /// Applies an edit to the file's text; reports a diff and writes it
    /// (unless testing). `edit` returns nil when nothing should change.
    static func edit(_ call: StateCall, backup: String?, showChanges: Bool = true,
                     noChange: String, changed: String, _ edit: (String) throws -> String?) throws -> StateResult
    {
        let path = call.name
        guard FileOps.isFile(path) else { return .failed(path, "\(path): file not found") }
        let original = try FileOps.readText(path)
        guard let updated = try edit(original), updated != original else {
            return StateResult(name: path, comment: noChange)
        }
        let diff = Diff.unified(original, updated)
        var changes: OrderedDictionary<String, Value> = ["diff": showChanges ? .string(diff) : "<show_changes=False>"]
        if call.test {
            changes = showChanges ? ["diff": .string(diff)] : [:]
            return StateResult(name: path, result: nil, changes: changes, comment: "Changes would have been made")
        }
        if let backup, !backup.isEmpty { try AtomicFile.write(original, to: path + backup) }
        try AtomicFile.write(updated, to: path)
        return StateResult(name: path, changes: changes, comment: changed)
    }

    static func backupSuffix(_ value: Value) -> String? {
        if case .string(let s) = value, !s.isEmpty { return s }
        return nil
    }

    static func replace(_ call: StateCall) throws -> StateResult {
        let path = call.name
        if !FileOps.isFile(path) {
            if call.bool("ignore_if_missing") { return StateResult(name: path, comment: "No changes needed to be made") }
            return .failed(path, "\(path): file not found")
        }
        var args = call.arguments
        args.values["path"] = .string(path)
        args.values["dry_run"] = true
        args.values["show_changes"] = true
        let preview = try FileModule.replace(args)
        guard preview.changed else { return StateResult(name: path, comment: "No changes needed to be made") }
        let showChanges = call.flag("show_changes", default: true)
        if call.test {
            return StateResult(name: path, result: nil, changes: showChanges ? ["diff": .string(preview.diff)] : [:],
                               comment: "Changes would have been made")
        }
        args.values["dry_run"] = false
        let applied = try FileModule.replace(args)
        return StateResult(name: path, changes: ["diff": showChanges ? .string(applied.diff) : "<show_changes=False>"],
                           comment: "Changes were made")
    }

    static func textLines(_ call: StateCall) throws -> [String] {
        var text: [String] = []
        if !call["text"].isNull {
            for item in call["text"].listValue ?? [call["text"]] {
                text += item.pythonString.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            }
        } else if !call["source"].isNull {
            let url = call["source"].pythonString
            guard let local = try call.context.fileClient.cache(url, saltenv: call.context.saltenv) ?? (FileOps.isFile(url) ? url : nil) else {
                throw BrineError(.state, "Source \(url) not found")
            }
            let raw = try renderIfTemplate(try FileOps.readText(local), call: call, file: local, url: url)
            text = raw.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        while text.last == "" { text.removeLast() }
        return text
    }

    static func appendOrPrepend(_ call: StateCall, atEnd: Bool) throws -> StateResult {
        let path = call.name
        let lines: [String]
        do { lines = try textLines(call) } catch let error as BrineError { return .failed(path, error.description) }
        if !FileOps.exists(path) {
            if call.test {
                return StateResult(name: path, result: nil, changes: ["new": .string(path)], comment: "File \(path) is set to be created")
            }
            if call.bool("makedirs") { _ = try FileOps.makeDirectories((path as NSString).deletingLastPathComponent) }
            try AtomicFile.write("", to: path, mode: 0o644)
        }
        let ignoreWhitespace = call.flag("ignore_whitespace", default: true)
        func normalized(_ s: String) -> String {
            ignoreWhitespace ? s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ") : s
        }
        var count = 0
        let result = try edit(call, backup: nil, noChange: "File \(path) is in correct state",
                              changed: "") { original in
            let present = Set(original.split(separator: "\n", omittingEmptySubsequences: false).map { normalized(String($0)) })
            let missing = lines.filter { !present.contains(normalized($0)) && !(ignoreWhitespace && normalized(original).contains(normalized($0)) && !normalized($0).isEmpty) }
            count = missing.count
            guard !missing.isEmpty else { return nil }
            let block = missing.map { $0 + "\n" }.joined()
            if atEnd {
                return (original.isEmpty || original.hasSuffix("\n") ? original : original + "\n") + block
            }
            return block + original
        }
        var final = result
        if result.result == true && !result.changes.isEmpty {
            final.comment = atEnd ? "Appended \(count) lines" : "Prepended \(count) lines"
        }
        return final
    }

    static func line(_ call: StateCall) throws -> StateResult {
        let path = call.name
        let mode = call.string("mode") ?? ""
        guard ["ensure", "replace", "insert", "delete"].contains(mode) else {
            return .failed(path, "Mode was not defined. How to process the file?")
        }
        if !FileOps.exists(path) {
            guard call.bool("create") else { return .failed(path, "\(path): file not found") }
            if !call.test { try AtomicFile.write("", to: path, mode: 0o644) }
        }
        let content = call.string("content") ?? ""
        let match = call.string("match") ?? content
        let regex = try PyRegex(match, flags: 0)
        let before = try call.string("before").map { try PyRegex($0, flags: 0) }
        let after = try call.string("after").map { try PyRegex($0, flags: 0) }
        return try edit(call, backup: backupSuffix(call["backup"]), showChanges: call.flag("show_changes", default: true),
                        noChange: "No changes needed to be made", changed: "Changes were made") { original in
            var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let trailing = lines.last == ""
            if trailing { lines.removeLast() }
            let hits = lines.indices.filter { regex.firstMatch(in: lines[$0]) }
            switch mode {
            case "delete":
                guard !hits.isEmpty else { return nil }
                lines = lines.enumerated().filter { !hits.contains($0.offset) }.map(\.element)
            case "replace":
                guard !hits.isEmpty else { return nil }
                for i in hits { lines[i] = content }
            case "insert", "ensure":
                if lines.contains(content) { return nil }
                if mode == "ensure", !hits.isEmpty, before == nil, after == nil {
                    for i in hits { lines[i] = content }
                    break
                }
                if let after, let i = lines.lastIndex(where: { after.firstMatch(in: $0) }) {
                    lines.insert(content, at: i + 1)
                } else if let before, let i = lines.firstIndex(where: { before.firstMatch(in: $0) }) {
                    lines.insert(content, at: i)
                } else if call.string("location") == "start" {
                    lines.insert(content, at: 0)
                } else if mode == "insert" && (before != nil || after != nil) {
                    throw BrineError(.state, "Neither before nor after matched a line in \(path)")
                } else {
                    lines.append(content)
                }
            default: return nil
            }
            return lines.joined(separator: "\n") + (trailing || !lines.isEmpty ? "\n" : "")
        }
    }

    static func blockreplace(_ call: StateCall) throws -> StateResult {
        let path = call.name
        let start = call.string("marker_start") ?? "", end = call.string("marker_end") ?? ""
        var content = call.string("content") ?? ""
        // file.accumulated's lines, after `content`, one per line (Salt joins them so).
        for line in call.facts.accumulators.withLock({ $0.lines(for: path, stateID: call.id) }) ?? [] {
            content = content.isEmpty ? line : content + "\n" + line
        }
        if !content.isEmpty && !content.hasSuffix("\n") { content += "\n" }
        return try edit(call, backup: backupSuffix(call["backup"]), showChanges: call.flag("show_changes", default: true),
                        noChange: "No changes needed to be made", changed: "Changes were made") { original in
            var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            if let s = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(start) }),
                let e = lines[(s + 1)...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(end) })
            {
                let body = content.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
                lines.replaceSubrange((s + 1)..<e, with: body)
                return lines.joined(separator: "\n") + "\n"
            }
            let block = start + "\n" + content + end + "\n"
            if call.bool("append_if_not_found") {
                return (original.isEmpty || original.hasSuffix("\n") ? original : original + "\n") + block
            }
            if call.bool("prepend_if_not_found") { return block + original }
            throw BrineError(.state, "Cannot edit marked block. Markers were not found in \(path)")
        }
    }

    static func comment(_ call: StateCall, uncomment: Bool) throws -> StateResult {
        let path = call.name
        let char = call.string("char") ?? "#"
        guard let pattern = call.string("regex") else { return .failed(path, "regex is required") }
        let anchored = pattern.hasPrefix("^") ? String(pattern.dropFirst()) : pattern
        let regex = try PyRegex(uncomment ? "^\\s*" + NSRegularExpression.escapedPattern(for: char) + anchored
                                          : (pattern.hasPrefix("^") ? pattern : "^" + pattern), flags: 0)
        return try edit(call, backup: backupSuffix(call["backup"]),
                        noChange: uncomment ? "Pattern already uncommented" : "Pattern already commented",
                        changed: uncomment ? "Uncommented lines successfully" : "Commented lines successfully") { original in
            var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var changed = false
            for i in lines.indices where regex.firstMatch(in: lines[i]) {
                if uncomment {
                    if let range = lines[i].range(of: char) { lines[i].removeSubrange(range); changed = true }
                } else if !lines[i].hasPrefix(char) {
                    lines[i] = char + lines[i]
                    changed = true
                }
            }
            return changed ? lines.joined(separator: "\n") : nil
        }
    }

    // MARK: - copy and recurse

    static func copy(_ call: StateCall) throws -> StateResult {
        let path = call.name
        guard let source = call.string("source") else { return .failed(path, "Source file not specified") }
        guard FileOps.exists(source) else { return .failed(path, "Source file \"\(source)\" is not present") }
        if FileOps.exists(path) && !call.bool("force") {
            return StateResult(name: path, comment: "The target file \"\(path)\" exists and will not be overwritten")
        }
        if call.test {
            return StateResult(name: path, result: nil, changes: [path: .string(source)],
                               comment: "File \"\(source)\" is set to be copied to \"\(path)\"")
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !FileOps.isDirectory(parent) {
            guard call.bool("makedirs") else { return .failed(path, "The target directory \(parent) is not present") }
            _ = try FileOps.makeDirectories(parent)
        }
        if FileOps.exists(path) { try? FileManager.default.removeItem(atPath: path) }
        _ = try call.call("file.copy", [.string(source), .string(path)], ["recurse": true])
        if let mode = try FileOps.parseMode(call["mode"]) { try FileOps.chmod(path, mode) }
        if call.string("user") != nil || call.string("group") != nil {
            try FileOps.chown(path, user: call.string("user"), group: call.string("group"))
        }
        return StateResult(name: path, changes: [path: .string(source)], comment: "Copied \"\(source)\" to \"\(path)\"")
    }

    static func recurse(_ call: StateCall) throws -> StateResult {
        let path = call.name
        guard let source = call.string("source"), source.hasPrefix("salt://") else {
            return .failed(path, "The source must be a salt:// directory")
        }
        let (prefix, env) = try LocalFileClient.parse(source, saltenv: call.context.saltenv)
        let files = try call.context.fileClient.listFiles(saltenv: env).filter { $0.hasPrefix(prefix + "/") }
        guard !files.isEmpty else { return .failed(path, "The directory '\(source)' does not exist on the salt fileserver in saltenv '\(env)'") }
        var changes = OrderedDictionary<String, Value>()
        var comments: [String] = []
        var failed = false
        for file in files {
            let relative = String(file.dropFirst(prefix.count + 1))
            var sub = call
            sub.name = path + "/" + relative
            var args = Arguments()
            args.values = ["source": .string("salt://" + file + (env == "base" ? "" : "?saltenv=\(env)")),
                           "makedirs": true, "template": call["template"], "context": call["context"],
                           "defaults": call["defaults"], "user": call["user"], "group": call["group"],
                           "mode": call["file_mode"], "dir_mode": call["dir_mode"]]
            sub.arguments = args
            let result = try managed(sub)
            if !result.changes.isEmpty { changes[sub.name] = .map(result.changes) }
            if result.result == false { failed = true; comments.append(result.comment) }
        }
        if call.bool("clean"), FileOps.isDirectory(path) {
            let wanted = Set(files.map { path + "/" + $0.dropFirst(prefix.count + 1) })
            var removed: [String] = []
            if let walker = FileManager.default.enumerator(atPath: path) {
                while let rel = walker.nextObject() as? String {
                    let full = path + "/" + rel
                    if FileOps.isFile(full) && !wanted.contains(full) { removed.append(full) }
                }
            }
            for item in removed {
                changes[item] = ["removed": .string(item)]
                if !call.test { try? FileManager.default.removeItem(atPath: item) }
            }
        }
        if failed { return StateResult(name: path, result: false, changes: changes, comment: comments.joined(separator: "\n")) }
        if changes.isEmpty { return StateResult(name: path, comment: "The directory \(path) is in the correct state") }
        if call.test { return StateResult(name: path, result: nil, changes: changes, comment: "The directory \(path) is set to be changed") }
        return StateResult(name: path, changes: changes, comment: "Recursively updated \(path)")
    }
}
