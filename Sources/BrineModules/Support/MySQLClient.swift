import BrineCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How Brine talks to MySQL and MariaDB: the `mariadb` (or `mysql`) client
/// program in batch mode, its results read as XML (the one batch format
/// that tells NULL from the text "NULL"). No Swift MySQL client is
/// maintained in the package mirror, and a wire-protocol client of our own
/// would be more code to trust than a program every server ships with.
///
/// - The SQL goes on standard input, never on the command line.
/// - Connection settings, the password included, go in a 0600 option file
///   (`--defaults-file`, first argument), so no ambient `~/.my.cnf` is read:
///   as with Salt's MySQLdb, only `mysql.default_file` is (through
///   `!include`).
/// - Errors keep the server's code: `MySQL Error 1045: Access denied…`, as
///   Salt words them.
public struct MySQLConnection: Sendable {
    public var host: String?
    public var user: String?
    public var password: String?
    public var port: String?
    public var database: String?
    public var unixSocket: String?
    public var defaultFile: String?
    public var charset: String?
    var client: String

    /// Salt's `connection_*` arguments over the `mysql.*` options (a
    /// `connection_default_file` argument turns the options off, except
    /// the charset).
    public init(_ args: Arguments, _ ctx: ExecutionContext) throws {
        func given(_ name: String) -> Value? {
            let value = args.values["connection_" + name] ?? args.extraKeywords["connection_" + name]
            return value?.isNull == false ? value : nil
        }
        let useOptions = given("default_file") == nil
        func setting(_ name: String, always: Bool = false) throws -> String? {
            // given, even empty: it wins (Salt drops empty values afterwards)
            if let given = given(name) { return given == "" || given == false ? nil : given.pythonString }
            guard useOptions || always else { return nil }
            let value = try ctx.call("config.option", [.string("mysql." + name)])
            return value.isNull || value == "" || value == false ? nil : value.pythonString
        }
        host = try setting("host")
        user = try setting("user")
        password = try setting("pass")
        port = try setting("port")
        database = try setting("db")
        unixSocket = try setting("unix_socket")
        defaultFile = try setting("default_file")
        charset = try setting("charset", always: true)
        client = try Self.findClient()
    }

    static func findClient() throws -> String {
        for path in ["/usr/bin/mariadb", "/usr/bin/mysql", "/usr/local/bin/mariadb", "/usr/local/bin/mysql"]
        where FileManager.default.isExecutableFile(atPath: path) { return path }
        throw BrineError(.notAvailable, "No mysql client installed.", hint: "apt-get install mariadb-client")
    }

    /// A failure as Salt reports it (`__context__['mysql.error']`).
    public struct Failure: Error, Sendable {
        public let code: Int?
        public let message: String
        public var text: String { code.map { "MySQL Error \($0): \(message)" } ?? "MySQL Error: \(message)" }
    }

    /// One result set: column names (known when there is a row) and rows,
    /// NULL as nil.
    public struct ResultSet: Sendable, Equatable {
        public var columns: [String] = []
        public var rows: [[String?]] = []
    }

