import BrineCore
import BrineModules
import Foundation

/// `brine build`'s package cache, inside a step's container: apt's lists and
/// downloaded .debs live in a Docker volume shared by builds (mounted under
/// the container's `/run`, a tmpfs), so a step downloads nothing an earlier
/// build fetched, and neither the lists nor the .debs end up in the layer
/// (a Debian image otherwise carries ~170 MiB of them).
///
/// apt is pointed there by `APT_CONFIG` (read before `/etc/apt/apt.conf.d`,
/// so an image's own settings still apply). Each step works on a private
/// copy made of hard links: apt replaces its files by rename and never
/// writes into one, so builds running at once neither share apt's directory
/// locks (which fail at once rather than wait) nor see half-written files.
/// When the step ends, what apt fetched is linked back into the shared
/// directories and the lists apt's update removed are removed there too.
struct AptBuildCache {
    /// The volume's root: `lists/KEY` (one per set of apt sources), `archives`, `steps`.
    let mount: String
    /// The lists the step started from (the key of the sources it started with).
    let sharedLists: String
    let sharedArchives: String
    /// This step's copy, removed when the step ends.
    let work: String
    let etc: String
    /// Each file the copy started with and its inode: a file still on that
    /// inode was not changed by apt, and is neither published nor, when apt
    /// removed it, removed from the shared copy unless that still holds it.
    let seededLists: [String: FileIdentity]
    let seededArchives: Set<String>

    var lists: String { work + "/lists" }
    var archives: String { work + "/archives" }
    var configFile: String { work + "/apt.conf" }

    struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64

        init?(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// Steps' copies older than this are left over from killed builds.
    static let staleAfter: TimeInterval = 24 * 3600

    /// Makes the step's copy and its apt configuration; nil in an image
    /// without apt.
    static func open(mount: String, etc: String = "/etc/apt") throws -> AptBuildCache? {
        guard let listsKey = try sourcesDigest(etc: etc) else { return nil }
        let sharedLists = mount + "/lists/" + listsKey
        let sharedArchives = mount + "/archives"
        let steps = mount + "/steps"
        for dir in [sharedLists, sharedArchives, steps] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        removeStale(in: steps)
        let work = steps + "/" + UUID().uuidString.lowercased()
        for dir in [work + "/lists/partial", work + "/archives/partial"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        var seeded: [String: FileIdentity] = [:]
        for name in link(files(in: sharedLists), from: sharedLists, to: work + "/lists") {
            seeded[name] = FileIdentity(work + "/lists/" + name)
        }
        let archives = link(files(in: sharedArchives).filter { $0.hasSuffix(".deb") }, from: sharedArchives, to: work + "/archives")
        let cache = AptBuildCache(mount: mount, sharedLists: sharedLists, sharedArchives: sharedArchives, work: work, etc: etc,
                                  seededLists: seeded, seededArchives: archives)
        try AtomicFile.write(cache.aptConfiguration, to: cache.configFile, mode: 0o644)
        return cache
    }

    /// apt's directories moved to the copy; its binary caches (~40 MiB,
    /// rebuilt from the lists) too, so they stay out of the layer.
    var aptConfiguration: String {
        """
        Dir::State::Lists "\(lists)/";
        Dir::Cache::Archives "\(archives)/";
        Dir::Cache::pkgcache "\(work)/pkgcache.bin";
        Dir::Cache::srcpkgcache "\(work)/srcpkgcache.bin";

        """
    }

    /// Links back what apt fetched (files apt replaced or added; the
    /// others are as the step found them, perhaps older than what another
    /// build published meanwhile), removes the lists apt's update dropped,
    /// and removes the copy. The lists go under the key of the sources as
    /// the step leaves them (a step that adds a repository leaves lists for
    /// the next layer's sources). Failures only cost a later build a download.
    func close() {
        let lists = Self.files(in: lists)
        let key = (try? Self.sourcesDigest(etc: etc)).flatMap { $0 }
        let target = key.map { mount + "/lists/" + $0 } ?? sharedLists
        try? FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        Self.publish(lists.filter { seededLists[$0] == nil || seededLists[$0] != FileIdentity(self.lists + "/" + $0) },
                     from: self.lists, to: target)
        if target == sharedLists {
            for (gone, identity) in seededLists where !lists.contains(gone) && FileIdentity(sharedLists + "/" + gone) == identity {
                unlink(sharedLists + "/" + gone)
            }
        }
        Self.publish(Self.files(in: archives).filter { $0.hasSuffix(".deb") && !seededArchives.contains($0) }, from: archives, to: sharedArchives)
        try? FileManager.default.removeItem(atPath: work)
    }

    /// The lists' key: a digest of apt's sources (`sources.list` and
    /// `sources.list.d`), so images whose sources differ never share (or
    /// clean up) each other's lists, and images with the same sources do
    /// whatever their name. nil without `sources.list` or `sources.list.d`.
    static func sourcesDigest(etc: String) throws -> String? {
        let directory = etc + "/sources.list.d"
        var files = FileOps.isFile(etc + "/sources.list") ? [etc + "/sources.list"] : []
        files += ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
            .filter { $0.hasSuffix(".list") || $0.hasSuffix(".sources") }.map { directory + "/" + $0 }
        guard !files.isEmpty || FileOps.isDirectory(directory) else { return nil }
        var material: [UInt8] = []
        for file in files {
            material += Array(file.utf8) + [0] + ((try? Array(Data(contentsOf: URL(fileURLWithPath: file)))) ?? []) + [0]
        }
        return String(try Hashing.hexDigest(material).prefix(16))
    }

    // MARK: Files

    /// Regular files of a directory (not apt's `lock`, not `partial`).
    static func files(in directory: String) -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return Set(names.filter { $0 != "lock" && isPlainName($0) && FileOps.isFile(directory + "/" + $0) })
    }

    /// Hard-links `names` from one directory into another; the names linked.
    static func link(_ names: Set<String>, from source: String, to target: String) -> Set<String> {
        names.filter { Foundation.link(source + "/" + $0, target + "/" + $0) == 0 }
    }

    /// Puts each file in place in `target` atomically (a link under a
    /// temporary name, renamed over the old one): a build copying `target`
    /// meanwhile sees the old file or the new, never none.
    static func publish(_ names: Set<String>, from source: String, to target: String) {
        for name in names {
            guard let new = FileIdentity(source + "/" + name), FileIdentity(target + "/" + name) != new else { continue }
            let temporary = target + "/.brine-" + UUID().uuidString.lowercased()
            guard Foundation.link(source + "/" + name, temporary) == 0 else { continue }
            if rename(temporary, target + "/" + name) != 0 { unlink(temporary) }
        }
    }

    static func removeStale(in steps: String) {
        let now = Date()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: steps)) ?? [] {
            let path = steps + "/" + name
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                  now.timeIntervalSince(modified) > staleAfter else { continue }
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// A file or key name: no path separators, not `.`/`..`, not hidden.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && !name.contains("/") && name.utf8.count <= 255
    }
}
