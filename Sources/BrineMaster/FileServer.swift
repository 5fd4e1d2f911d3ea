import BrineCore
import BrineModules
import Foundation

/// `salt://` for minions: files only from `file_roots` (no `..`, no
/// absolute paths, no symlinks leading out: `LocalFileClient` checks).
struct FileServer: Sendable {
    let opts: Config

    /// A file's content as base64; null when there is no such file.
    func file(_ path: String, saltenv: String) -> Value {
        guard let local = try? LocalFileClient(config: opts).cache(path, saltenv: saltenv),
            let data = FileManager.default.contents(atPath: local)
        else { return .null }
        return .string(data.base64EncodedString())
    }

    /// A file's digest: lets a minion keep its cached copy when the content is the same.
    func hash(_ path: String, saltenv: String) -> Value {
        guard let local = try? LocalFileClient(config: opts).cache(path, saltenv: saltenv), let digest = try? Hashing.fileDigest(local) else {
            return .null
        }
        return .string(digest)
    }

    /// Every file of the environment.
    func list(saltenv: String) -> Value {
        .list(((try? LocalFileClient(config: opts).listFiles(saltenv: saltenv)) ?? []).map(Value.string))
    }
}
