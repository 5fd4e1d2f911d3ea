import BrineCore
import BrineModules
import Foundation
import Jinja

/// Salt's filters that hash, draw random values, read the clock or look at
/// the local machine (salt/utils/hashutils.py, dateutils.py, files.py,
/// path.py, user.py), plus its template tests and globals.
extension SaltJinja {
    /// Salt's namespace for the `uuid` filter (`uuid5` of the value's text).
    static let uuidNamespace = UUID(uuidString: "91633EBF-1C86-5E33-935A-28061F4B480E") ?? UUID()

    static let systemFilters: [String: Filter] = [
        "sha1": { value, _, _ in .string(try Hashing.hexDigest(Array(try string(value).utf8), algorithm: "sha1")) },
        "hmac": { value, args, _ in
            let key = try string(arg(args, 0, "shared_secret") ?? .string(""))
            let challenge = try string(arg(args, 1, "challenge_hmac") ?? .string(""))
            let digest = Hashing.hmacSHA256(key: Array(key.utf8), message: Array(try string(value).utf8))
            return .bool(Data(digest).base64EncodedString() == challenge)
        },
        "hmac_compute": { value, args, _ in
            let key = try string(arg(args, 0, "shared_secret") ?? .string(""))
            let digest = Hashing.hmacSHA256(key: Array(key.utf8), message: Array(try string(value).utf8))
            return .string(ASCIIText.hex(digest))
        },
        "uuid": { value, _, _ in .string(Hashing.uuid5(namespace: uuidNamespace, name: try string(value)).uuidString.lowercased()) },
        "random_hash": { value, args, _ in try randomHash(value, args) },
        "rand_str": { value, args, _ in try randomHash(value, args) },
        "random_str": { value, _, _ in
            let size = value.isNone || value.isUndefined ? 32 : (try int(value) ?? 32)
            guard (0...1 << 20).contains(size) else { throw JinjaError(.valueError, "random_str: size must be between 0 and 1048576") }
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255) }
            return .string(String(Data(bytes).base64EncodedString().prefix(size)))
        },
        "random_sample": { value, args, c in
            let population = try items(value, c)
            guard let size = try int(arg(args, 0, "size")), (0...population.count).contains(size) else {
                throw JinjaError(.valueError, "Sample larger than population or is negative")
            }
            return .list(ListBox(try seeded(arg(args, 1, "seed")).map { var r = $0; return r.sample(population, size) }
                ?? Array(population.shuffled().prefix(size))))
        },
        "random_shuffle": { value, args, c in
            let population = try items(value, c)
            return .list(ListBox(try seeded(arg(args, 0, "seed")).map { var r = $0; return r.sample(population, population.count) }
                ?? population.shuffled()))
        },
        "strftime": { value, args, _ in try formatDate(value, args) },
        "date_format": { value, args, _ in try formatDate(value, args) },
        "file_hashsum": { value, args, _ in
            let form = try arg(args, 0, "form").map(string) ?? "sha256"
            do { return .string(try Hashing.fileDigest(try string(value), algorithm: form)) } catch {
                throw JinjaError(.templateRuntimeError, "\(error)")
            }
        },
        "is_text_file": { value, _, _ in
            guard let block = readStart(try string(value), 512) else { return .bool(false) }
            return .bool(!looksBinary(block))
        },
        "is_bin_file": { value, _, _ in
            let path = try string(value)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let block = readStart(path, 2048) else { return .bool(false) }
            return .bool(looksBinary(block))
        },
        "is_empty": { value, _, _ in
            guard case .string = value else {
                throw JinjaError(.typeError, "stat: path should be string, bytes, os.PathLike or integer, not \(value.typeName)")
            }
            var info = stat()
            return .bool(stat(try string(value), &info) == 0 && info.st_size == 0)
        },
        "list_files": { value, _, _ in
            let root = try string(value)
            var found: Set<String> = [root]
            if let walker = FileManager.default.enumerator(atPath: root) {
                for case let relative as String in walker { found.insert(FileOps.join([root, relative])) }
            }
            return .list(ListBox(found.sorted().map(Jinja.Value.string)))
        },
        "which": { value, _, _ in
            let name = try string(value)
            guard !name.isEmpty else { return .none }
            return CmdModule.which(name).map(Jinja.Value.string) ?? .none
        },
        "get_uid": { value, _, _ in
            guard !value.isNone, !value.isUndefined else { return .int(Int(geteuid())) }
            guard let entry = getpwnam(try string(value)) else { return .none }
            return .int(Int(entry.pointee.pw_uid))
        },
        "http_query": { _, _, _ in
            throw JinjaError(.templateRuntimeError, "http_query is not allowed in Brine templates: a template does not make HTTP requests")
        },
    ]

    /// `random_hash(size=9999999999, hash_type='md5')`: the hash of a random
    /// number up to `size` (the filter's value).
    static func randomHash(_ value: Jinja.Value, _ args: Jinja.Arguments) throws -> Jinja.Value {
        let size = value.isNone || value.isUndefined ? 9_999_999_999 : (try int(value) ?? 9_999_999_999)
        guard size >= 0 else { throw JinjaError(.valueError, "empty range for randrange() (0, \(size + 1), \(size + 1))") }
        let algorithm = try arg(args, 0, "hash_type").map(string) ?? "md5"
        do {
            return .string(try Hashing.hexDigest(Array(String(Int.random(in: 0...size)).utf8), algorithm: algorithm))
        } catch {
            throw JinjaError(.attributeError, "module 'hashlib' has no attribute '\(algorithm)'")
        }
    }

    /// Salt seeds Python's `random.Random` with the SHA-512 hex digest of
    /// the seed (its `salt.utils.data.hash` shadows Python's `hash`), so a
    /// text seed gives Salt's exact order. Salt 3008 fails on a number seed
    /// (it hashes only text); Brine hashes the number's text.
    static func seeded(_ seed: Jinja.Value?) throws -> PythonRandom? {
        switch seed {
        case nil, .none?, .undefined?: return nil
        case let value?:
            let digest = try Hashing.hexDigest(Array(try string(value).utf8), algorithm: "sha512")
            return PythonRandom(seed: digest)
        }
    }

    /// `strftime(date=None, format='%Y-%m-%d')`: a timestamp (number or
    /// digits), an ISO-like date text, or now when None.
    static func formatDate(_ value: Jinja.Value, _ args: Jinja.Arguments) throws -> Jinja.Value {
        let format = try arg(args, 0, "format").map(string) ?? "%Y-%m-%d"
        switch value {
        case .none, .undefined: return .string(LocalTime.format(format, time(nil)))
        case .int(let i): return .string(LocalTime.format(format, time_t(i)))
        case .float(let d) where d.isFinite && d.magnitude < 1e15: return .string(LocalTime.format(format, time_t(d.rounded(.down))))
        case .string(let text), .markup(let text):
            if let seconds = Double(text), seconds.isFinite, seconds.magnitude < 1e15 {
                return .string(LocalTime.format(format, time_t(seconds.rounded(.down))))
            }
            guard let parts = dateParts(text) else { throw JinjaError(.valueError, "Unable to parse \(text)") }
            return .string(LocalTime.format(format, year: parts[0], month: parts[1], day: parts[2],
                                             hour: parts[3], minute: parts[4], second: parts[5]))
        default: throw JinjaError(.valueError, "Unable to parse \(try value.str())")
        }
    }

    /// `YYYY-MM-DD`, optionally followed by ` HH:MM[:SS]` or `THH:MM[:SS]`.
    static func dateParts(_ text: String) -> [Int]? {
        let fields = text.trimmingCharacters(in: .whitespaces).split(whereSeparator: { "-: T".contains($0) }).map { Int($0) }
        guard fields.count >= 3, fields.count <= 6, fields.allSatisfy({ $0 != nil }) else { return nil }
        var parts = fields.compactMap { $0 } + Array(repeating: 0, count: 6 - fields.count)
        guard (1...12).contains(parts[1]), (1...31).contains(parts[2]), parts[3] < 24, parts[4] < 60, parts[5] < 62 else { return nil }
        parts[0] = max(1, parts[0])
        return parts
    }

    static func readStart(_ path: String, _ count: Int) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: count)).map { Array($0) } ?? []
    }

    /// Salt's `stringutils.is_binary`: a NUL byte, or text that is not
    /// UTF-8 with more than 30% of bytes outside printable text.
    static func looksBinary(_ block: [UInt8]) -> Bool {
        if block.isEmpty { return false }
        if block.contains(0) { return true }
        if String(validating: block, as: UTF8.self) != nil { return false }
        let text = Set<UInt8>([7, 8, 9, 10, 12, 13, 27] + Array(32...126))
        let odd = block.filter { !text.contains($0) }.count
        return Double(odd) / Double(block.count) > 0.3
    }

    // MARK: - Tests and globals

    static let tests: [String: TestFunction] = [
        "match": { value, args, _ in
            let pattern = try string(arg(args, 0, "rgx") ?? .string(""))
            let regex = try PyRegex(pattern, flags: .int(regexOptions(args, from: 1)))
            let text = try string(value)
            return regex.regex.firstMatch(in: text, options: [.anchored], range: NSRange(text.startIndex..., in: text)) != nil
        },
    ]

    static let globalFunctions: [String: Jinja.Value] = [
        "raise": .function(Function("raise") { args, _ in
            throw JinjaError(.templateRuntimeError, try string(args.get(0, "msg") ?? .string("")))
        }),
        // Salt's debugging global: what the template sees, data as it is
        // and everything else (functions, objects) by its repr.
        "show_full_context": .function(Function("show_full_context") { _, c in
            .dict(DictBox(try c.visibleVariables.map { (.string($0.0), try simpleTypes($0.1, depth: 0)) }))
        }),
        "ifelse": .function(Function("ifelse") { args, c in
            let salt = c.resolve("salt")
            guard case .object(let functions) = salt, let ifelse = try functions.attribute("match", c)
                .flatMap({ module -> Jinja.Value? in
                    guard case .object(let proxy) = module else { return nil }
                    return try proxy.attribute("ifelse", c)
                })
            else { throw JinjaError(.templateRuntimeError, "ifelse needs the salt functions in the template") }
            return try c.call(ifelse, args)
        }),
    ]

    /// Salt's `simple_types_filter`: data kept, other values as their repr.
    static func simpleTypes(_ value: Jinja.Value, depth: Int) throws -> Jinja.Value {
        guard depth < 64 else { return .string("...") }
        switch value {
        case .none, .bool, .int, .float, .string: return value
        case .markup(let s): return .string(s)
        case .list(let l): return .list(ListBox(try l.items.map { try simpleTypes($0, depth: depth + 1) }))
        case .tuple(let t): return .list(ListBox(try t.map { try simpleTypes($0, depth: depth + 1) }))
        case .dict(let d): return .dict(DictBox(try d.pairs.map { ($0.0, try simpleTypes($0.1, depth: depth + 1)) }))
        case .undefined: return .string("Undefined")
        default: return .string((try? value.repr()) ?? value.typeName)
        }
    }
}
