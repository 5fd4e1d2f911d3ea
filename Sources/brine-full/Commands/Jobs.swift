import ArgumentParser
import BrineCommandLine
import BrineCore
import BrineMaster
import Foundation
import OrderedCollections

/// `brine jobs list|show JID`: the master's job cache (Salt's
/// `salt-run jobs.list_jobs` and `jobs.lookup_jid`), read from `cachedir`.
struct Jobs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "Look up jobs in the master's job cache.")

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "list, or show JID") var words: [String] = ["list"]

    func run() throws {
        try reportingErrors {
            let opts = try config.load(.master)
            let cache = try JobCache(directory: MasterDaemon.jobCacheDirectory(opts))
            let outputter = try output.outputter(default: .nested)
            let options = Outputter.Options(colors: output.colors(config: opts))
            switch (words.first, words.count) {
            case ("list", 1):
                var data = OrderedDictionary<String, BrineCore.Value>()
                for job in try cache.jobs() {
                    data[job.jid] = ["Function": .string(job.fun), "Arguments": job.arguments["arg"] ?? [],
                                     "Target": .string(job.target), "Target-type": .string(job.targetType),
                                     "StartTime": .string(Jobs.time(job.started)),
                                     "Minions": .list(job.minions.map(BrineCore.Value.string))]
                }
                try output.emit(outputter.render(.map(data), options: options))
            case ("show", 2):
                let jid = words[1]
                guard let job = try cache.job(jid) else {
                    throw BrineError(.usage, "no job \(jid) in the job cache", hint: "see 'brine jobs list'")
                }
                var data = OrderedDictionary<String, BrineCore.Value>()
                for entry in try cache.returns(jid) { data[entry.minion] = entry.value }
                // Every expected minion is listed: the job never reached some, others have not returned (yet).
                let delivery = try cache.delivery(jid)
                for id in job.minions where data[id] == nil {
                    let reason = delivery[id] == nil ? MissingReturn.noResponse : .notConnected
                    data[id] = .string("Minion did not return. [\(reason.rawValue)]")
                }
                try output.emit(outputter.render(.map(data), options: options))
            default:
                throw BrineError(.usage, "unknown jobs command", hint: "use 'brine jobs list' or 'brine jobs show JID'")
        }
        }
    }

    /// Salt's job time layout: `2026, Nov 25 19:01:26.677546`.
    static func time(_ seconds: Double) -> String {
        var t = time_t(seconds)
        var parts = tm()
        localtime_r(&t, &parts)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let micros = Int((seconds - Double(t)) * 1_000_000)
        func pad(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let frac = String(micros)
        return "\(parts.tm_year + 1900), \(months[Int(parts.tm_mon)]) \(pad(parts.tm_mday)) \(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(String(repeating: "0", count: max(0, 6 - frac.count)))\(frac)"
    }
}
