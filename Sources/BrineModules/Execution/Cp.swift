import BrineCore
import Foundation

/// Salt's `cp` functions that read the file server.
public enum CpModule: ExecutionModule {
    public static let name = "cp"

    /// Salt's `list_states`: the SLS names of file-server paths
    /// (`a/b.sls` → `a.b`, `a/init.sls` → `a`), sorted, each once.
    public static func slsNames(_ files: [String]) -> [String] {
        var names = Set<String>()
        for file in files where file.hasSuffix(".sls") {
            var name = String(file.dropLast(4))
            if name.hasSuffix("/init") { name = String(name.dropLast(5)) }
            names.insert(name.replacingOccurrences(of: "/", with: "."))
        }
        return names.sorted()
    }

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("list_states", doc: "List the SLS names available in a saltenv.", [Parameter("saltenv", default: "base")]) { a, ctx in
            .list(slsNames(try ctx.fileClient.listFiles(saltenv: a.string("saltenv") ?? "base")).map(Value.string))
        },
        ExecutionFunction("list_master", doc: "List the files on the file server for a saltenv.", [Parameter("saltenv", default: "base"),
                                                                                                  Parameter("prefix", default: "")]) { a, ctx in
            let prefix = a.string("prefix") ?? ""
            return .list(try ctx.fileClient.listFiles(saltenv: a.string("saltenv") ?? "base").filter { $0.hasPrefix(prefix) }.map(Value.string))
        },
        ExecutionFunction("list_master_dirs", doc: "List the directories on the file server for a saltenv.",
                          [Parameter("saltenv", default: "base"), Parameter("prefix", default: "")]) { a, ctx in
            let prefix = a.string("prefix") ?? ""
            var dirs = Set<String>()
            for file in try ctx.fileClient.listFiles(saltenv: a.string("saltenv") ?? "base") {
                var dir = FileOps.dirname(file)
                while !dir.isEmpty, dir != "/", dirs.insert(dir).inserted { dir = FileOps.dirname(dir) }
            }
            return .list(dirs.filter { $0.hasPrefix(prefix) }.sorted().map(Value.string))
        },
        ExecutionFunction("get_file_str", doc: "Return the content of a salt:// file, or False.", [Parameter("path"),
                                                                                                 Parameter("saltenv", default: "base")]) { a, ctx in
            guard let local = try ctx.fileClient.cache(a.string("path") ?? "", saltenv: a.string("saltenv") ?? ctx.saltenv) else { return false }
            return .string(try FileOps.readText(local))
        },
        ExecutionFunction("cache_file", doc: "Cache a salt:// file locally; return its local path or False.",
                          [Parameter("path"), Parameter("saltenv", default: "base")]) { a, ctx in
            guard let local = try ctx.fileClient.cache(a.string("path") ?? "", saltenv: a.string("saltenv") ?? ctx.saltenv) else { return false }
            return .string(local)
        },
        ExecutionFunction("get_file", doc: "Copy a salt:// file to dest (a directory keeps the name); the path written, '' when there is no such file.",
                          [Parameter("path"), Parameter("dest"), Parameter("saltenv", default: "base"), Parameter("makedirs", default: false),
                           Parameter("template", default: .null), Parameter("gzip", default: .null)]) { a, ctx in
            let named = try ctx.renderingTemplate(a, ["path", "dest"])  // the names, not the content (Salt's _render_filenames)
            let (source, destination) = (named.string("path") ?? "", named.string("dest") ?? "")
            guard let local = try ctx.fileClient.cache(source, saltenv: a.string("saltenv") ?? "base") else { return "" }
            return try copy(local, to: destination, named: FileOps.basename(source), makedirs: a.bool("makedirs")).map(Value.string) ?? false
        },
        ExecutionFunction("get_dir", doc: "Copy a salt:// directory below dest; the files written.",
                          [Parameter("path"), Parameter("dest"), Parameter("saltenv", default: "base"),
                           Parameter("template", default: .null), Parameter("gzip", default: .null)]) { a, ctx in
            let named = try ctx.renderingTemplate(a, ["path", "dest"])  // the names, not the content (Salt's _render_filenames)
            let (source, destination) = (named.string("path") ?? "", named.string("dest") ?? "")
            let saltenv = a.string("saltenv") ?? "base"
            guard source.hasPrefix("salt://") else { throw BrineError(.arguments, "cp.get_dir takes a salt:// path, not '\(source)'") }
            let prefix = String(source.dropFirst("salt://".count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            let top = FileOps.basename(prefix)
            var written: [Value] = []
            for file in try ctx.fileClient.listFiles(saltenv: saltenv).sorted() where prefix.isEmpty || file.hasPrefix(prefix + "/") {
                guard let local = try ctx.fileClient.cache("salt://" + file, saltenv: saltenv) else { continue }
                let relative = prefix.isEmpty ? file : String(file.dropFirst(prefix.count + 1))
                let target = FileOps.join([destination, top, relative])
                if let path = try copy(local, to: target, named: FileOps.basename(file), makedirs: true) { written.append(.string(path)) }
            }
            return .list(written)
        },
        ExecutionFunction("get_url", doc: "Fetch salt://, file:// or http:// into dest (the file server's cache without dest); the local path.",
                          [Parameter("path"), Parameter("dest", default: .null), Parameter("saltenv", default: "base"),
                           Parameter("makedirs", default: false), Parameter("source_hash", default: .null)]) { a, ctx in
            let url = a.string("path") ?? ""
            if url.hasPrefix("file://") { return .string(String(url.dropFirst("file://".count))) }
            if url.hasPrefix("http://") {
                let bytes = try HTTPClient.download(url)
                guard let dest = a.string("dest") else { return .string(String(decoding: bytes, as: UTF8.self)) }
                let target = dest.hasSuffix("/") || FileOps.isDirectory(dest) ? FileOps.join([dest, FileOps.basename(url)]) : dest
                if a.bool("makedirs") { _ = try FileOps.makeDirectories(FileOps.dirname(target)) }
                try AtomicFile.write(bytes, to: target)  // bytes: binaries arrive whole
                return .string(target)
            }
            guard let local = try ctx.fileClient.cache(url, saltenv: a.string("saltenv") ?? "base") else { return false }
            guard let dest = a.string("dest") else { return .string(local) }
            return try copy(local, to: dest, named: FileOps.basename(url), makedirs: a.bool("makedirs")).map(Value.string) ?? false
        },
        ExecutionFunction("push", doc: "Push a file to the master (not possible masterless: Salt answers False too).",
                          [Parameter("path"), Parameter("keep_symlinks", default: false), Parameter("upload_path", default: .null),
                           Parameter("remove_source", default: false)]) { _, _ in
            false
        },
    ]

    /// Copies through a temporary file; a directory destination (or one
    /// ending in /) keeps the source's name. Nil when the parent is
    /// missing and may not be made.
    static func copy(_ local: String, to destination: String, named name: String, makedirs: Bool) throws -> String? {
        let target = destination.hasSuffix("/") || FileOps.isDirectory(destination) ? FileOps.join([destination, name]) : destination
        let parent = FileOps.dirname(target)
        if !FileOps.isDirectory(parent) {
            guard makedirs else { return nil }
            _ = try FileOps.makeDirectories(parent)
        }
        guard let data = FileManager.default.contents(atPath: local) else { throw BrineError(.io, "cannot read \(local)") }
        try AtomicFile.write(Array(data), to: target)
        return target
    }
}
