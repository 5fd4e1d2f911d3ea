import BrineCluster
import BrineCore
import BrineWire
import Foundation
import Logging
import NIOCore

/// Who asks: the name the ACL knows, their groups, and the ACL.
public struct Caller: Sendable {
    public var name: String
    public var groups: [String]
    public var acl: AccessControl

    public init(name: String, groups: [String], acl: AccessControl) {
        self.name = name
        self.groups = groups
        self.acl = acl
    }
}

/// Publishing a job: the one path for the CLI socket and the REST API.
/// The state a publish meets others in (connections, waiting jobs) is the
/// `MinionRegistry` actor's; each publish is one task reading the events
/// the registry delivers for its job.
///
/// In order, and nothing reaches a minion before the last check:
/// 1. the request's numbers (timeout, batch) and target are validated and
///    parsed (bounded: `Target`, `BoundedNumber`);
/// 2. the caller's ACL is asked whether this function with these arguments
///    is allowed anywhere, before any minion is looked at;
/// 3. the target is resolved over accepted keys; pillar is matched only
///    for minions the caller may run the function on;
/// 4. every resolved minion must be allowed, or the whole job is refused
///    without naming any minion.
///
/// Then every expected minion ends in exactly one of: returned, not
/// connected, unreachable (its connection could not take the job in time),
/// or no response (the timeout passed). The CLI prints all four; `done`
/// carries the last three.
struct Publisher: Sendable {
    let opts: Config
    let keys: any MinionKeys
    let registry: MinionRegistry
    let jobs: JobCache?
    let logger: Logger
    /// Set with `cluster_database`: jobs also reach minions connected to the other masters.
    let cluster: ClusterNode?

    /// The longest a caller may wait for returns: a year.
    static let longestTimeout = 365.0 * 86400
    /// How long one minion's connection gets to take a job.
    static let sendDeadline = TimeAmount.seconds(10)

    /// Validates, authorises and resolves a request: the minions to send to.
    func resolve(_ request: PublishRequest, caller: Caller) async throws(Refusal) -> (minions: [String], timeout: Double, window: BatchSize) {
        let timeout: Double
        let batch: BatchSize
        let target: Target
        do {
            timeout = try BoundedNumber.double(request.timeout, field: "timeout", in: 0...Self.longestTimeout)
            batch = try BatchSize(request.batch)
            target = try Target(request.target, type: request.targetType, nodegroups: opts.nodegroups)
        } catch {
            throw Refusal(.invalid, error.description)
        }
        let permission = caller.acl.permission(user: caller.name, groups: caller.groups, fun: request.fun, arguments: request.arguments)
        func refused(_ reason: String) -> Refusal {
            logger.warning("refused a publish of \(LogText.escape(request.fun)) by \(LogText.escape(caller.name)): \(LogText.escape(reason))")
            return Refusal(.notAuthorised, reason)
        }
        if let reason = permission.refusal { throw refused(reason) }
        let ids: [String]
        do {
            ids = try await keys.list(.accepted)
        } catch {
            throw Refusal(.invalid, "\(error)")
        }
        let unrestricted = permission.isUnrestricted
        // A glob or list target for an unrestricted caller needs no grains or pillar (a fleet's '*': 10,000 copied for nothing).
        let needsData = target.usesMinionData || !unrestricted
        var data = needsData ? await registry.data(ids) : Array(repeating: (grains: Value.emptyMap, pillar: Value.emptyMap), count: ids.count)
        if let cluster, needsData {
            // Minions connected to other masters: their grains and pillar as last recorded (for the target, or the caller's rules).
            let elsewhere = ids.indices.filter { data[$0].grains == .emptyMap }
            do {
                let stored = try await cluster.database.data(elsewhere.map { ids[$0] })
                for index in elsewhere { if let entry = stored[ids[index]] { data[index] = entry } }
            } catch {
                throw Refusal(.invalid, "\(error)")
            }
        }
        let nodegroups = opts.nodegroups
        // Each rule target parsed once, not once per minion (nil: a rule that does not parse matches nothing).
        var ruleTargets: [String: Target?] = [:]
        func allowed(_ index: Int) -> Bool {
            unrestricted || permission.allows(minion: ids[index]) { rule, id in
                if ruleTargets[rule] == nil { ruleTargets[rule] = .some(try? Target(rule, type: "compound", nodegroups: nodegroups)) }
                let grains = data[index].grains == .emptyMap ? ["id": .string(id)] : data[index].grains
                return (try? ruleTargets[rule]??.matches(minionID: id, grains: grains, pillar: .emptyMap)) == true
            }
        }
        var matched: [String] = []
        let deadline = BoundedRegex.defaultDeadline()
        for index in ids.indices {
            // Pillar is consulted only where the caller may act: a refusal
            // must not tell anyone what another minion's pillar holds.
            let permitted: Bool? = target.usesPillar ? allowed(index) : nil
            let pillar = permitted == false ? Value.emptyMap : data[index].pillar
            let matches: Bool
            do {
                matches = try target.matches(minionID: ids[index], grains: data[index].grains, pillar: pillar, deadline: deadline)
            } catch {
                throw Refusal(.invalid, error.description)
            }
            guard matches else { continue }
            guard permitted ?? allowed(index) else {
                throw refused("user \(caller.name) may not run \(request.fun) on every targeted minion")
            }
            matched.append(ids[index])
        }
        return (matched, timeout, batch)
    }

