import BrineCore
import Foundation
import OrderedCollections

/// Salt's `cron.file`: the user's crontab is copied to a private file,
/// managed there as `file.managed` would manage it from NAME (so templates,
/// sources and the diff are file.managed's), and installed with `crontab`
/// when it changed.
enum CronFileState {
    static func file(_ call: StateCall) throws -> StateResult {
        let name = call.name, user = call.string("user") ?? "root"
        guard let info = try? call.call("user.info", [.string(user)]), let group = info["groups"]?.listValue?.first else {
            return .failed(name, "Could not identify group for user \(user)")
        }
        var current = try CronModule.raw(user, call.context)
        if !current.hasSuffix("\n") { current += "\n" }
        if !call["replace"].asFlag && current != "\n" {
            return StateResult(name: name, result: true, comment: "User \(user) already has a crontab. No changes made")
        }
        return try FileOps.withScratchFile(Array(current.utf8)) { path in
            var arguments = Arguments()
            // the scratch file stays root's (0600): crontab gets its bytes on stdin,
            // so the user cannot swap it for a link before it is read
            arguments.values = ["source": .string(name), "mode": "0600"]
            for key in ["source_hash", "source_hash_name", "template", "context", "defaults", "backup"] where !call[key].isNull {
                arguments.values[key] = call[key]
            }
            var managing = call
            managing.name = path
            managing.arguments = arguments
            if call.test {
                // Salt's file.check_managed: the diff (its temporary file's name in the comment)
                let desired: String
                do { desired = try FileState.desiredContent(managing) ?? "" } catch let error as BrineError { return .failed(name, error.description) }
                guard desired != current else { return StateResult(name: name, result: true, comment: "The file \(path) is in the correct state") }
                return StateResult(name: name, result: nil, comment: "The following values are set to be changed:\ndiff: \(Diff.unified(current, desired))\n")
            }
            var managed = try FileState.managed(managing)
            managed.name = name
            guard managed.result != false else { return managed }
            if managed.changes["diff"] != nil {
                let installed = try call.context.runner.run(Command(["crontab", "-u", user, "-"], environment: ["LC_ALL": "C", "PATH": "/usr/bin:/bin"],
                                                                    stdin: try FileOps.readText(path)))
                guard installed.retcode == 0 else {
                    return .failed(name, "Unable to update user \(user) crontab \(path). Error: \(installed.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
                }
                managed.comment = "Crontab for user \(user) was updated"
                managed.result = true
                // Salt's scratch file is handed to the user, and its changes say so
                if user != "root" {
                    managed.changes["user"] = .string(user)
                    managed.changes["group"] = group
                }
                return managed
            }
            return StateResult(name: name, result: true, comment: "Crontab for user \(user) is in the correct state")
        }
    }
}
