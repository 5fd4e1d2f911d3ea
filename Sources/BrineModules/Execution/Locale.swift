import BrineCore
import Foundation

/// Salt's `locale` execution module (`localemod`) for Debian: the system
/// locale in `/etc/default/locale` (`localectl` when systemd runs), locales
/// generated from `/etc/locale.gen` with `locale-gen`.
public enum LocaleModule: ExecutionModule {
    public static let name = "locale"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("list_avail", doc: "The generated locales (locale -a).") { _, ctx in
            .list(try available(ctx).map(Value.string))
        },
        ExecutionFunction("get_locale", doc: "The system's LANG.") { _, ctx in
            .string(try systemLocale(ctx))
        },
        ExecutionFunction("set_locale", doc: "Set the system's LANG.", [Parameter("locale")]) { a, ctx in
            try setSystemLocale(a.string("locale") ?? "", ctx)
            return true
        },
        ExecutionFunction("avail", doc: "Whether LOCALE is generated (names compared as locale -a writes them).", [Parameter("locale")]) { a, ctx in
            .bool(try isAvailable(a.string("locale") ?? "", ctx))
        },
        ExecutionFunction("gen_locale", doc: "Generate a locale listed in /usr/share/i18n/SUPPORTED (e.g. 'en_US.UTF-8 UTF-8').",
                          [Parameter("locale")], kwargs: true) { a, ctx in
            .bool(try generate(a.string("locale") ?? "", ctx))
        },
    ]

    /// `language[_territory][.codeset][@modifier] [charmap]`, as Salt's `split_locale` reads it.
    struct Name: Equatable {
        var language = "", territory = "", codeset = "", modifier = "", charmap = ""

        init(_ text: String) {
            func split(_ s: String, _ c: Character) -> (String, String) {
                guard let i = s.firstIndex(of: c) else { return (s, "") }
                return (String(s[..<i]), String(s[s.index(after: i)...]))
            }
            var rest: String
            (rest, charmap) = split(text, " ")
            (rest, modifier) = split(rest, "@")
            (rest, codeset) = split(rest, ".")
            (language, territory) = split(rest, "_")
        }

        var joined: String {
            var s = language
            if !territory.isEmpty { s += "_" + territory }
            if !codeset.isEmpty { s += "." + codeset }
            if !modifier.isEmpty { s += "@" + modifier }
            if !charmap.isEmpty { s += " " + charmap }
            return s
        }

        /// As `locale -a` writes it: `en_US.utf8`.
        var normalized: String {
            var n = self
            n.territory = territory.uppercased()
            n.codeset = codeset.lowercased().replacingOccurrences(of: "-", with: "")
            n.charmap = ""
            return n.joined
        }
    }

    static func available(_ ctx: ExecutionContext) throws -> [String] {
        try CmdModule.runSystem(["locale", "-a"], ctx).stdout.split(separator: "\n").map(String.init)
    }

    static func isAvailable(_ locale: String, _ ctx: ExecutionContext) throws -> Bool {
        let wanted = Name(locale).normalized
        return try available(ctx).contains { Name($0.trimmingCharacters(in: .whitespaces)).normalized == wanted }
    }

    static var useLocalectl: Bool { ServiceModule.usesSystemd && CmdModule.which("localectl") != nil }

    /// localectl's `System Locale: LANG=…` lines, key by key.
    static func localectlSystemLocale(_ ctx: ExecutionContext) throws -> [(String, String)] {
        let result = try CmdModule.runSystem(["localectl", "status"], ctx)
        guard result.retcode == 0 else { throw BrineError(.execution, "localectl failed: \(result.stderr)") }
        var found: [(String, String)] = []
        var inSystemLocale = false
        for line in result.stdout.split(separator: "\n") {
            var data = line.trimmingCharacters(in: .whitespaces)
            if let colon = line.range(of: ": ") {
                inSystemLocale = line[..<colon.lowerBound].trimmingCharacters(in: .whitespaces).lowercased() == "system locale"
                data = String(line[colon.upperBound...]).trimmingCharacters(in: .whitespaces)
            }
            let pair = data.split(separator: "=", maxSplits: 1).map(String.init)
            if inSystemLocale, pair.count == 2 { found.append((pair[0], pair[1])) }
        }
        return found
    }

    static func systemLocale(_ ctx: ExecutionContext) throws -> String {
        if useLocalectl { return try localectlSystemLocale(ctx).first { $0.0 == "LANG" }?.1 ?? "" }
        // Salt: `grep "^LANG=" /etc/default/locale`, the first line's value without quotes.
        guard let text = try? FileOps.readText("/etc/default/locale"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("LANG=") })
        else { return "" }
        return line.split(separator: "=", omittingEmptySubsequences: false)[1].replacingOccurrences(of: "\"", with: "")
    }

    static func setSystemLocale(_ locale: String, _ ctx: ExecutionContext) throws {
        guard !locale.contains("\n"), !locale.contains("\"") else {
            throw BrineError(.execution, "Cannot set locale: '\(locale)' is not a locale name")
        }
        // Salt 3008: from Debian 13 on, update-locale, not localectl (login sessions read /etc/default/locale).
        let grains = try ctx.grains()
        let debian13 = grains["os_family"]?.stringValue == "Debian" && (grains["osmajorrelease"]?.intValue ?? 0) >= 13
        if useLocalectl && !debian13 {
            var settings = (try? localectlSystemLocale(ctx)) ?? []
            settings.removeAll { $0.0 == "LANG" }
            settings.insert(("LANG", locale), at: 0)
            if try CmdModule.runSystem(["localectl", "set-locale"] + settings.map { "\($0.0)=\($0.1)" }, ctx).retcode == 0 { return }
        }
        guard let updateLocale = CmdModule.which("update-locale") else {
            throw BrineError(.execution, "Cannot set locale: \"update-locale\" was not found.", hint: "install the locales package first")
        }
        _ = try CmdModule.runSystem([updateLocale], ctx)  // (re)writes /etc/default/locale
        let path = "/etc/default/locale"
        if !FileOps.exists(path) { try AtomicFile.write("", to: path, mode: 0o644) }
        _ = try ctx.call("file.replace", [.string(path), "^LANG=.*", .string("LANG=\"\(locale)\"")], ["append_if_not_found": true])
    }

    /// Salt's gen_locale on Debian: the name completed with its charmap,
    /// checked against SUPPORTED, uncommented (or added) in /etc/locale.gen,
    /// then `locale-gen`.
    static func generate(_ locale: String, _ ctx: ExecutionContext) throws -> Bool {
        var name = Name(locale)
        if name.charmap.isEmpty { name.charmap = name.codeset }
        let full = name.joined
        let supported = (try? FileOps.readText("/usr/share/i18n/SUPPORTED")) ?? ""
        guard !full.contains("\n"), supported.split(separator: "\n").contains(where: { String($0) == full }) else { return false }
        if FileOps.isFile("/etc/locale.gen") {
            _ = try ctx.call("file.replace", ["/etc/locale.gen", .string("^\\s*#\\s*\(NSRegularExpression.escapedPattern(for: full))\\s*$"),
                                              .string(full + "\n")], ["append_if_not_found": true])
        }
        let argv: [String]
        if CmdModule.which("locale-gen") != nil {
            argv = ["locale-gen", full]
        } else if CmdModule.which("localedef") != nil {
            let base = name.territory.isEmpty ? name.language : "\(name.language)_\(name.territory)"
            argv = ["localedef", "--force", "-i", base, "-f", name.codeset, "\(base).\(name.codeset)", "--quiet"]
        } else {
            throw BrineError(.execution, "Command \"locale-gen\" or \"localedef\" was not found on this system.", hint: "install the locales package")
        }
        return try CmdModule.runSystem(argv, ctx).retcode == 0
    }
}
