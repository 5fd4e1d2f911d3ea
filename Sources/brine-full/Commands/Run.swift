import ArgumentParser
import BrineCommandLine
import BrineCore
import BrineMaster
import BrineWire
import Foundation
import OrderedCollections

/// `brine TARGET FUN [ARGS]` (salt): publish a job through the local master
/// and print each minion's return as it arrives, then name the minions that
/// did not return.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a function on the targeted minions (salt).",
        discussion: "Example: brine '*' test.ping; brine -L web1,web2 cmd.run 'uname -a'; brine -G os:Debian grains.item os"
    )

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: [.customShort("E"), .customLong("pcre")], help: "The target is a regular expression.") var pcre = false
    @Flag(name: [.customShort("L"), .customLong("list")], help: "The target is a comma-separated list of ids.") var list = false
    @Flag(name: [.customShort("G"), .customLong("grain")], help: "The target is grain:value (glob).") var grain = false
    @Flag(name: [.customShort("P"), .customLong("grain-pcre")], help: "The target is grain:regex.") var grainPcre = false
    @Flag(name: [.customShort("I"), .customLong("pillar")], help: "The target is pillar:value.") var pillar = false
    @Flag(name: [.customShort("S"), .customLong("ipcidr")], help: "The target is a CIDR network.") var ipcidr = false
    @Flag(name: [.customShort("C"), .customLong("compound")], help: "The target is a compound expression.") var compound = false
    @Flag(name: [.customShort("N"), .customLong("nodegroup")], help: "The target is a nodegroup name.") var nodegroup = false
    @Option(name: [.customShort("t"), .customLong("timeout")], help: "Seconds to wait for returns (default: the timeout option, 5).")
    var timeout: Double?
    @Option(name: [.customShort("b"), .customLong("batch-size")], help: "Run on this many minions (or this % of them) at a time.")
    var batch: String?
    @Flag(name: .customLong("async"), help: "Publish, print the job id and return without waiting.")
    var async = false
    @Flag(name: .customLong("static"), help: "Print all returns together once every minion returned (one JSON document with --out json).")
    var staticOutput = false

    @Argument(help: "TARGET FUN [ARGS…]") var words: [String] = []

    /// The master configuration, kept for the outputters' options.
    var opts: Config? = nil

    enum CodingKeys: CodingKey {
        case config, output, pcre, list, grain, grainPcre, pillar, ipcidr, compound, nodegroup, timeout, batch, async, staticOutput, words
    }

    var targetType: String {
        if pcre { return "pcre" }
        if list { return "list" }
        if grain { return "grain" }
        if grainPcre { return "grain_pcre" }
        if pillar { return "pillar" }
        if ipcidr { return "ipcidr" }
        if compound { return "compound" }
        if nodegroup { return "nodegroup" }
        return "glob"
    }

    mutating func run() async throws {
        try await reportingErrors {
            try await execute()
        }
    }

    mutating func execute() async throws {
        guard words.count >= 2 else {
            throw BrineError(.usage, "give a target and a function", hint: "for example: brine '*' test.ping")
        }
        let opts = try config.load(.master)
        self.opts = opts
        let client = MasterClient(socketPath: MasterDaemon.socketPath(opts))
        let request = PublishRequest(target: words[0], targetType: targetType, fun: words[1],
                                     arguments: CallArguments.parse(Array(words.dropFirst(2))),
                                     timeout: timeout ?? opts.double("timeout") ?? 5, batch: batch ?? "")
        let outputter = try output.outputter(default: Outputter.defaultFor(function: words[1]))
        let colors = output.colors(config: opts)
        var failed = false
        var jid = ""
        var collected = OrderedDictionary<String, BrineCore.Value>()
        // Every published minion is printed: its return, or why there is none.
        var expected: [String] = []
        var accounted = Set<String>()
        var finished = false
        // One minion's entry: printed as it comes, or kept for --static.
        func report(_ id: String, _ value: BrineCore.Value) throws {
            if staticOutput { collected[id] = value } else { try show([id: value], outputter, colors) }
        }
        do {
            try await client.publish(request) { event in
                switch event {
                case .refused(let refusal):
                    throw BrineError(.usage, refusal.description)
                case .published(let id, let minions):
                    jid = id
                    expected = minions
                    if minions.isEmpty {
                        print("No minions matched the target. No command was sent, no jid was assigned.")
                        printError("ERROR: No return received")
                        throw ExitCode(2)
                    }
                    if async {
                        print("Executed command with job ID: \(id)")
                        return .stop
                    }
                case .returned(let jobReturn):
                    guard accounted.insert(jobReturn.id).inserted else { return .more }
                    if jobReturn.retcode != 0 { failed = true }
                    try report(jobReturn.id, jobReturn.value)
                case .done(_, let notConnected, let noResponse):
                    let unconnected = Set(notConnected)
                    // Anyone the master forgot to name is missing all the same.
                    let silent = expected.filter { !accounted.contains($0) && !unconnected.contains($0) && !noResponse.contains($0) }
                    for id in notConnected.sorted() + (noResponse + silent).sorted() where accounted.insert(id).inserted {
                        try report(id, .string((unconnected.contains(id) ? MissingReturn.notConnected : .noResponse).message(jid: jid)))
                        failed = true
                    }
                    finished = true
                }
                return .more
            }
        } catch let error as MasterClient.ConnectionError {
            switch error {
            case .permissionDenied:
                throw BrineError(.permission, error.description,
                                 hint: "run as that user, or let others publish with publisher_acl in the master config")
            case .unreachable(let socket, _):
                throw BrineError(.usage, "cannot reach the master at \(socket)", hint: "start it with 'brine master -c DIR'")
            case .closedEarly:
                break
            }
        }
        if !finished && !async {
            // The master went away mid-job: name everyone still owed, then say so.
            for id in expected where accounted.insert(id).inserted { try report(id, .string(MissingReturn.noResponse.message(jid: jid))) }
        }
        if staticOutput && !async { try show(.map(collected), outputter, colors) }
        if !finished && !async {
            printError("ERROR: the master closed the connection before job \(jid) finished; see 'brine jobs show \(jid)'")
            throw ExitCode(1)
        }
        if failed {
            printError("ERROR: Minions returned with non-zero exit code")
            throw ExitCode(1)
        }
    }

    func show(_ data: BrineCore.Value, _ outputter: Outputter, _ colors: Colors) throws {
        if outputter == .highstate {
            var highstate = output.highstate(config: opts ?? Config(role: .master, options: [:], configDir: ""))
            highstate.colors = colors
            try output.emit(highstate.render(data))
        } else {
            try output.emit(outputter.render(data, options: .init(colors: colors)))
        }
    }
}
