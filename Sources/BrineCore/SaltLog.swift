import Foundation
import Logging
import Synchronization

/// Salt's log levels, with Salt's numbers: `-l`/`--log-level`,
/// `log_level` and `log_level_logfile` take these names.
public enum SaltLogLevel: Int, Sendable, Comparable, CaseIterable {
    case all = 0, garbage = 1, trace = 5, debug = 10, profile = 15, info = 20, warning = 30, error = 40, critical = 50, quiet = 1000

    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = level
    }

    /// Salt's name for the level. Spelled out: interpolating an enum case
    /// goes through reflection, which cost every `brine call` ~0.5 ms.
    public var name: String {
        switch self {
        case .all: "all"
        case .garbage: "garbage"
        case .trace: "trace"
        case .debug: "debug"
        case .profile: "profile"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        case .quiet: "quiet"
        }
    }

    public static func < (a: SaltLogLevel, b: SaltLogLevel) -> Bool { a.rawValue < b.rawValue }

    /// The name in a record (`%(levelname)s`).
    public var recordName: String { name.uppercased() }

    init(_ level: Logger.Level) {
        switch level {
        case .trace: self = .trace
        case .debug: self = .debug
        case .info, .notice: self = .info
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }

    /// The swift-log level a record at this level is made with, and the
    /// lowest one this threshold lets through.
    public var loggerLevel: Logger.Level {
        switch self {
        case .all, .garbage, .trace: return .trace
        case .debug: return .debug
        case .profile, .info: return .info
        case .warning: return .warning
        case .error: return .error
        case .critical, .quiet: return .critical
        }
    }
}

/// Where a command's log goes, as Salt's logging setup decides it: the
/// console (stderr) at `-l`/`log_level` in `log_fmt_console`, and
/// `log_file` at `log_level_logfile` in `log_fmt_logfile`.
///
/// Log records come from swift-log `Logger`s made with `Logger.brine(_:)`
/// (labels such as `brine.cmd`); their handler (`SaltLogHandler`) asks this
/// one configuration. It is process-wide because logging is: a command sets
/// it once it has read its config (records before that follow Salt's
/// defaults: warnings on the console). Brine does not bootstrap swift-log's
/// global system, so libraries and tests keep their own handlers.
public final class SaltLog: Sendable {
    public struct Settings: Sendable {
        public var console: SaltLogLevel = .warning
        public var consoleFormat = "[%(levelname)-8s] %(message)s"
        public var consoleDateFormat = "%H:%M:%S"
        public var file: String?
        public var fileLevel: SaltLogLevel = .warning
        public var fileFormat = "%(asctime)s,%(msecs)03d [%(name)-17s:%(lineno)-4d][%(levelname)-8s][%(process)d] %(message)s"
        public var fileDateFormat = "%Y-%m-%d %H:%M:%S"

        public init() {}

        /// From a loaded config; `consoleLevel` is the command line's `-l`.
        public init(_ config: Config, consoleLevel: String? = nil) {
            console = SaltLogLevel(name: consoleLevel ?? config.string("log_level") ?? "warning") ?? .warning
            consoleFormat = config.string("log_fmt_console") ?? consoleFormat
            consoleDateFormat = config.string("log_datefmt") ?? consoleDateFormat
            file = config.string("log_file").flatMap { $0.isEmpty ? nil : $0 }
            fileLevel = SaltLogLevel(name: config.string("log_level_logfile") ?? "") ?? console
            fileFormat = config.string("log_fmt_logfile") ?? fileFormat
            fileDateFormat = config.string("log_datefmt_logfile") ?? fileDateFormat
        }

        /// The lowest level either output takes (records below it are not
        /// even formatted).
        var threshold: SaltLogLevel { file == nil ? console : min(console, fileLevel) }
    }

    struct Record {
        let level: SaltLogLevel, label: String, message: String, line: UInt, date: Date
    }

    struct State {
        var settings = Settings()
        /// The open log file; nil until the first record for it.
        var descriptor: Int32?
        var fileFailed = false
        /// Records made before the config was read (it names the log
        /// file): written to the file once it is known, as Salt does.
        var early: [Record]? = []
    }

    public static let shared = SaltLog()
    private let state = Mutex(State())

    /// The settings from the config: records kept since the start go to
    /// the log file now.
    public func configure(_ settings: Settings) {
        state.withLock { state in
            if state.settings.file != settings.file, let fd = state.descriptor {
                close(fd)
                state.descriptor = nil
                state.fileFailed = false
            }
            state.settings = settings
            let early = state.early ?? []
            state.early = nil
            for record in early { Self.writeToFile(record, &state) }
        }
    }

    /// Before the config is read: the console at the command line's `-l`.
    public func configureConsole(_ level: SaltLogLevel) {
        state.withLock { $0.settings.console = level }
    }

    public var settings: Settings { state.withLock { $0.settings } }

    /// Until the config is read every record is made (it may be wanted in
    /// the log file); after, only what the settings let through.
    var threshold: Logger.Level { state.withLock { $0.early == nil ? $0.settings.threshold.loggerLevel : .trace } }