    /// Runs SQL (statements separated by `;`, stopping at the first error);
    /// the result sets of the statements that return rows, in order.
    /// `--binary-mode`: the client runs none of its own commands (`\\!`
    /// would run a shell) from what it reads. Every script first clears
    /// NO_BACKSLASH_ESCAPES, which the literal quoting relies on. `secrets`
    /// (and the connection's password) are cut out of an error's text: the
    /// server quotes the statement near a syntax error.
    public func execute(_ sql: String, database: String? = nil, secrets: [String] = [], _ ctx: ExecutionContext) throws -> Result<[ResultSet], Failure> {
        let script = "SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '');\n" + sql
        let result = try FileOps.withScratchFile(Array(try optionFile().utf8)) { options in
            var argv = [client, "--defaults-file=" + options, "--batch", "--xml", "--skip-auto-rehash", "--binary-mode"]
            if let db = database ?? self.database { argv.append("--database=" + db) }
            return try ctx.runner.run(Command(argv, cwd: "/", environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"], stdin: script))
        }
        guard result.retcode == 0 else {
            var text = result.stderr
            for secret in (secrets + [password ?? ""]).filter({ !$0.isEmpty }) {
                for form in [secret, MySQLQuote.escaped(secret, MySQLQuote.literalEscapes)] { text = text.replacingOccurrences(of: form, with: "<redacted>") }
            }
            return .failure(Self.failure(text))
        }
        return .success(MySQLXML.resultSets(result.stdout))
    }

    /// `ERROR 1045 (28000) at line 1: Access denied…` → code and message.
    static func failure(_ stderr: String) -> Failure {
        let line = stderr.split(separator: "\n").first { $0.hasPrefix("ERROR ") }.map(String.init)
            ?? stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasPrefix("ERROR ") else { return Failure(code: nil, message: line) }
        let rest = line.dropFirst(6)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard let colon = rest.range(of: ": ") else { return Failure(code: Int(digits), message: String(rest)) }
        return Failure(code: Int(digits), message: String(rest[colon.upperBound...]))
    }

    /// The client's option file: our settings, after `mysql.default_file`'s
    /// (it reaches the client as a 0600 scratch file).
    func optionFile() throws -> String {
        var text = ""
        if let defaultFile {
            guard !defaultFile.contains("\n") else { throw BrineError(.arguments, "mysql.default_file may not contain a newline") }
            text += "!include \(defaultFile)\n"
        }
        text += "[client]\n"
        for (key, value) in [("host", host), ("user", user), ("password", password), ("port", port), ("socket", unixSocket),
                             ("default-character-set", charset)] {
            if let value { text += "\(key)=\"\(MySQLQuote.escaped(value, MySQLQuote.optionEscapes))\"\n" }
        }
        return text
    }
}

/// SQL text for MySQL and MariaDB.
public enum MySQLQuote {
    /// A string literal with MySQL's backslash escapes.
    public static func literal(_ text: String) -> String { "'" + escaped(text, literalEscapes) + "'" }

    static let literalEscapes: [Unicode.Scalar: String] = ["\\": "\\\\", "'": "\\'", "\"": "\\\"", "\0": "\\0", "\n": "\\n", "\r": "\\r", "\u{1A}": "\\Z"]
    /// An option file's double-quoted value.
    static let optionEscapes: [Unicode.Scalar: String] = ["\\": "\\\\", "\"": "\\\"", "\n": "\\n", "\r": "\\r", "\t": "\\t"]

    static func escaped(_ text: String, _ table: [Unicode.Scalar: String]) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if let replacement = table[scalar] { out += replacement } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// Salt's `quote_identifier`: backticks doubled; for grants on a whole
    /// database, `_` escaped (a wildcard there).
    public static func identifier(_ name: String, forGrants: Bool = false) -> String {
        var table: [Unicode.Scalar: String] = ["`": "``", "\0": ""]
        if forGrants { table["_"] = "\\_" }
        return "`" + escaped(name, table) + "`"
    }
}

/// The client's `--xml` output: `<resultset>`s of `<row>`s of
/// `<field name="…">text</field>` or `<field name="…" xsi:nil="true" />`.
enum MySQLXML {
    static func resultSets(_ xml: String) -> [MySQLConnection.ResultSet] {
        var sets: [MySQLConnection.ResultSet] = []
        var rest = Substring(xml)
        while let start = rest.range(of: "<resultset") {
            rest = rest[start.upperBound...]
            let end = rest.range(of: "</resultset>")?.lowerBound ?? rest.endIndex
            var body = rest[..<end]
            rest = rest[end...]
            var set = MySQLConnection.ResultSet()
            while let row = body.range(of: "<row>") {
                body = body[row.upperBound...]
                let rowEnd = body.range(of: "</row>")?.lowerBound ?? body.endIndex
                var fields = body[..<rowEnd]
                body = body[rowEnd...]
                var names: [String] = []
                var values: [String?] = []
                while let field = fields.range(of: "<field name=\"") {
                    fields = fields[field.upperBound...]
                    guard let quote = fields.firstIndex(of: "\"") else { break }
                    names.append(unescape(fields[..<quote]))
                    fields = fields[fields.index(after: quote)...]
                    if fields.hasPrefix(" xsi:nil=\"true\" />") {
                        values.append(nil)
                        fields = fields.dropFirst(" xsi:nil=\"true\" />".count)
                    } else if fields.hasPrefix(">"), let close = fields.range(of: "</field>") {
                        values.append(unescape(fields[fields.index(after: fields.startIndex)..<close.lowerBound]))
                        fields = fields[close.upperBound...]
                    } else if fields.hasPrefix(" />") {
                        values.append("")
                        fields = fields.dropFirst(3)
                    } else {
                        values.append(nil)  // unreadable: its place kept, so values stay under their columns
                        break
                    }
                }
                if set.columns.isEmpty { set.columns = names }
                set.rows.append(values)
            }
            sets.append(set)
        }
        return sets
    }

    static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            rest = rest[amp...]
            guard let semi = rest.firstIndex(of: ";"), rest.distance(from: rest.startIndex, to: semi) <= 10 else {
                out += "&"
                rest = rest.dropFirst()
                continue
            }
            let entity = rest[rest.index(after: rest.startIndex)..<semi]
            switch entity {
            case "lt": out += "<"
            case "gt": out += ">"
            case "amp": out += "&"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let number = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16) : entity.hasPrefix("#") ? UInt32(entity.dropFirst()) : nil
                if let number, let scalar = Unicode.Scalar(number) { out.unicodeScalars.append(scalar) } else { out += "&" + entity + ";" }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
