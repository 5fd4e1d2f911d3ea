import BrineCore
import Foundation

/// Salt's `file.tidied`: remove what a directory holds that matches
/// (`matches`, Python regexes at the start of the name, `exclude`) and is
/// old enough (`age` days, by atime/mtime/ctime) or large enough (`size`),
/// deepest first; directories only with `rmdirs`, links unless `rmlinks`
/// is false.
enum FileTidiedState {
    static let parameters: [Parameter] = [Parameter("age", default: 0), Parameter("matches", default: .null), Parameter("rmdirs", default: false),
                                          Parameter("size", default: 0), Parameter("exclude", default: .null), Parameter("full_path_match", default: false),
                                          Parameter("followlinks", default: false), Parameter("time_comparison", default: "atime"),
                                          Parameter("age_size_logical_operator", default: "OR"), Parameter("age_size_only", default: .null),
                                          Parameter("rmlinks", default: true)]

    static func tidied(_ call: StateCall) throws -> StateResult {
        let name = FileOps.expandUser(call.name)
        guard name.hasPrefix("/") else { return .failed(name, "Specified file \(name) is not an absolute path") }
        guard FileOps.isDirectory(name) else { return .failed(name, "\(name) does not exist or is not a directory.") }
        // a number of days (a fraction counts as Salt compares it), a size as bytes or `10M`
        guard let age = call["age"].isNull ? 0 : (call["age"].intValue.map(Double.init) ?? call["age"].doubleValue) else {
            return .failed(name, "age must be a number of days, not \(call["age"].pythonRepr)")
        }
        let size: Double
        switch call["size"] {
        case .null: size = 0
        case .string(let text):
            guard text.first?.isNumber == true else { return .failed(name, "size must be a number of bytes or a size such as 10M, not '\(text)'") }
            size = Double(HumanSize.bytes(text, metric: true))
        default:
            guard let number = call["size"].intValue.map(Double.init) ?? call["size"].doubleValue else {
                return .failed(name, "size must be a number of bytes or a size such as 10M, not \(call["size"].pythonRepr)")
            }
            size = number
        }
        let operatorAnd = call.string("age_size_logical_operator")?.uppercased() == "AND"
        let only = call.string("age_size_only")?.lowercased()
        let comparison = call.string("time_comparison")?.lowercased() ?? "atime"
        func patterns(_ value: Value, _ fallback: [String]) -> [String] {
            value.isNull ? fallback : value.listValue?.map(\.pythonString) ?? [value.pythonString]
        }
        let matches = try patterns(call["matches"], [".*"]).map { try PyRegex($0, flags: .int(0)) }
        let excludes = try patterns(call["exclude"], []).map { try PyRegex($0, flags: .int(0)) }
        // with followlinks, a directory is entered once, and only under NAME
        let realRoot = FileOps.realPath(name)
        var visited = Set<[UInt64]>()
        func matched(_ text: String) -> Bool {
            func starts(_ r: PyRegex) -> Bool { r.regex.firstMatch(in: text, options: .anchored, range: NSRange(text.startIndex..., in: text)) != nil }
            return matches.contains(where: starts) && !excludes.contains(where: starts)
        }
        let today = LocalDay.today()
        var remove: [String] = []
        func walk(_ dir: String, depth: Int) {
            guard depth < 256, let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
            var files: [String] = [], dirs: [String] = []
            for entry in entries {
                var st = stat()
                let path = dir + "/" + entry
                guard lstat(path, &st) == 0 else { continue }
                if st.st_mode & S_IFMT == S_IFDIR || (call["followlinks"].asFlag && FileOps.isDirectory(path) && st.st_mode & S_IFMT == S_IFLNK) {
                    dirs.append(entry)
                } else {
                    files.append(entry)
                }
            }
            for sub in dirs {
                let path = dir + "/" + sub
                var st = stat()
                guard stat(path, &st) == 0, visited.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted else { continue }
                let real = FileOps.realPath(path)
                guard real == realRoot || real.hasPrefix(realRoot.hasSuffix("/") ? realRoot : realRoot + "/") else { continue }
                walk(path, depth: depth + 1)
            }
            for entry in files + dirs {
                let path = dir + "/" + entry
                var st = stat()
                guard lstat(path, &st) == 0 else { continue }
                var delete = true
                var fileSize = 0
                if st.st_mode & S_IFMT == S_IFLNK {
                    delete = call["rmlinks"].asFlag
                } else if st.st_mode & S_IFMT == S_IFDIR {
                    delete = call["rmdirs"].asFlag
                } else {
                    fileSize = Int(st.st_size)
                }
                let stamp = comparison == "ctime" ? st.st_ctim.tv_sec : comparison == "mtime" ? st.st_mtim.tv_sec : st.st_atim.tv_sec
                let days = Double(abs(today - LocalDay.day(of: stamp)))
                let bytes = Double(fileSize)
                let bigOrOld: Bool
                switch only {
                case "age": bigOrOld = days >= age
                case "size": bigOrOld = bytes >= size
                default: bigOrOld = operatorAnd ? (bytes >= size && days >= age) : (bytes >= size || days >= age)
                }
                if bigOrOld && delete && matched(call["full_path_match"].asFlag ? path : entry) { remove.append(path) }
            }
        }
        walk(name, depth: 0)
        guard !remove.isEmpty else { return StateResult(name: name, result: true, comment: "Nothing to remove from directory \(name)") }
        if call.test {
            return StateResult(name: name, result: nil, changes: ["removed": .list(remove.map(Value.string))], comment: "\(name) is set for tidy")
        }
        var removed: [Value] = []
        for path in remove {
            do { try FileManager.default.removeItem(atPath: path) } catch {
                return StateResult(name: name, result: false, changes: ["removed": .list(removed)], comment: "Could not remove \(path): \(error.localizedDescription)")
            }
            removed.append(.string(path))
        }
        return StateResult(name: name, result: true, changes: ["removed": .list(removed)],
                           comment: "Removed \(remove.count) files or directories from directory \(name)")
    }
}

