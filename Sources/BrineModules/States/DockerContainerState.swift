import BrineCore
import OrderedCollections

/// Salt's `docker_container` states (saltext-dockermod): a container
/// running (or at least present) as configured — compared, as Salt does,
/// with a container made from the same image and arguments, and replaced
/// when any Config or HostConfig value differs — stopped, absent, or run
/// once.
public enum DockerContainerState: StateModule {
    public static let name = "docker_container"

    public static let functions: [StateFunction] = [
        StateFunction("running", doc: "Container NAME exists from IMAGE with these arguments (command, environment, binds, port_bindings, network_mode, networks, labels, restart_policy, user, working_dir, hostname…) and runs; replaced when they differ.",
                      [Parameter("image", default: .null), Parameter("force", default: false), Parameter("start", default: true),
                       Parameter("shutdown_timeout", default: .null), Parameter("watch_action", default: "force")]) { call in
            try running(call)
        },
        StateFunction("stopped", doc: "Container NAME (or each of containers) is stopped.",
                      [Parameter("containers", default: .null), Parameter("shutdown_timeout", default: .null), Parameter("unpause", default: false),
                       Parameter("error_on_absent", default: true)]) { call in
            try stopped(call)
        },
        StateFunction("absent", doc: "Container NAME does not exist (force removes a running one).", [Parameter("force", default: false)]) { call in
            try absent(call)
        },
        StateFunction("run", doc: "Run a container from IMAGE once (bg: in the background); failhard fails on a non-zero exit.",
                      [Parameter("image", default: .null), Parameter("bg", default: false), Parameter("failhard", default: true),
                       Parameter("replace", default: false), Parameter("force", default: false)]) { call in
            try run(call)
        },
    ]

    /// Salt's `_format_comments`: several sentences joined by ". " with a final ".".
    static func format(_ comments: [String]) -> String {
        comments.count > 1 ? comments.joined(separator: ". ") + "." : comments.first ?? ""
    }

    static func containerArguments(_ call: StateCall) -> OrderedDictionary<String, Value> {
        DockerModule.containerArguments(call.arguments, excluding: ["name", "image", "force", "start", "shutdown_timeout", "watch_action", "networks"])
    }