    /// Publishes a job and reports it through `send`: `published`, the
    /// returns (in the batches they were stored in), then `done` naming
    /// every expected minion that did not return.
    /// Throws `Refusal` before anything is sent when the request is
    /// invalid or not allowed.
    func publish(_ request: PublishRequest, caller: Caller, send: ([JobEvent]) async throws -> Void) async throws {
        let resolved = try await resolve(request, caller: caller)
        let expected = resolved.minions
        guard !expected.isEmpty else {
            try await send([.published(jid: "", minions: [])])
            return
        }
        let jid = JID.make()
        let events = await registry.waitForReturns(jid, expected: Set(expected))
        let started = Date().timeIntervalSince1970
        let arguments = Value.map(["arg": .list(request.arguments.positional), "kwarg": .map(request.arguments.keyword)])
        let job = MasterMessage.job(.init(jid: jid, fun: request.fun, arguments: request.arguments)).encoded()
        // In a cluster: until when a minion that was not connected is still sent the job.
        let expires = started + max(resolved.timeout, cluster?.jobTTL ?? 0)
        if let cluster {
            // In the database first: a job the cluster cannot record is refused whole, never half-sent.
            do {
                let record = ClusterDatabase.JobRecord(jid: jid, fun: request.fun, arguments: arguments, target: request.target,
                                                       targetType: request.targetType, minions: expected, started: started,
                                                       expires: expires, user: caller.name, payload: job)
                try await cluster.answering("recording the job") { try await cluster.database.record(record) }
            } catch {
                await registry.finish(jid)
                throw Refusal(.invalid, "\(error)")
            }
            await cluster.follow(jid)
        }
        defer { if let cluster { Task { await cluster.unfollow(jid) } } }
        try jobs?.record(JobCache.Job(jid: jid, fun: request.fun, arguments: arguments, target: request.target, targetType: request.targetType,
                                      minions: expected, started: started, user: caller.name))
        try await send([.published(jid: jid, minions: expected)])
        var delivery = Delivery(expected: expected, window: resolved.window.size(of: expected.count))
        // Hands the job to the next minions until `window` are running. A
        // send never waits for a slow minion: its failure arrives as an event.
        var batchSeq = 0
        func fill() async {
            // Minions found not connected free their place at once: take the next ones.
            while case let next = delivery.nextBatch(), !next.isEmpty {
                defer { batchSeq += 1 }
                let sessions = await registry.sessions(next)
                let elsewhere = sessions.filter { $0.session == nil }.map(\.id)
                // Not connected here: with one master, not connected; in a cluster, connected to no live
                // master (the others get it from theirs; all of them when they connect, until it expires).
                var unconnected = elsewhere
                if let cluster {
                    let local = sessions.filter { $0.session != nil }.map(\.id)
                    // The whole job in one batch (no `-b`): recorded as "every minion of the job".
                    let batch = batchSeq == 0 && next.count == expected.count ? nil : next
                    await cluster.publishing(jid: jid, seq: batchSeq, local: local, expires: expires)
                    do {
                        let reachable = try await cluster.answering("delivering the job") { [batchSeq] in
                            try await cluster.database.deliver(jid: jid, seq: batchSeq, minions: batch, remote: elsewhere)
                        }
                        unconnected = elsewhere.filter { !reachable.contains($0) }
                    } catch {
                        // Sent to none here: should the batch have been recorded after all, the
                        // master's own hint (or its sweep) sends it to these minions too. Unless
                        // that hint came first (it left them to this publisher): then send it here.
                        if await cluster.publishingFailed(jid: jid, seq: batchSeq) {
                            logger.error("\(error)")
                            for (id, _) in sessions { delivery.unreachable(id) }
                            continue
                        }
                        logger.warning("\(error); the batch was recorded meanwhile: sent")
                        // Where the others are is not known: waited for, as if connected.
                        unconnected = []
                    }
                }
                for id in unconnected { delivery.notConnected(id) }
                for case let (id, session?) in sessions {
                    do {
                        let written = try session.enqueue(job, deadline: Self.sendDeadline)
                        written.whenFailure { [registry] _ in Task { await registry.deliver(jid: jid, .unreachable(id: id)) } }
                    } catch {
                        delivery.unreachable(id)
                    }
                }
            }
        }
        await fill()
        let timer = Task { [registry] in
            try? await Task.sleep(nanoseconds: BoundedNumber.nanoseconds(max(0.1, resolved.timeout)))
            await registry.finish(jid)
        }
        if delivery.isComplete { await registry.finish(jid) }
        for await batch in events {
            var changed = false
            var returned: [JobEvent] = []
            for event in batch {
                switch event {
                case .returned(let jobReturn):
                    guard delivery.returned(jobReturn.id) else { continue }
                    returned.append(.returned(jobReturn))
                case .unreachable(let id):
                    guard delivery.unreachable(id) else { continue }
                case .disconnected(let id):
                    // In a cluster a minion that leaves moves to another master, and its return comes from there.
                    guard cluster == nil, delivery.lost(id) else { continue }
                }
                changed = true
            }
            guard changed else { continue }
            // A batch stored together goes out together: one write to the client, not one per return.
            if !returned.isEmpty { try await send(returned) }
            await fill()
            if delivery.isComplete { await registry.finish(jid) }
        }
        timer.cancel()
        try? jobs?.recordDelivery(jid: jid, notConnected: delivery.notConnectedIDs, unreachable: delivery.unreachableIDs)
        try await send([.done(jid: jid, notConnected: (delivery.notConnectedIDs + delivery.unreachableIDs).sorted(),
                             noResponse: delivery.waitingIDs)])
    }
}

