import BrineCore
import BrineModules
import Foundation

/// The brine binary as it runs inside a container: bind-mounted read-only
/// under `/run/brine` (a tmpfs in every container Brine starts, so nothing
/// of it, not even the mount points, can reach a committed image).
///
/// A fully static binary (the release build) needs nothing else. A dynamic
/// one (a debug build, a toolchain's shared Swift runtime) brings its own
/// shared libraries and ELF interpreter along and is started through that
/// interpreter, so it runs on any base image, even one without glibc.
public struct RuntimeBundle: Sendable, Equatable {
    public static let root = "/run/brine"
    public static let binaryPath = root + "/bin/brine"
    static let libraryDir = root + "/lib"

    /// The binary on the host.
    public var binary: String
    /// Host path → file name in the container's library directory.
    public var libraries: [(host: String, name: String)]
    /// The ELF interpreter's file name, when the binary is dynamic.
    public var interpreter: String?

    public static func == (a: RuntimeBundle, b: RuntimeBundle) -> Bool {
        a.binary == b.binary && a.interpreter == b.interpreter && a.libraries.map(\.host) == b.libraries.map(\.host)
    }

    /// The running brine binary.
    public static func current() throws -> RuntimeBundle {
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return try of(binary: binary)
    }

    /// Reads the binary's shared-library closure with `ldd`.
    public static func of(binary: String) throws -> RuntimeBundle {
        let result = try ProcessRunner.runBlocking(Command(["ldd", binary], environment: ["LC_ALL": "C", "PATH": "/usr/bin:/bin"]))
        let text = result.stdout + result.stderr
        if text.contains("not a dynamic executable") || text.contains("statically linked") {
            return RuntimeBundle(binary: binary, libraries: [], interpreter: nil)
        }
        guard result.retcode == 0 else {
            throw BrineError(.execution, "ldd \(binary) failed: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        var libraries: [(host: String, name: String)] = []
        var interpreter: String?
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if let arrow = fields.firstIndex(of: "=>") {
                guard arrow + 1 < fields.count, fields[arrow + 1].hasPrefix("/") else {
                    if !fields[0].hasPrefix("linux-vdso") {
                        throw BrineError(.execution, "\(binary) needs \(fields[0]), which this machine does not have")
                    }
                    continue
                }
                libraries.append((realPath(fields[arrow + 1]), fields[0]))
            } else if let first = fields.first, first.hasPrefix("/") {
                let name = (first as NSString).lastPathComponent
                libraries.append((realPath(first), name))
                interpreter = name
            }
        }
        return RuntimeBundle(binary: realPath(binary), libraries: libraries, interpreter: interpreter)
    }

    static func realPath(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    /// Read-only binds, `host:container:ro`.
    public var binds: [String] {
        ["\(binary):\(Self.binaryPath):ro"] + libraries.map { "\($0.host):\(Self.libraryDir)/\($0.name):ro" }
    }

    /// The command line that runs `brine ARGUMENTS` inside the container.
    public func command(_ arguments: [String]) -> [String] {
        guard let interpreter else { return [Self.binaryPath] + arguments }
        return ["\(Self.libraryDir)/\(interpreter)", "--library-path", Self.libraryDir, "--argv0", "brine", Self.binaryPath] + arguments
    }
}
