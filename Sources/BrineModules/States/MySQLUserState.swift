import BrineCore

/// Salt's `mysql_user` states (saltext-mysql): an account USER@HOST with a
/// password, a password hash, or passwordless/unix_socket login, or absent.
/// Passwords never reach a comment or `changes`.
public enum MySQLUserState: StateModule {
    public static let name = "mysql_user"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Account NAME@HOST exists with password / password_hash, or passwordless (allow_passwordless) or unix_socket login.",
                      [Parameter("host", default: "localhost")] + [Parameter].optional("password", "password_hash")
                          + [Parameter("allow_passwordless", default: false), Parameter("unix_socket", default: false),
                             Parameter("password_column", default: .null), Parameter("auth_plugin", default: "mysql_native_password")]) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Account NAME@HOST does not exist.", [Parameter("host", default: "localhost")]) { call in
            try absent(call)
        },
    ]

    static func account(_ call: StateCall, _ extra: [String: Value] = [:]) -> Arguments {
        var values: [String: Value] = ["user": .string(call.name), "host": call["host"], "password_column": call["password_column"],
                                       "password": .null, "password_hash": .null, "passwordless": false, "unix_socket": false]
        for (k, v) in extra { values[k] = v }
        return MySQLDatabaseState.arguments(call, values)
    }

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name, host = call["host"].pythonString, ctx = call.context, note = MySQLModule.ErrorNote()
        var comment = "User \(name)@\(host) is already present"
        let password = call.string("password").flatMap { $0.isEmpty ? nil : $0 }
        let hash = call.string("password_hash").flatMap { $0.isEmpty ? nil : $0 }
        let passwordless = password == nil && hash == nil
        let allow = call["allow_passwordless"].asFlag, socket = call["unix_socket"].asFlag
        if passwordless {
            if !allow && !socket {
                return StateResult.failed(name, "Either password or password_hash must be specified, unless allow_passwordless is True")
            }
            if try MySQLModule.userExists(account(call, ["passwordless": true, "unix_socket": .bool(socket)]), ctx, note) {
                if allow { comment += " with passwordless login" }
                return StateResult(name: name, result: true, comment: comment)
            }
            if let error = note.pop() { return StateResult.failed(name, error) }
        } else {
            let check = account(call, ["password": password.map(Value.string) ?? .null, "password_hash": hash.map(Value.string) ?? .null,
                                       "unix_socket": .bool(socket)])
            if try MySQLModule.userExists(check, ctx, note) {
                if call["auth_plugin"].pythonString == "mysql_native_password" {
                    comment += " with the desired password" + (hash != nil && password == nil ? " hash" : "")
                } else {
                    comment += ". Unable to verify password."
                }
                return StateResult(name: name, result: true, comment: comment)
            }
            if let error = note.pop() { return StateResult.failed(name, error) }
        }
        let change = account(call, ["password": password.map(Value.string) ?? .null, "password_hash": hash.map(Value.string) ?? .null,
                                    "allow_passwordless": call["allow_passwordless"], "unix_socket": call["unix_socket"],
                                    "auth_plugin": call["auth_plugin"]])
        if try MySQLModule.userExists(account(call, ["unix_socket": .bool(socket)]), ctx, note) {
            let verb = passwordless ? "cleared" : "changed"
            if call.test {
                var ret = StateResult(name: name, result: nil, comment: "Password for user \(name)@\(host) is set to be \(verb)")
                if passwordless && !allow { ret.comment += ", but allow_passwordless != True"; ret.result = false }
                return ret
            }
            if try MySQLModule.changePassword(change, ctx, note) {
                return StateResult(name: name, result: true, changes: [name: "Updated"], comment: "Password for user \(name)@\(host) has been \(verb)")
            }
            var failed = "Failed to \(passwordless ? "clear" : "change") password for user \(name)@\(host)"
            if let error = note.pop() { failed += " (\(error))" }
            if passwordless && !allow { failed += ". Note: allow_passwordless must be True to permit passwordless login." }
            return StateResult.failed(name, failed)
        }
        if let error = note.pop() { return StateResult.failed(name, error) }
        if call.test {
            var ret = StateResult(name: name, result: nil, comment: "User \(name)@\(host) is set to be added")
            if allow { ret.comment += " with passwordless login" }
            if socket { ret.comment += " using unix_socket" }
            return ret
        }
        guard try MySQLModule.createUser(change, ctx, note) else {
            return StateResult.failed(name, "Failed to create user \(name)@\(host)" + (note.pop().map { " (\($0))" } ?? ""))
        }
        var done = "The user \(name)@\(host) has been added"
        if allow { done += " with passwordless login" }
        if socket { done += " using unix_socket" }
        return StateResult(name: name, result: true, changes: [name: "Present"], comment: done)
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name, host = call["host"].pythonString, ctx = call.context, note = MySQLModule.ErrorNote()
        if try MySQLModule.userExists(account(call), ctx, note) {
            if call.test { return StateResult(name: name, result: nil, comment: "User \(name)@\(host) is set to be removed") }
            if try MySQLModule.removeUser(account(call), ctx, note) {
                return StateResult(name: name, result: true, changes: [name: "Absent"], comment: "User \(name)@\(host) has been removed")
            }
            if let error = note.pop() { return StateResult.failed(name, error) }
        } else if let error = note.pop() {
            return StateResult.failed(name, error)
        }
        return StateResult(name: name, result: true, comment: "User \(name)@\(host) is not present, so it cannot be removed")
    }
}