    static let earlyLimit = 1000

    func emit(_ level: SaltLogLevel, label: String, message: String, line: UInt) {
        let record = Record(level: level, label: label, message: message, line: line, date: Date())
        var consoleLine: String?
        var fileLine: (descriptor: Int32, text: String)?
        state.withLock { state in
            let settings = state.settings
            if level >= settings.console && settings.console != .quiet {
                consoleLine = Self.format(settings.consoleFormat, settings.consoleDateFormat, record)
            }
            if state.early != nil {
                if (state.early?.count ?? 0) < Self.earlyLimit { state.early?.append(record) }
                return
            }
            fileLine = Self.fileLine(record, &state)
        }
        // Written outside the lock (one O_APPEND write per line keeps lines
        // whole); the descriptor changes only when a command configures its
        // logging, before its work starts.
        if let (fd, text) = fileLine { _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) } }
        if let consoleLine { FileHandle.standardError.write(Data((consoleLine + "\n").utf8)) }
    }

    static func writeToFile(_ record: Record, _ state: inout State) {
        guard let (fd, text) = fileLine(record, &state) else { return }
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
    }

    /// The open log file and the record's line for it, or nil when the
    /// record does not go to a file.
    static func fileLine(_ record: Record, _ state: inout State) -> (Int32, String)? {
        let settings = state.settings
        guard let path = settings.file, record.level >= settings.fileLevel, settings.fileLevel != .quiet, !state.fileFailed else { return nil }
        if state.descriptor == nil {
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            if fd < 0 {
                state.fileFailed = true
                FileHandle.standardError.write(Data("[WARNING ] Failed to open log file, do you have permission to write to \(path)?\n".utf8))
                return nil
            }
            state.descriptor = fd
        }
        guard let fd = state.descriptor else { return nil }
        return (fd, format(settings.fileFormat, settings.fileDateFormat, record) + "\n")
    }

    /// Python's `%(name)-8s` record formatting, for the fields Salt's
    /// formats use: asctime, msecs, name, lineno, levelname, process,
    /// message (and `%%`).
    static func format(_ template: String, _ dateFormat: String, _ record: Record) -> String {
        let (level, label, message, line, now) = (record.level, record.label, record.message, record.line, record.date)
        var out = ""
        var rest = Substring(template)
        while let percent = rest.firstIndex(of: "%") {
            out += rest[..<percent]
            rest = rest[rest.index(after: percent)...]
            if rest.first == "%" { out += "%"; rest = rest.dropFirst(); continue }
            guard rest.first == "(", let close = rest.firstIndex(of: ")") else { out += "%"; continue }
            let key = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
            let spec = rest.prefix { "-0123456789.".contains($0) }
            rest = rest.dropFirst(spec.count)
            guard let kind = rest.first else { break }
            rest = rest.dropFirst()
            let value: String
            switch key {
            case "asctime": value = LocalTime.format(dateFormat, time_t(now.timeIntervalSince1970))
            case "msecs": value = String(Int(now.timeIntervalSince1970 * 1000) % 1000)
            case "name": value = label
            case "lineno": value = String(line)
            case "levelname", "colorlevel": value = level.recordName
            case "levelno": value = String(level.rawValue)
            case "process": value = String(getpid())
            case "message", "colormsg": value = message
            default: value = ""
            }
            out += pad(value, spec: spec, numeric: kind == "d")
        }
        return out + rest
    }

    static func pad(_ value: String, spec: Substring, numeric: Bool) -> String {
        let left = spec.hasPrefix("-")
        let zero = !left && spec.hasPrefix("0")
        let width = min(Int(spec.drop { $0 == "-" || $0 == "0" }.prefix { $0 != "." }) ?? 0, 4096)
        guard value.count < width else { return value }
        let fill = String(repeating: zero && numeric ? "0" : " ", count: width - value.count)
        return left ? value + fill : fill + value
    }
}

/// swift-log's handler for Brine: every record goes to `SaltLog`.
public struct SaltLogHandler: LogHandler {
    let label: String
    public var metadata: Logger.Metadata = [:]

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Read from the configuration each time: loggers made before the
    /// command read its config follow it once it has.
    public var logLevel: Logger.Level {
        get { SaltLog.shared.threshold }
        set {}
    }

    public func log(event: LogEvent) {
        SaltLog.shared.emit(SaltLogLevel(event.level), label: label, message: event.message.description, line: event.line)
    }
}

extension Logger {
    /// A logger whose records go where Salt's settings say (`SaltLog`).
    public static func brine(_ label: String) -> Logger {
        Logger(label: label, factory: { SaltLogHandler(label: $0) })
    }
}

extension Config {
    /// Starts the command's logging from this config (`consoleLevel`: the
    /// command line's `-l`), then logs the config's own warnings.
    public func startLogging(consoleLevel: String?) {
        SaltLog.shared.configure(SaltLog.Settings(self, consoleLevel: consoleLevel))
        let logger = Logger.brine("brine.config")
        for warning in warnings { logger.warning("\(warning)") }
    }
}
