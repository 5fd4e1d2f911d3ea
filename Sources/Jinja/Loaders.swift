import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `stat(2)` without FileManager's overhead: the cache checks a template's
/// modification time on every `getTemplate`, as Jinja2's auto_reload does.
struct FileStat {
    let isRegular: Bool
    let mtime: Double

    init?(_ path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        isRegular = (st.st_mode & S_IFMT) == S_IFREG
        #if os(Linux)
        mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        #else
        mtime = Double(st.st_mtimespec.tv_sec) + Double(st.st_mtimespec.tv_nsec) / 1e9
        #endif
    }
}

/// What a loader returns for a template name.
public struct TemplateSource: Sendable {
    public var source: String
    /// A path or other identifier, for messages.
    public var filename: String?
    /// A version stamp (file modification time); a cached template is
    /// reused while the loader reports the same stamp.
    public var version: Double?

    public init(source: String, filename: String? = nil, version: Double? = nil) {
        self.source = source
        self.filename = filename
        self.version = version
    }
}

/// Finds template source by name. Return nil when the template does not exist.
public protocol Loader: Sendable {
    func load(_ name: String) throws -> TemplateSource?
    /// The current version stamp for a cached template, or nil if unknown
    /// (then the cached parse is reused).
    func version(of name: String) -> Double?
    /// Whether a template loaded as `loaded` may still be used: by default
    /// its version stamp is asked for again by name.
    func isUpToDate(_ name: String, loaded: TemplateSource) -> Bool
}

extension Loader {
    public func version(of name: String) -> Double? { nil }
    public func isUpToDate(_ name: String, loaded: TemplateSource) -> Bool {
        loaded.version == nil || version(of: name) == loaded.version
    }
}

/// Templates held in memory by name.
public struct DictLoader: Loader {
    public var templates: [String: String]
    public init(_ templates: [String: String]) { self.templates = templates }
    public func load(_ name: String) throws -> TemplateSource? {
        templates[name].map { TemplateSource(source: $0, filename: name) }
    }
}

/// Templates read from one or more directories, first match wins, like
/// Jinja2's FileSystemLoader. Names use `/` and may not escape the root.
public struct FileSystemLoader: Loader {
    public var searchPath: [String]
    public init(searchPath: [String]) { self.searchPath = searchPath }
    public init(searchPath: String) { self.searchPath = [searchPath] }

    func resolve(_ name: String) -> String? {
        var pieces: [String] = []
        for p in name.split(separator: "/") where p != "." && !p.isEmpty {
            if p == ".." { return nil }
            pieces.append(String(p))
        }
        for dir in searchPath {
            let path = ([dir] + pieces).joined(separator: "/")
            if FileStat(path)?.isRegular == true { return path }
        }
        return nil
    }

    public func load(_ name: String) throws -> TemplateSource? {
        guard let path = resolve(name) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        return TemplateSource(source: text, filename: path, version: mtime(path))
    }

    public func version(of name: String) -> Double? {
        resolve(name).flatMap(mtime)
    }

    /// One `stat` of the file the template came from, as Jinja2's
    /// `uptodate` does, instead of searching the path again.
    public func isUpToDate(_ name: String, loaded: TemplateSource) -> Bool {
        guard let version = loaded.version else { return true }
        guard let file = loaded.filename else { return self.version(of: name) == version }
        return mtime(file) == version
    }

    func mtime(_ path: String) -> Double? { FileStat(path)?.mtime }
}

/// Tries several loaders in order.
public struct ChoiceLoader: Loader {
    public var loaders: [any Loader]
    public init(_ loaders: [any Loader]) { self.loaders = loaders }
    public func load(_ name: String) throws -> TemplateSource? {
        for l in loaders { if let s = try l.load(name) { return s } }
        return nil
    }
    public func version(of name: String) -> Double? {
        for l in loaders { if let v = l.version(of: name) { return v } }
        return nil
    }
}

/// Wraps a closure, for hosts with their own storage (Salt's fileserver).
public struct FunctionLoader: Loader {
    let fn: @Sendable (String) throws -> TemplateSource?
    public init(_ fn: @escaping @Sendable (String) throws -> TemplateSource?) { self.fn = fn }
    public func load(_ name: String) throws -> TemplateSource? { try fn(name) }
}