/// Local calendar days, as Python's `date.fromtimestamp` and `date.today()`.
enum LocalDay {
    static func day(of seconds: time_t) -> Int {
        var t = seconds
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return Int(seconds / 86400) }
        // days since 1970-01-01 of that local date (Howard Hinnant's days_from_civil)
        let y = Int(parts.tm_year) + 1900 - (parts.tm_mon < 2 ? 1 : 0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int(parts.tm_mon) + 1
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int(parts.tm_mday) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func today() -> Int { day(of: time(nil)) }
}

/// Salt's `file.decode`: a file holding base64-decoded data (from
/// `encoded_data` or a pillar key), replaced when its checksum differs.
enum FileDecodeState {
    static let parameters: [Parameter] = [Parameter("encoded_data", default: .null), Parameter("contents_pillar", default: .null),
                                          Parameter("encoding_type", default: "base64"), Parameter("checksum", default: "md5")]

    static func decode(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let encoded: String
        switch (call.string("encoded_data"), call.string("contents_pillar")) {
        case (nil, nil): throw BrineError(.arguments, "Specify either the 'encoded_data' or 'contents_pillar' argument.")
        case (.some, .some): throw BrineError(.arguments, "Specify only one 'encoded_data' or 'contents_pillar' argument.")
        case (let data?, nil): encoded = data
        case (nil, let key?):
            let value = try call.call("pillar.get", [.string(key), false], ["unmask": true])
            guard value != false else { throw BrineError(.execution, "Pillar data not found.") }
            encoded = value.pythonString
        }
        guard let bytes = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
            return .failed(name, "Invalid base64 data")
        }
        let algorithm = call.string("checksum") ?? "md5"
        let wanted = try Hashing.hexDigest(Array(bytes), algorithm: algorithm)
        var changes: [String: Value] = [:]
        if FileOps.isFile(name) {
            let have = try Hashing.fileDigest(name, algorithm: algorithm)
            if have == wanted { return StateResult(name: name, result: true, comment: "File is in the correct state.") }
            changes = ["old": .string(have), "new": .string(wanted)]
        }
        if call.test { return StateResult(name: name, result: nil, comment: "File is set to be updated.") }
        try AtomicFile.write(Array(bytes), to: name)
        if changes.isEmpty { changes = ["old": .null, "new": .string(wanted)] }
        return StateResult(name: name, result: true, changes: ["old": changes["old"] ?? .null, "new": changes["new"] ?? .null], comment: "File was updated.")
    }
}
