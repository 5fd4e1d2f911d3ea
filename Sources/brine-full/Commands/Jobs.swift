import ArgumentParser
import BrineCommandLine
import BrineCore
import BrineMaster
import BrineCluster
import Foundation
import Logging
import OrderedCollections

/// `brine jobs list|show JID`: the master's job cache (Salt's
/// `salt-run jobs.list_jobs` and `jobs.lookup_jid`), read from `cachedir`.
struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "Look up jobs in the master's job cache.")

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "list, or show JID") var words: [String] = ["list"]

    func run() async throws {
        try await reportingErrors {
            let opts = try config.load(.master)
            let outputter = try output.outputter(default: .nested)
            let options = Outputter.Options(colors: output.colors(config: opts))
            let data: OrderedDictionary<String, BrineCore.Value>
            // In a cluster every master's jobs are in the database.
            if let database = try ClusterNode.database(opts, logger: Logger.brine("brine.jobs")) {
                data = try await database.withRunning { try await answer(ClusterJobSource(database: $0)) }
            } else {
                data = try await answer(try JobCache(directory: MasterDaemon.jobCacheDirectory(opts)))
            }
            try output.emit(outputter.render(.map(data), options: options))
        }
    }

    func answer(_ source: some JobSource) async throws -> OrderedDictionary<String, BrineCore.Value> {
        var data = OrderedDictionary<String, BrineCore.Value>()
        switch (words.first, words.count) {
        case ("list", 1):
            for job in try await source.recentJobs() {
                data[job.jid] = ["Function": .string(job.fun), "Arguments": job.arguments["arg"] ?? [],
                                 "Target": .string(job.target), "Target-type": .string(job.targetType),
                                 "StartTime": .string(Jobs.time(job.started)),
                                 "Minions": .list(job.minions.map(BrineCore.Value.string))]
            }
        case ("show", 2):
            let jid = words[1]
            guard let (minions, returns, unsent) = try await source.lookup(jid) else {
                throw BrineError(.usage, "no job \(jid) in the job cache", hint: "see 'brine jobs list'")
            }
            for entry in returns { data[entry.minion] = entry.value }
            // Every expected minion is listed: the job never reached some, others have not returned (yet).
            for id in minions where data[id] == nil {
                let reason = unsent.contains(id) ? MissingReturn.notConnected : .noResponse
                data[id] = .string("Minion did not return. [\(reason.rawValue)]")
            }
        default:
            throw BrineError(.usage, "unknown jobs command", hint: "use 'brine jobs list' or 'brine jobs show JID'")
        }
        return data
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

/// Where `brine jobs` reads: the master's job cache, or a cluster's database.
protocol JobSource {
    func recentJobs() async throws -> [JobCache.Job]
    /// The job's expected minions, its returns, and the minions it never reached; nil when unknown.
    func lookup(_ jid: String) async throws -> (minions: [String], returns: [(minion: String, value: BrineCore.Value)], unsent: Set<String>)?
}

extension JobCache: JobSource {
    func recentJobs() throws -> [JobCache.Job] { try jobs() }

    func lookup(_ jid: String) throws -> (minions: [String], returns: [(minion: String, value: BrineCore.Value)], unsent: Set<String>)? {
        guard let job = try job(jid) else { return nil }
        return (job.minions, try returns(jid).map { ($0.minion, $0.value) }, Set(try delivery(jid).keys))
    }
}

struct ClusterJobSource: JobSource {
    let database: ClusterDatabase

    func recentJobs() async throws -> [JobCache.Job] {
        try await database.jobs(limit: 100).map {
            JobCache.Job(jid: $0.jid, fun: $0.fun, arguments: $0.arguments, target: $0.target, targetType: $0.targetType, minions: $0.minions,
                         started: $0.started, user: $0.user)
        }
    }

    func lookup(_ jid: String) async throws -> (minions: [String], returns: [(minion: String, value: BrineCore.Value)], unsent: Set<String>)? {
        guard let job = try await database.job(jid) else { return nil }
        let outcome = try await database.outcome(jid)
        return (job.minions, outcome.returns.map { ($0.minion, $0.value) }, outcome.unsent)
    }
}
