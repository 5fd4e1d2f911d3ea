import BrineCore
import BrineModules
import Foundation
import Logging
import OrderedCollections

/// Runs low chunks in order, satisfying requisites first (Salt's
/// `call_chunks`/`call_chunk`), and returns Salt's result structure keyed by
/// state tag. Requisites were resolved and checked for cycles before the
/// run starts, so a bad reference never leaves a tree half-applied.
///
/// Unchecked Sendable: the threads of `parallel` states share only the
/// result tables, which every access takes `lock` for.
public final class StateRunner: @unchecked Sendable {
    public struct Options: Sendable {
        public var test = false
        public var failhard = false
        /// Run every state as if it had `parallel: True` (the
        /// `state_run_parallel` option).
        public var parallel = false
        public init(test: Bool = false, failhard: Bool = false, parallel: Bool = false) {
            self.test = test
            self.failhard = failhard
            self.parallel = parallel
        }
    }

    let chunks: [LowChunk]
    let requisites: [[(kind: Requisite, targets: [Int])]]
    let context: ExecutionContext
    let states: StateLoader
    let templates: (any TemplateRendering)?
    let options: Options
    let facts = RunFacts()

    // Shared with the threads of `parallel` states; guarded by `lock`.
    private let lock = NSCondition()
    private var results: [Int: StateResult] = [:]
    private var started = Set<Int>()
    private var running = 0
    private var output = OrderedDictionary<String, Value>()
    private var runNumber = 0
    private var halted = false

    /// Resolves every requisite to chunk indices; unknown references and
    /// cycles are returned as errors (and the runner is nil).
    public static func prepare(chunks: [LowChunk], context: ExecutionContext, states: StateLoader = .standard,
                               templates: (any TemplateRendering)?, options: Options) -> (StateRunner?, [String])
    {
        var errors: [String] = []
        var requisites: [[(kind: Requisite, targets: [Int])]] = Array(repeating: [], count: chunks.count)
        let index = ChunkIndex(chunks)
        for (i, chunk) in chunks.enumerated() {
            for kind in Requisite.allCases where kind != .use {
                guard let refs = chunk[kind.rawValue] else { continue }
                var targets: [Int] = []
                for ref in refs.listValue ?? [refs] {
                    let found = index.match(ref).filter { $0 != i }
                    if found.isEmpty {
                        errors.append("Referenced state does not exist for requisite [\(kind.rawValue): (\(describe(ref)))] in state [\(chunk["name"]?.pythonString ?? "")] in SLS [\(chunk["__sls__"]?.pythonString ?? "")]")
                    }
                    targets += found
                }
                requisites[i].append((kind, targets))
            }
        }
        // prereq: A prereq B means B waits for A (and needs A to succeed).
        for i in chunks.indices {
            for (kind, targets) in requisites[i] where kind == .prereq {
                for t in targets { requisites[t].append((.require, [i])) }
            }
        }
        if let cycle = findCycle(requisites, count: chunks.count) {
            let names = cycle.map { "\(chunks[$0]["state"]?.pythonString ?? "").\(chunks[$0]["fun"]?.pythonString ?? "") '\(chunks[$0]["__id__"]?.pythonString ?? "")' (SLS \(chunks[$0]["__sls__"]?.pythonString ?? ""))" }
            errors.append("Recursive requisite found: " + names.joined(separator: " -> "))
        }
        guard errors.isEmpty else { return (nil, errors) }
        return (StateRunner(chunks: chunks, requisites: requisites, context: context, states: states,
                            templates: templates, options: options), [])
    }

    init(chunks: [LowChunk], requisites: [[(kind: Requisite, targets: [Int])]], context: ExecutionContext,
         states: StateLoader, templates: (any TemplateRendering)?, options: Options)
    {
        self.chunks = chunks
        self.requisites = requisites
        self.context = context
        self.states = states
        self.templates = templates
        self.options = options
    }

    static func describe(_ ref: Value) -> String {
        if case .map(let m) = ref, let first = m.elements.first { return "\(first.key): \(first.value.pythonString)" }
        return "id: \(ref.pythonString)"
    }

