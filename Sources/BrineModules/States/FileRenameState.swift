import BrineCore
import Foundation

/// Salt's `file.rename`: move `source` to `name` unless it has moved
/// already (or `name` exists and `force` is not set).
enum FileRenameState {
    static let parameters: [Parameter] = [Parameter("source"), Parameter("force", default: false), Parameter("makedirs", default: false)]

    static func rename(_ call: StateCall) throws -> StateResult {
        let name = FileOps.expandUser(call.name), source = FileOps.expandUser(call.string("source") ?? "")
        guard !name.isEmpty else { return .failed(name, "Must provide name to file.rename") }
        guard name.hasPrefix("/") else { return .failed(name, "Specified file \(name) is not an absolute path") }
        guard FileOps.exists(source) || FileOps.isLink(source) else {
            return StateResult(name: name, comment: "Source file \"\(source)\" has already been moved out of place")
        }
        if FileOps.exists(name) || FileOps.isLink(name) {
            guard call.bool("force") else { return StateResult(name: name, comment: "The target file \"\(name)\" exists and will not be overwritten") }
            if !call.test {
                do { try FileManager.default.removeItem(atPath: name) } catch {
                    return .failed(name, "Failed to delete \"\(name)\" in preparation for forced move")
                }
            }
        }
        if call.test { return StateResult(name: name, result: nil, comment: "File \"\(source)\" is set to be moved to \"\(name)\"") }
        let parent = FileOps.dirname(name)
        if !FileOps.isDirectory(parent) {
            guard call.bool("makedirs") else { return .failed(name, "The target directory \(parent) is not present") }
            _ = try FileOps.makeDirectories(parent)
        }
        // rename(2) moves a link as a link; across file systems, copy then remove.
        if Glibc.rename(source, name) != 0 {
            // Only across file systems: any other failure (a directory into itself…) is an error, as shutil.move's.
            guard errno == EXDEV else { return .failed(name, "Failed to move \"\(source)\" to \"\(name)\"") }
            do {
                try FileManager.default.copyItem(atPath: source, toPath: name)
                try FileManager.default.removeItem(atPath: source)
            } catch {
                return .failed(name, "Failed to move \"\(source)\" to \"\(name)\"")
            }
        }
        return StateResult(name: name, changes: [name: .string(source)], comment: "Moved \"\(source)\" to \"\(name)\"")
    }
}
