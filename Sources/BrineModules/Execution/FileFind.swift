import BrineCore
import Foundation

/// Salt's `file.find` (salt/utils/find.py) for the criteria templates and
/// users reach for: name/iname (Salt's own glob-to-regex), regex/iregex
/// (on the file name, from its start),
/// type, mindepth/maxdepth; `print` of path or name; what is printed, sorted.
struct FileFinder {
    var nameRegex: PyRegex?
    var fileRegex: PyRegex?
    var types: Set<Character>?
    var minDepth = 0
    var maxDepth: Int?
    var printField = "path"

    static let supported: Set<String> = ["name", "iname", "regex", "iregex", "type", "mindepth", "maxdepth", "print"]

    init(_ options: [String: Value]) throws(BrineError) {
        for key in options.keys where !FileFinder.supported.contains(key) {
            throw BrineError(.arguments, "error: Brine's file.find does not take '\(key)' yet",
                             hint: "it takes \(FileFinder.supported.sorted().joined(separator: ", "))")
        }
        // Salt: "." escaped, "*" → ".*", "?" → ".?", matched from the start, "$" at the end.
        func glob(_ pattern: String) -> String {
            pattern.replacingOccurrences(of: ".", with: "\\.").replacingOccurrences(of: "?", with: ".?")
                .replacingOccurrences(of: "*", with: ".*") + "$"
        }
        if let name = options["name"]?.pythonString { nameRegex = try PyRegex(glob(name), flags: 0) }
        if let name = options["iname"]?.pythonString { nameRegex = try PyRegex(glob(name), flags: 2) }
        if let regex = options["regex"]?.pythonString { fileRegex = try PyRegex(regex, flags: 0) }
        if let regex = options["iregex"]?.pythonString { fileRegex = try PyRegex(regex, flags: 2) }
        if let type = options["type"]?.pythonString {
            let letters = Set(type.filter { !$0.isWhitespace && $0 != "," })
            guard letters.isSubset(of: Set("bcdflps")) else { throw BrineError(.arguments, "error: invalid file type \"\(type)\"") }
            types = letters
        }
        if let value = options["mindepth"] { minDepth = value.intValue ?? Int(value.pythonString) ?? 0 }
        if let value = options["maxdepth"] { maxDepth = value.intValue ?? Int(value.pythonString) }
        if let field = options["print"]?.pythonString {
            guard ["path", "name"].contains(field) else { throw BrineError(.arguments, "error: Brine's file.find prints path or name") }
            printField = field
        }
    }

    func matches(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        if let nameRegex, nameRegex.regex.firstMatch(in: name, options: [.anchored], range: NSRange(name.startIndex..., in: name)) == nil {
            return false
        }
        if let fileRegex, fileRegex.regex.firstMatch(in: name, options: [.anchored], range: NSRange(name.startIndex..., in: name)) == nil {
            return false
        }
        if let types {
            // Salt stats through symbolic links, lstat only when that fails.
            var info = stat()
            guard stat(path, &info) == 0 || lstat(path, &info) == 0 else { return false }
            let kind: Character
            switch info.st_mode & S_IFMT {
            case S_IFDIR: kind = "d"
            case S_IFREG: kind = "f"
            case S_IFLNK: kind = "l"
            case S_IFBLK: kind = "b"
            case S_IFCHR: kind = "c"
            case S_IFIFO: kind = "p"
            case S_IFSOCK: kind = "s"
            default: return false
            }
            if !types.contains(kind) { return false }
        }
        return true
    }

    func find(_ root: String) -> [String] {
        var found: [String] = []
        if minDepth < 1 && matches(root) { found.append(root) }
        walk(root, depth: 1, into: &found)
        return found
    }

    private func walk(_ directory: String, depth: Int, into found: inout [String]) {
        guard maxDepth.map({ depth <= $0 }) ?? true, depth < 4096,
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names {
            let path = FileOps.join([directory, name])
            if depth >= minDepth && matches(path) { found.append(path) }
            var isDirectory: ObjCBool = false
            var info = stat()
            if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR,
               FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                walk(path, depth: depth + 1, into: &found)
            }
        }
    }

    func printed(_ path: String) -> Value {
        .string(printField == "name" ? (path as NSString).lastPathComponent : path)
    }

    /// Python's `glob.glob`: the existing paths a pattern names, or the
    /// path itself when it has no wildcard and exists.
    static func expand(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
    }
}
