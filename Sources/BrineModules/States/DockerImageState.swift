import BrineCore
import OrderedCollections

/// Salt's `docker_image` states (saltext-dockermod): an image present —
/// already there, loaded from a tar file, built from SLS files by Brine's
/// image builder (`sls:`, the same build as `brine build`), or pulled —
/// or absent.
public enum DockerImageState: StateModule {
    public static let name = "docker_image"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Image NAME(:TAG) exists: loaded (load), built from SLS (sls, base, pillar) or pulled; force does it again.",
                      [Parameter].optional("tag", "build", "load", "sls", "pillar", "pillarenv")
                          + [Parameter("force", default: false), Parameter("base", default: "opensuse/python"), Parameter("saltenv", default: "base")]) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Image NAME (or each of images) does not exist.",
                      [Parameter("images", default: .null), Parameter("force", default: false)]) { call in
            try absent(call)
        },
    ]

    static func present(_ call: StateCall) throws -> StateResult {
        var name = call.name
        let ctx = call.context
        let sources = ["build", "load", "sls"].filter { !call[$0].isNull }
        if sources.count > 1 { return StateResult.failed(name, "Only one of 'build', 'load', or 'sls' is permitted.") }
        let tag = call["tag"].isNull ? nil : call["tag"].pythonString
        if !sources.isEmpty && tag == nil {
            return StateResult.failed(name, "The 'tag' argument is required if any one of 'build', 'load', or 'sls' is used.")
        }
        let fullImage: String
        if sources.isEmpty {
            if let tag { name = "\(name):\(tag)" }
            fullImage = name
        } else {
            fullImage = "\(name):\(tag ?? "latest")"
        }
        let engine = try DockerEngine(ctx)
        let before = try engine.inspect("images", DockerModule.reference(fullImage))
        if before != nil && !call["force"].asFlag {
            return StateResult(name: call.name, result: true, comment: "Image \(fullImage) already present")
        }
        let action = sources.first == "load" ? "loaded" : (sources.isEmpty ? "pulled" : "built")
        if call.test { return StateResult(name: call.name, result: nil, comment: "Image \(fullImage) will be \(action)") }
        var changes = Value.emptyMap
        switch sources.first {
        case "load":
            var a = call.arguments
            a.values = ["path": call["load"], "repository": .string(name), "tag": .string(tag ?? "latest")]
            do {
                let loaded = try DockerModule.load(a, ctx)
                if before == nil || loaded["Layers"]?.listValue?.isEmpty == false { changes = loaded }
            } catch {
                return StateResult.failed(call.name, "Encountered error loading \(call["load"].pythonString) as \(fullImage): \(error)")
            }
        case "sls":
            var a = call.arguments
            a.values = ["repository": .string(name), "tag": .string(tag ?? "latest"), "base": call["base"], "mods": call["sls"],
                        "saltenv": call["saltenv"], "pillar": call["pillar"]]
            do {
                let built = try DockerImageBuild.slsBuild(a, ctx)
                if before?["Id"] != built["Id"] { changes = built }
            } catch {
                return StateResult.failed(call.name, "Encountered error using SLS \(call["sls"].pythonString) for building \(fullImage): \(error)")
            }
        case "build":
            return StateResult.failed(call.name, "Encountered error building \(call["build"].pythonString) as \(fullImage): building from a Dockerfile is not supported by Brine; use sls")
        default:
            do {
                let pulled = try DockerModule.pull(name, ctx)
                if before == nil || pulled["Layers"]?["Pulled"]?.listValue?.isEmpty == false { changes = pulled }
            } catch {
                return StateResult.failed(call.name, "Encountered error pulling \(fullImage): \(error)")
            }
        }
        if changes.mapValue?.isEmpty == false {
            return StateResult(name: call.name, result: true, changes: changes.mapValue ?? [:], comment: "Image '\(fullImage)' was \(action)")
        }
        return StateResult(name: call.name, result: true, comment: "Image '\(name)' was \(action), but there were no changes")
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context
        let targets = call["images"].listValue.map { $0.map(\.pythonString) } ?? [name]
        let engine = try DockerEngine(ctx)
        var toDelete: [String] = []
        for target in targets {
            if let tag = try DockerModule.resolveTag(target, ctx) { toDelete.append(tag) }
        }
        guard !toDelete.isEmpty else {
            return StateResult(name: name, result: true, comment: targets.count == 1 ? "Image \(name) is not present" : "All specified images are not present")
        }
        if call.test {
            return StateResult(name: name, result: nil, comment: toDelete.count == 1 ? "Image \(toDelete[0]) will be removed"
                                                                                   : "The following images will be removed: \(toDelete.joined(separator: ", "))")
        }
        var layers: [Value] = [], tags: [Value] = [], errors: [Value] = []
        for image in toDelete {
            let answer = try engine.call("DELETE", "/images/\(DockerEngine.escape(image))", query: [("force", call["force"].asFlag ? "1" : "0")])
            guard answer.status == 200 else {
                errors.append(.string(answer.status == 409 ? answer.message : "Error \(answer.status): \(answer.message)"))
                continue
            }
            for entry in answer.json.listValue ?? [] {
                if let deleted = entry["Deleted"] { layers.append(deleted) }
                if let untagged = entry["Untagged"] { tags.append(untagged) }
            }
        }
        var result: OrderedDictionary<String, Value> = ["Layers": .list(layers), "Tags": .list(tags), "retcode": .int(errors.isEmpty ? 0 : 1)]
        if !errors.isEmpty { result["Errors"] = .list(errors) }
        let remaining = Set(try DockerModule.tags(ctx))
        let failed = toDelete.filter { remaining.contains($0) }
        if failed.count == toDelete.count {
            var comment = "None of the specified images were removed"
            if !errors.isEmpty { comment += ". The following errors were encountered: \(errors.map(\.pythonString).joined(separator: "; "))" }
            return StateResult.failed(name, comment)
        }
        if !failed.isEmpty {
            return StateResult(name: name, result: false, changes: result, comment: "The following image(s) failed to be removed: \(failed.joined(separator: ", "))")
        }
        return StateResult(name: name, result: true, changes: result, comment: toDelete.count == 1 ? "Image \(toDelete[0]) was removed"
                                                                                                  : "The following images were removed: \(toDelete.joined(separator: ", "))")
    }
}
