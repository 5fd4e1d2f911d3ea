import BrineCore

/// Salt's `mysql_grants` states (saltext-mysql): privileges GRANT on
/// DATABASE (`db.table`) held by USER@HOST, or not.
public enum MySQLGrantsState: StateModule {
    public static let name = "mysql_grants"

    static let parameters = [Parameter("grant", default: .null), Parameter("database", default: .null), Parameter("user", default: .null),
                             Parameter("host", default: "localhost"), Parameter("grant_option", default: false), Parameter("escape", default: true)]

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "USER@HOST holds GRANT (a privilege list) on DATABASE (db.table), with grant_option when asked.",
                      parameters + [Parameter("revoke_first", default: false), Parameter("ssl_option", default: false)]) { call in
            try present(call)
        },
        StateFunction("absent", doc: "USER@HOST does not hold GRANT on DATABASE.", parameters) { call in
            try absent(call)
        },
    ]

    static func words(_ call: StateCall) -> (String, String, String, String) {
        (call["grant"].pythonString, call["database"].pythonString, call["user"].pythonString, call["host"].pythonString)
    }

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context, note = MySQLModule.ErrorNote()
        let (grant, database, user, host) = words(call)
        let a = MySQLDatabaseState.arguments(call, [:])
        if try MySQLModule.grantExists(a, ctx, note) {
            return StateResult(name: name, result: true, comment: "Grant \(grant) on \(database) to \(user)@\(host) is already present")
        }
        if let error = note.pop() { return StateResult.failed(name, error) }
        if call.test { return StateResult(name: name, result: nil, comment: "MySQL grant \(name) is set to be created") }
        guard try MySQLModule.addGrant(a, ctx, note) else {
            return StateResult.failed(name, "Failed to execute: \"GRANT \(grant) ON \(database) TO \(user)@\(host)\"" + (note.pop().map { " (\($0))" } ?? ""))
        }
        return StateResult(name: name, result: true, changes: [name: "Present"], comment: "Grant \(grant) on \(database) to \(user)@\(host) has been added")
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name, ctx = call.context, note = MySQLModule.ErrorNote()
        let (grant, database, user, host) = words(call)
        let a = MySQLDatabaseState.arguments(call, [:])
        if try MySQLModule.grantExists(a, ctx, note) {
            if call.test { return StateResult(name: name, result: nil, comment: "MySQL grant \(name) is set to be revoked") }
            if try MySQLModule.revokeGrant(a, ctx, note) {
                return StateResult(name: name, result: true, changes: [name: "Absent"], comment: "Grant \(grant) on \(database) for \(user)@\(host) has been revoked")
            }
            if let error = note.pop() {
                return StateResult.failed(name, "Unable to revoke grant \(grant) on \(database) for \(user)@\(host) (\(error))")
            }
        } else if let error = note.pop() {
            return StateResult.failed(name, "Unable to determine if grant \(grant) on \(database) for \(user)@\(host) exists (\(error))")
        }
        return StateResult(name: name, result: true, comment: "Grant \(grant) on \(database) to \(user)@\(host) is not present, so it cannot be revoked")
    }
}