    /// Edges that order execution (everything but listen and prereq's
    /// forward edge); returns one cycle as a list of chunk indices.
    static func findCycle(_ requisites: [[(kind: Requisite, targets: [Int])]], count: Int) -> [Int]? {
        var state = [UInt8](repeating: 0, count: count)  // 0 new, 1 on stack, 2 done
        var stack: [Int] = []
        func visit(_ node: Int) -> [Int]? {
            state[node] = 1
            stack.append(node)
            for (kind, targets) in requisites[node] where kind != .listen && kind != .prereq {
                for t in targets {
                    if state[t] == 1 {
                        let start = stack.firstIndex(of: t) ?? 0
                        return Array(stack[start...]) + [t]
                    }
                    if state[t] == 0, let cycle = visit(t) { return cycle }
                }
            }
            stack.removeLast()
            state[node] = 2
            return nil
        }
        for node in 0..<count where state[node] == 0 {
            if let cycle = visit(node) { return cycle }
        }
        return nil
    }

    // MARK: - Running

    /// Runs everything; returns results ordered by `__run_num__`, which is
    /// fixed when a state starts, so the order is the same on every run even
    /// when `parallel` states finish in another order.
    public func run() -> OrderedDictionary<String, Value> {
        for i in chunks.indices {
            if isHalted { break }
            execute(i)
        }
        lock.lock()
        while running > 0 { lock.wait() }
        lock.unlock()
        if !halted { runListeners() }
        return OrderedDictionary(uniqueKeysWithValues: output.sorted {
            ($0.value["__run_num__"]?.intValue ?? 0) < ($1.value["__run_num__"]?.intValue ?? 0)
        }.map { ($0.key, $0.value) })
    }

    private var isHalted: Bool {
        lock.lock()
        defer { lock.unlock() }
        return halted
    }

    private func resultOf(_ i: Int) -> StateResult? {
        lock.lock()
        defer { lock.unlock() }
        return results[i]
    }

    /// Blocks until a started state (possibly running on another thread)
    /// has its result.
    private func waitFor(_ i: Int) {
        lock.lock()
        while results[i] == nil && started.contains(i) { lock.wait() }
        lock.unlock()
    }

    private func execute(_ i: Int) {
        lock.lock()
        if started.contains(i) || halted {
            lock.unlock()
            waitFor(i)
            return
        }
        started.insert(i)
        lock.unlock()
        for (kind, targets) in requisites[i] where kind != .listen && kind != .prereq {
            for t in targets { execute(t) }
        }
        for (kind, targets) in requisites[i] where kind != .listen && kind != .prereq {
            for t in targets { waitFor(t) }
        }
        lock.lock()
        if halted {
            started.remove(i)
            lock.broadcast()
            lock.unlock()
            return
        }
        let number = runNumber
        runNumber += 1
        lock.unlock()
        let isParallel = options.parallel || (chunks[i]["parallel"]?.asFlag ?? false)
        guard isParallel else {
            finish(i, number: number)
            return
        }
        lock.lock()
        running += 1
        lock.unlock()
        let thread = Thread { [self] in
            finish(i, number: number)
            lock.lock()
            running -= 1
            lock.broadcast()
            lock.unlock()
        }
        thread.stackSize = 1 << 21
        thread.start()
    }

    private func finish(_ i: Int, number: Int) {
        let start = Date()
        let (result, verified) = evaluate(i)
        record(i, result, start: start, number: number, bare: !verified)
        let failhard = chunks[i]["failhard"]?.asFlag ?? options.failhard
        if result.result == false && failhard {
            lock.lock()
            halted = true
            lock.unlock()
        }
    }

    private func label(_ t: Int) -> String {
        "\(chunks[t]["__sls__"]?.pythonString ?? "").\(chunks[t]["__id__"]?.pythonString ?? "")"
    }

    /// Requisite status, then the checks, then the state function;
    /// `verified` is false for a state whose function Brine does not have
    /// (run only when the caller asked for Salt's partial runs).
    private func evaluate(_ i: Int) -> (result: StateResult, verified: Bool) {
        if var decided = checkRequisites(i) {
            decided.extra["__state_ran__"] = false  // Salt marks the states its requisites kept from running
            return (decided, true)
        }
        if let missing = missingFunction(i) { return (missing, false) }
        return (runState(i), true)
    }

    private func functionName(_ i: Int) -> String {
        "\(chunks[i]["state"]?.pythonString ?? "").\(chunks[i]["fun"]?.pythonString ?? "")"
    }

    /// Salt's `verify_data` answer for a function it cannot find.
    private func missingFunction(_ i: Int) -> StateResult? {
        let function = functionName(i)
        guard !states.has(function) else { return nil }
        let result = StateResult.failed(chunks[i]["name"]?.pythonString ?? "",
                                        "State '\(function)' was not found in SLS '\(chunks[i]["__sls__"]?.pythonString ?? "")'\nReason: '\(function)' is not available.\n")
        Self.logOutcome(result)
        return result
    }