    static func running(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context
        var ret = StateResult(name: name, result: true)
        guard let image = call.string("image") else { return StateResult.failed(name, "The 'image' argument is required") }
        let engine = try DockerEngine(ctx)
        let networks = DockerContainerNetworks(call, engine: engine)
        if let missing = try networks?.missing() { return StateResult.failed(name, missing) }
        var imageID = try engine.inspect("images", DockerModule.reference(image))?["Id"]
        if imageID == nil && !call.test {
            do {
                ret.changes["image"] = try DockerModule.pull(image, ctx)
            } catch {
                return StateResult.failed(name, "Failed to pull \(image): \(error)")
            }
            imageID = try engine.inspect("images", DockerModule.reference(image))?["Id"]
            if imageID == nil { return StateResult.failed(name, "Image '\(image)' not present despite a docker pull raising no errors") }
        }
        let existing = try engine.inspect("containers", name)
        let currentImage = existing?["Image"]
        let exists = existing != nil
        let preState = exists ? try DockerModule.state(name, ctx) : nil
        let force = call["force"].asFlag, start = call["start"].asFlag
        // Salt's image id is False when the image is missing: never a container's
        let imageDiffers = exists && currentImage != (imageID ?? false)
        let skipComparison = force || !exists || imageDiffers
        if skipComparison && call.test {
            if force { ret.changes["forced_update"] = true } else if (currentImage ?? .null) != (imageID ?? false) {
                ret.changes["image"] = ["old": currentImage ?? .null, "new": imageID ?? false]
            }
            ret.result = nil
            ret.comment = "Container '\(name)' \(exists ? "would be replaced" : "would be created")"
            return ret
        }
        let temp: String
        do {
            temp = try DockerModule.createContainer(image: image, name: exists ? nil : name, containerArguments(call), ctx)["Id"]?.stringValue ?? ""
        } catch let error as BrineError {
            var message = error.message
            if message.contains("\ninvalid:\n") {
                message += "\n\nIf you feel this information is incorrect, the skip_translate argument can be used to skip input translation for the argument(s) identified as invalid. See the documentation for details."
            }
            return StateResult.failed(name, message)
        }
        var netChanges = OrderedDictionary<String, Value>()
        if let networks {
            let created = DockerContainerNetworks.attached(try engine.inspect("containers", temp))
            try networks.attach(temp)
            let now = DockerContainerNetworks.attached(try engine.inspect("containers", temp))
            netChanges = DockerContainerNetworks.changes(before: exists ? DockerContainerNetworks.attached(existing) : created, after: now)
            if !exists && !netChanges.isEmpty { ret.changes["container"] = ["Networks": .map(netChanges)] }
        }
        // Salt's cleanup_temp: whether the new container is only for comparing
        var cleanupTemp = !skipComparison
        // until it has replaced (or become) the container, it is removed on any failure
        var tempInUse = !exists
        var comments: [String] = []
        defer { if cleanupTemp || !tempInUse { _ = try? engine.call("DELETE", "/containers/\(temp)", query: [("force", "1")]) } }
        func replace() throws -> Bool {
            var ids = OrderedDictionary<String, Value>()
            ids["removed"] = .list(try DockerModule.remove(name, force: false, volumes: false, stopFirst: true,
                                                           timeout: call["shutdown_timeout"].intValue, ctx).map(Value.string))
            do {
                _ = try engine.checked("POST", "/containers/\(temp)/rename", query: [("name", name)])
            } catch {
                ret.result = false
                comments.append("Failed to rename temp container: \(error)")
                return false
            }
            tempInUse = true
            ids["added"] = .string(temp)
            ret.changes["container_id"] = .map(ids)
            comments.append("Replaced container '\(name)'")
            return true
        }
        if !skipComparison, let existing, let tempInspect = try engine.inspect("containers", temp) {
            let ignore: Set<String> = call["hostname"].isNull && call.arguments.extraKeywords["hostname"] == nil ? ["Hostname", "MacAddress"] : ["MacAddress"]
            let diff = try DockerModule.compareContainers(existing, tempInspect, ignore: ignore, ctx)
            if !diff.isEmpty {
                ret.changes["container"] = .map(diff)
                if call.test {
                    ret.result = nil
                    comments.append("Container '\(name)' would be replaced")
                } else {
                    cleanupTemp = false
                    guard try replace() else { ret.comment = format(comments); return ret }
                }
            } else {
                comments.append("Container '\(name)' is already configured as specified")
                if let networks, !netChanges.isEmpty {
                    ret.changes["container"] = ["Networks": .map(netChanges)]
                    if call.test {
                        ret.result = nil
                        comments.append("Network configuration would be updated")
                    } else {
                        for net in netChanges.keys.sorted() {
                            if networks.wanted.contains(net) {
                                try networks.connect(name, net)
                                comments.append("Connected to network '\(net)'")
                            } else {
                                try networks.disconnect(name, net)
                                comments.append("Disconnected from network '\(net)'")
                            }
                        }
                    }
                }
            }
        }
        if skipComparison {
            if !exists {
                comments.append("Created container '\(name)'")
                ret.changes["container_id"] = ["added": .string(temp)]
            } else {
                guard try replace() else { ret.comment = format(comments); return ret }
            }
        }
        var postState: String?
        if (!cleanupTemp && (!exists || start)) || (start && cleanupTemp && preState != "running") {
            if call.test {
                ret.result = nil
                comments.append("Container would be started")
                ret.comment = format(comments)
                return ret
            }
            do {
                postState = try DockerModule.start(name, ctx)["state"]?["new"]?.stringValue
            } catch {
                ret.result = false
                comments.append("Failed to start container '\(name)': '\(error)'")
                ret.comment = format(comments)
                return ret
            }
        } else {
            postState = try DockerModule.state(name, ctx)
        }
        if call.test { ret.comment = format(comments); return ret }
        if let networks, postState == "running", let changed = ret.changes["container"]?["Networks"]?.mapValue {
            var container = ret.changes["container"]?.mapValue ?? [:]
            container["Networks"] = .map(try networks.resolved(changed, container: name))
            ret.changes["container"] = .map(container)
        }
        if preState != postState {
            ret.changes["state"] = ["old": preState.map(Value.string) ?? .null, "new": postState.map(Value.string) ?? .null]
            if let preState { comments.append("State changed from '\(preState)' to '\(postState ?? "None")'") }
        }
        if imageDiffers {
            comments.append("Container has a new image")
            ret.changes["image"] = ["old": currentImage ?? .null, "new": imageID ?? .null]
        }
        if postState != "running" && start {
            ret.result = false
            comments.append("Container is not running")
        }
        ret.comment = format(comments)
        return ret
    }