/// Where each expected minion of one job stands.
struct Delivery {
    private var queue: ArraySlice<String>
    private var running = Set<String>()
    private(set) var notConnectedIDs: [String] = []
    private(set) var unreachableIDs: [String] = []
    private(set) var lostIDs: [String] = []
    let window: Int

    init(expected: [String], window: Int) {
        queue = expected[...]
        self.window = window
    }

    /// The minions to send to now (and counts them as running).
    mutating func nextBatch() -> [String] {
        var batch: [String] = []
        while running.count < window, let id = queue.popFirst() {
            running.insert(id)
            batch.append(id)
        }
        return batch
    }

    mutating func notConnected(_ id: String) {
        if running.remove(id) != nil { notConnectedIDs.append(id) }
    }

    /// False when the minion had already finished (a duplicate or late event).
    @discardableResult
    mutating func unreachable(_ id: String) -> Bool {
        guard running.remove(id) != nil else { return false }
        unreachableIDs.append(id)
        return true
    }

    /// The minion's connection closed while it ran the job: "no response".
    mutating func lost(_ id: String) -> Bool {
        guard running.remove(id) != nil else { return false }
        lostIDs.append(id)
        return true
    }

    /// False for a duplicate return or one from a minion not running this job.
    mutating func returned(_ id: String) -> Bool {
        running.remove(id) != nil
    }

    var isComplete: Bool { running.isEmpty && queue.isEmpty }

    /// Sent or waiting to be sent, with no return: "no response" at the end.
    var waitingIDs: [String] { (Array(running) + Array(queue) + lostIDs).sorted() }
}

/// `-b`: "10" minions or "25%" of the targeted ones at a time; empty for all.
enum BatchSize: Sendable {
    case all
    case count(Int)
    case percent(Double)

    init(_ spec: String) throws(BrineError) {
        let text = spec.trimmingCharacters(in: .whitespaces)
        if text.isEmpty {
            self = .all
        } else if text.hasSuffix("%") {
            guard let percent = Double(text.dropLast()) else { throw BrineError(.arguments, "batch size '\(spec)' is not a number or a percentage") }
            self = .percent(try BoundedNumber.double(percent, field: "batch size", in: 0.000001...100))
        } else {
            guard let count = Int(text), count >= 1 else { throw BrineError(.arguments, "batch size '\(spec)' must be a positive count or a percentage") }
            self = .count(count)
        }
    }

    func size(of count: Int) -> Int {
        switch self {
        case .all: return max(1, count)
        case .count(let n): return max(1, min(n, count))
        // percent ≤ 100 and count is a minion count: the product is small and finite.
        case .percent(let p): return max(1, Int((Double(count) * p / 100).rounded(.up)))
        }
    }
}
