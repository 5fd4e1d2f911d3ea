import BrineCore
import BrineModules
import Foundation

/// A base image from Debian's mirror alone: debootstrap (minbase) into a
/// temporary directory, then an import, with Debian's official image's
/// command (`bash`).
public struct ImageBootstrap: Sendable {
    public var suite: String
    public var mirror: String
    public var variant: String
    public var include: [String]

    public init(suite: String = "bookworm", mirror: String = "http://deb.debian.org/debian", variant: String = "minbase",
                include: [String] = [])
    {
        self.suite = suite
        self.mirror = mirror
        self.variant = variant
        self.include = include
    }

    /// Builds the root filesystem and imports it as `reference`; returns the image id.
    public func run(as reference: String, docker: DockerClient, say: @Sendable (String) -> Void) async throws -> String {
        guard geteuid() == 0 else {
            throw BrineError(.permission, "debootstrap needs root", hint: "run brine image bootstrap as root (or with sudo)")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/debootstrap") else {
            throw BrineError(.notAvailable, "debootstrap is not installed", hint: "apt-get install debootstrap")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("brine-bootstrap-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let rootfs = scratch + "/rootfs", tarball = scratch + "/rootfs.tar"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)

        say("debootstrap --variant=\(variant) \(suite) (\(mirror))")
        var arguments = ["/usr/sbin/debootstrap", "--variant=\(variant)"]
        if !include.isEmpty { arguments.append("--include=" + include.joined(separator: ",")) }
        arguments += [suite, rootfs, mirror]
        let bootstrap = try ProcessRunner.runBlocking(Command(arguments, timeout: 1800, mergeStderr: true))
        guard bootstrap.retcode == 0 else {
            throw BrineError(.execution, "debootstrap failed (exit \(bootstrap.retcode)): \(bootstrap.stdout.suffix(2000))")
        }
        // What an image should not carry: downloaded packages and index files.
        for junk in ["var/cache/apt/archives", "var/lib/apt/lists"] {
            let dir = rootfs + "/" + junk
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where entry != "partial" && entry != "lock" {
                try? FileManager.default.removeItem(atPath: dir + "/" + entry)
            }
        }
        say("importing \(reference)")
        let tar = try ProcessRunner.runBlocking(Command(["tar", "--numeric-owner", "--xattrs", "-C", rootfs, "-cf", tarball, "."],
                                                        timeout: 600, mergeStderr: true))
        guard tar.retcode == 0 else { throw BrineError(.execution, "tar failed: \(tar.stdout.suffix(1000))") }
        return try await docker.importImage(tarball: tarball, as: reference,
                                            changes: ["CMD [\"bash\"]", "LABEL io.brine.bootstrap=\"\(suite) \(variant)\""])
    }
}