    static func stopped(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context
        let targets = call["containers"].listValue.map { $0.map(\.pythonString) } ?? [name]
        var buckets: [String: [String]] = [:]
        for target in targets {
            let state = (try? DockerModule.state(target, ctx)) ?? "absent"
            buckets[state, default: []].append(target)
        }
        var errors: [String] = []
        if call["error_on_absent"].asFlag, let absent = buckets["absent"] { errors.append("The following container(s) are absent: \(absent.joined(separator: ", "))") }
        if !call["unpause"].asFlag, let paused = buckets["paused"] { errors.append("The following container(s) are paused: \(paused.joined(separator: ", "))") }
        if !errors.isEmpty { return StateResult.failed(name, errors.joined(separator: ". ")) }
        let toStop = (buckets["running"] ?? []) + (buckets["paused"] ?? [])
        guard !toStop.isEmpty else {
            let subject = targets.count == 1 ? "Container '\(targets[0])' is " : "All specified containers are "
            return StateResult(name: name, result: true, comment: subject + (buckets["absent"] != nil ? "absent or " : "") + "not running")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "The following container(s) will be stopped: \(toStop.joined(separator: ", "))") }
        var ret = StateResult(name: name, result: true)
        var failures: [String] = []
        for target in toStop {
            let stopped = try DockerModule.stop(target, timeout: call["shutdown_timeout"].intValue, ctx)
            if stopped["result"] == true { ret.changes[target] = stopped } else {
                failures.append(stopped["comment"]?.stringValue ?? "Failed to stop container '\(target)'")
            }
        }
        if !failures.isEmpty { ret.result = false; ret.comment = failures.joined(separator: "; "); return ret }
        ret.comment = "The following container(s) were stopped: \(toStop.joined(separator: ", "))"
        return ret
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context
        guard try DockerModule.containerNames(ctx, all: true).contains(name) else {
            return StateResult(name: name, result: true, comment: "Container '\(name)' does not exist")
        }
        let preState = try DockerModule.state(name, ctx)
        let force = call["force"].asFlag
        if preState != "stopped" && !force {
            return StateResult.failed(name, "Container is running, set force to True to forcibly remove it")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "Container '\(name)' will be removed") }
        let removed: [String]
        do {
            removed = try DockerModule.remove(name, force: force, volumes: false, stopFirst: false, timeout: nil, ctx)
        } catch {
            return StateResult.failed(name, "Failed to remove container '\(name)': \(error)")
        }
        var ret = StateResult(name: name, result: true, changes: ["removed": .list(removed.map(Value.string))])
        if try DockerModule.containerNames(ctx, all: true).contains(name) {
            ret.result = false
            ret.comment = "Failed to remove container '\(name)'"
            return ret
        }
        ret.comment = "\(force && preState != "stopped" ? "Forcibly" : "Successfully") removed container '\(name)'"
        return ret
    }

    static func run(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context
        for unsupported in ["watch_action", "start", "shutdown_timeout", "follow"] where call.arguments.extraKeywords[unsupported] != nil {
            return StateResult.failed(name, "The '\(unsupported)' argument is not supported")
        }
        guard call.string("image") != nil else { return StateResult.failed(name, "The 'image' argument is required") }
        if call.test {
            return StateResult(name: name, result: nil, comment: "Container would be run" + (call["bg"].asFlag ? " in the background" : ""))
        }
        var a = call.arguments
        a.values["name"] = .string(name)
        let result: Value
        do { result = try DockerModule.runContainer(a, ctx) } catch {
            return StateResult.failed(name, "Encountered error running container: \(error)")
        }
        var ret = StateResult(name: name, result: true, changes: result.mapValue ?? [:])
        if call["bg"].asFlag {
            ret.comment = "Container was run in the background"
        } else if let code = result["ExitCode"]?.intValue {
            ret.result = !(call["failhard"].asFlag && code != 0)
            ret.comment = "Container ran and exited with a return code of \(code)"
        }
        return ret
    }
}
