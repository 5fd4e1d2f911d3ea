import BrineCore
import Crypto
import Foundation

/// A digest of what a master serves: every file under `file_roots` and
/// `pillar_roots` (environment, relative path, content). The masters of a
/// cluster compile from their own trees, so they record this and warn when
/// theirs differ. Bounded: at most 100,000 files are read (a larger tree
/// digests its first ones, in name order), symlinks are not followed.
enum TreeDigest {
    static let maximumFiles = 100_000

    static func of(_ opts: Config) -> String {
        var hasher = SHA256()
        var counted = 0
        for key in ["file_roots", "pillar_roots"] {
            for (environment, directories) in opts.roots(key) {
                for directory in directories {
                    guard let names = FileManager.default.subpaths(atPath: directory) else { continue }
                    for name in names.sorted() where counted < maximumFiles {
                        let path = directory + "/" + name
                        var info = stat()
                        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, let data = FileManager.default.contents(atPath: path) else {
                            continue
                        }
                        counted += 1
                        hasher.update(data: Array("\(key)\0\(environment)\0\(name)\0\(data.count)\0".utf8))
                        hasher.update(data: data)
                    }
                }
            }
        }
        return ASCIIText.hex(hasher.finalize())
    }
}