    /// What the requisites decide before the state runs: a failed one, an
    /// onfail/onchanges with nothing to react to, a prereq with no change
    /// coming; nil when the state should run.
    private func checkRequisites(_ i: Int) -> StateResult? {
        let chunk = chunks[i]
        let name = chunk["name"]?.pythonString ?? ""
        var failed: [String] = []
        var onfailTargets: [Int] = [], onchangesTargets: [Int] = []
        for (kind, targets) in requisites[i] {
            switch kind {
            case .require, .watch:
                for t in targets where resultOf(t)?.result == false { failed.append(label(t)) }
            case .requireAny, .watchAny:
                if !targets.isEmpty && targets.allSatisfy({ resultOf($0)?.result == false }) { failed += targets.map(label) }
            case .onfail, .onfailAny:
                onfailTargets += targets
            case .onchanges, .onchangesAny:
                // A soft trigger in Salt: a failed target counts as one that did not change.
                onchangesTargets += targets
            case .prereq, .use, .listen:
                break
            }
        }
        if !failed.isEmpty {
            return StateResult(name: name, result: false, comment: "One or more requisite failed: \(failed.joined(separator: ", "))")
        }
        // onfail runs when a target did not succeed: failed, or None under test=True (Salt's `result is True` test).
        if !onfailTargets.isEmpty && !onfailTargets.contains(where: { resultOf($0).map { $0.result != true } ?? false }) {
            return StateResult(name: name, result: true, comment: "State was not run because onfail req did not change")
        }
        if !onchangesTargets.isEmpty
            && !onchangesTargets.contains(where: { resultOf($0).map { $0.result != false && !$0.changes.isEmpty } ?? false })
        {
            return StateResult(name: name, result: true, comment: "State was not run because none of the onchanges reqs changed")
        }
        for (kind, targets) in requisites[i] where kind == .prereq {
            let wouldChange = targets.contains { t in
                guard let preview = try? call(t, test: true) else { return false }
                return preview.result == nil || !preview.changes.isEmpty
            }
            if !wouldChange {
                return StateResult(name: name, result: true, comment: "No changes detected")
            }
        }
        return nil
    }

    /// Salt's `State.call`: the checks, the call, mod_watch when a watched
    /// state changed; logged as Salt logs them.
    private func runState(_ i: Int) -> StateResult {
        let chunk = chunks[i]
        let name = chunk["name"]?.pythonString ?? ""
        let watchChanged = requisites[i].contains { kind, targets in
            (kind == .watch || kind == .watchAny) && targets.contains { !(resultOf($0)?.changes.isEmpty ?? true) }
        }
        // Salt's `State.call` logs from here: the checks, the call, its outcome.
        let logName = name.trimmingCharacters(in: .whitespaces)
        let started = Date()
        Self.logger.info("Running state [\(logName)] at time \(StateRunner.clock(started))")
        var result: StateResult
        if let skipped = runChecks(chunk, name: name) {
            result = skipped
        } else {
            Self.logger.info("Executing state \(chunk["state"]?.pythonString ?? "").\(chunk["fun"]?.pythonString ?? "") for [\(logName)]")
            result = callWithRetry(i)
        }
        Self.logOutcome(result)
        if watchChanged, result.result != false, result.changes.isEmpty, result.extra["skip_watch"] == nil,
            states.has("\(chunk["state"]?.pythonString ?? "").mod_watch")
        {
            result = (try? call(i, test: options.test, modWatch: true, watchedChanges: changedWatches(i))) ?? result
        }
        let finished = Date()
        let duration = (finished.timeIntervalSince(started) * 1_000_000).rounded() / 1000
        Self.logger.info("Completed state [\(logName)] at time \(StateRunner.clock(finished)) (duration_in_ms=\(duration))")
        return result
    }

    static let logger = Logger.brine("brine.state")

    /// Salt's `format_log`: the comment, or what changed; at ERROR when
    /// the state failed (which is why a failing state's comment shows on
    /// the console before the highstate output, as in Salt).
    static func logOutcome(_ result: StateResult) {
        var message = ""
        if result.changes.isEmpty {
            message = result.comment.isEmpty ? "No changes made for \(result.name)" : result.comment
        } else if let diff = result.changes["diff"]?.stringValue {
            message = "File changed:\n\(diff)"
        } else if result.changes.values.allSatisfy({ $0.mapValue.map { $0["old"] != nil && $0["new"] != nil } ?? false }) {
            message = "Made the following changes:\n"
            for (key, change) in result.changes {
                func shown(_ v: Value?) -> String {
                    guard let v else { return "absent" }
                    if case .bool(false) = v { return "False" }
                    if v.isNull { return "None" }
                    return v.isTruthy ? v.pythonString : "absent"
                }
                message += "'\(key)' changed from '\(shown(change["old"]))' to '\(shown(change["new"]))'\n"
            }
        }
        if message.isEmpty { message = Value.map(result.changes).pythonRepr }
        if result.result == false { logger.error("\(message)") } else { logger.info("\(message)") }
    }

    /// `onlyif`, `unless`, `creates`: a skipped state succeeds with
    /// `skip_watch`, as in Salt.
    private func runChecks(_ chunk: LowChunk, name: String) -> StateResult? {
        var checkContext = context
        checkContext.isDirectCall = false
        checkContext.shellByDefault = false
        checkContext.outcome = Outcome()
        var cmdOptions: [String: Value] = ["ignore_retcode": true, "python_shell": true]
        for key in ["cwd", "runas", "env", "shell", "umask", "timeout", "success_retcodes"] {
            if let v = chunk[key] { cmdOptions[key] = v }
        }
        func succeeds(_ entry: Value) -> Bool {
            if case .map(let m) = entry, let fun = m["fun"]?.pythonString {
                var kw: [String: Value] = [:]
                for (k, v) in m where k != "fun" && k != "args" { kw[k] = v }
                let result = try? checkContext.call(fun, m["args"]?.listValue ?? [], kw)
                return result?.isTruthy ?? false
            }
            if case .bool(let b) = entry { return b }
            let code = try? checkContext.call("cmd.retcode", [.string(entry.pythonString)], cmdOptions)
            return code?.intValue == 0
        }
        func skip(_ comment: String) -> StateResult {
            var ret = StateResult(name: name, result: true, comment: comment)
            ret.extra["skip_watch"] = true
            return ret
        }
        if let onlyif = chunk["onlyif"] {
            for entry in onlyif.listValue ?? [onlyif] where !succeeds(entry) { return skip("onlyif condition is false") }
        }
        if let unless = chunk["unless"] {
            let entries = unless.listValue ?? [unless]
            if !entries.isEmpty && entries.allSatisfy(succeeds) { return skip("unless condition is true") }
        }
        if let creates = chunk["creates"] {
            let paths = (creates.listValue ?? [creates]).map(\.pythonString)
            if !paths.isEmpty && paths.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
                return skip("All files in creates exist")
            }
        }
        return nil
    }

    private func callWithRetry(_ i: Int) -> StateResult {
        let retry = chunks[i]["retry"]
        var attempts = 1, interval = 30.0, until: Bool? = true
        switch retry {
        case .map(let m)?:
            attempts = max(1, m["attempts"]?.intValue ?? 2)
            interval = m["interval"]?.doubleValue ?? 30
            until = m["until"].map { $0.isNull ? nil : $0.asFlag } ?? true
        case .bool(true)?:
            attempts = 2
        default: break
        }
        var result = safeCall(i)
        var comments: [String] = []
        var attempt = 1
        while attempt < attempts && result.result != until && !options.test {
            comments.append("Attempt \(attempt): Returned a result of \"\(result.result.map { $0 ? "True" : "False" } ?? "None")\", with the following comment: \"\(result.comment)\"")
            Thread_sleep_ms(interval)
            attempt += 1
            result = safeCall(i)
        }
        if !comments.isEmpty {
            result.comment = (comments + ["Attempt \(attempt): Returned a result of \"\(result.result.map { $0 ? "True" : "False" } ?? "None")\", with the following comment: \"\(result.comment)\""]).joined(separator: "\n")
        }
        return result
    }

    private func safeCall(_ i: Int) -> StateResult {
        do {
            return try call(i, test: options.test)
        } catch let error as UnboundArguments {
            // Salt finds these before running (verify_data): its comment, one line per error.
            return StateResult(name: chunks[i]["name"]?.pythonString ?? "", result: false, comment: error.error.message + "\n")
        } catch {
            let message = (error as? BrineError)?.description ?? "\(error)"
            return StateResult(name: chunks[i]["name"]?.pythonString ?? "", result: false,
                               comment: "An exception occurred in this state: \(message)")
        }
    }

    /// A low chunk whose arguments do not fit its state function (a required one missing).
    struct UnboundArguments: Error {
        var error: BrineError
    }

    /// The `watch` targets of chunk `i` that changed, as `state: id`.
    private func changedWatches(_ i: Int) -> [String] {
        requisites[i].filter { $0.0 == .watch }.flatMap(\.1).compactMap { t in
            guard !(resultOf(t)?.changes.isEmpty ?? true) else { return nil }
            return "\(chunks[t]["state"]?.pythonString ?? ""): \(chunks[t]["__id__"]?.pythonString ?? "")"
        }
    }

    private func call(_ i: Int, test: Bool, modWatch: Bool = false, watchedChanges: [String] = []) throws -> StateResult {
        let chunk = chunks[i]
        let module = chunk["state"]?.pythonString ?? ""
        let function = chunk["fun"]?.pythonString ?? ""
        let fullName = "\(module).\(modWatch ? "mod_watch" : function)"
        var low = chunk
        low["name"] = chunk["name"] ?? ""
        let arguments: Arguments
        do { arguments = try states.bind(fullName, low) } catch { throw UnboundArguments(error: error) }
        var stateContext = context
        stateContext.isDirectCall = false
        stateContext.shellByDefault = false
        stateContext.saltenv = chunk["__env__"]?.pythonString ?? context.saltenv
        var call = StateCall(name: chunk["name"]?.pythonString ?? "", arguments: arguments,
                             test: test || (chunk["test"]?.asFlag ?? false), context: stateContext, templates: templates,
                             facts: facts, watchingFunction: modWatch ? function : nil)
        call.watchedChanges = watchedChanges
        call.id = chunk["__id__"]?.pythonString ?? ""
        call.sls = chunk["__sls__"]?.pythonString ?? ""
        guard let body = states.functions[fullName]?.body else {
            throw BrineError(.state, "State '\(fullName)' was not found")
        }
        return try body(call)
    }

    /// Keeps a state's return; `bare` is Salt's shape for a state that
    /// never started (no time, duration, SLS or ID).
    private func record(_ i: Int, _ result: StateResult, start: Date, number: Int, tag explicitTag: String? = nil, bare: Bool = false) {
        let duration = Date().timeIntervalSince(start) * 1000
        var ret = OrderedDictionary<String, Value>()
        ret["changes"] = .map(result.changes)
        ret["comment"] = .string(result.comment)
        ret["name"] = .string(result.name)
        ret["result"] = result.result.map(Value.bool) ?? .null
        if !bare { ret["__sls__"] = chunks[i]["__sls__"] ?? "" }
        ret["__run_num__"] = .int(number)
        if !bare {
            ret["start_time"] = .string(StateRunner.clock(start))
            ret["duration"] = .float((duration * 1000).rounded() / 1000)
            ret["__id__"] = chunks[i]["__id__"] ?? ""
        }
        for (k, v) in result.extra { ret[k] = v }
        let tag = explicitTag ?? stateTag(chunks[i])
        lock.lock()
        if explicitTag == nil { results[i] = result }
        output[tag] = .map(ret)
        lock.broadcast()
        lock.unlock()
        context.stateProgress?.report(tag, .map(ret))
    }

    /// `listen`: mod_watch at the end of the run for each listener whose
    /// listened-to states changed and whose checks pass.
    private func runListeners() {
        for i in chunks.indices {
            for (kind, targets) in requisites[i] where kind == .listen {
                guard targets.contains(where: { !(resultOf($0)?.changes.isEmpty ?? true) }),
                    states.has("\(chunks[i]["state"]?.pythonString ?? "").mod_watch")
                else { continue }
                let start = Date()
                // The listener's own unless/onlyif/creates decide, as in Salt.
                let name = chunks[i]["name"]?.pythonString ?? ""
                let result = runChecks(chunks[i], name: name)
                    ?? (try? call(i, test: options.test, modWatch: true)) ?? StateResult.failed(name, "mod_watch failed")
                var chunk = chunks[i]
                chunk["__id__"] = .string("listener_" + (chunk["__id__"]?.pythonString ?? ""))
                chunk["fun"] = "mod_watch"
                let number = runNumber
                runNumber += 1
                record(i, result, start: start, number: number, tag: stateTag(chunk))
            }
        }
    }

    static func clock(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let micros = Int((date.timeIntervalSince1970 - Double(seconds)) * 1_000_000)
        func pad(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let frac = String(micros)
        return "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(String(repeating: "0", count: max(0, 6 - frac.count)) + frac)"
    }
}

func Thread_sleep_ms(_ seconds: Double) {
    guard seconds > 0 else { return }
    Thread.sleep(forTimeInterval: seconds)
}
