import BrineCore

/// Salt's `postgres_extension` states: an extension installed in the
/// database (`maintenance_db`), moved to `schema` or upgraded to
/// `ext_version` when it differs, or absent.
public enum PostgresExtensionState: StateModule {
    public static let name = "postgres_extension"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Extension NAME is installed (in schema, at ext_version when given).",
                      [Parameter].optional("if_not_exists", "schema", "ext_version", "from_version") + PostgresConnectionArguments.parameters) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Extension NAME is not installed (dropped with CASCADE unless restrict).",
                      [Parameter].optional("if_exists", "restrict", "cascade") + PostgresConnectionArguments.parameters) { call in
            try absent(call)
        },
    ]

    static func present(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let db = PostgresConnectionArguments.keywords(call)
        var probe = db
        probe["name"] = .string(name)
        for key in ["schema", "ext_version"] where !call[key].isNull { probe[key] = call[key] }
        let metadata = Set((try call.call("postgres.create_metadata", [], probe).listValue ?? []).map(\.pythonString))
        let install = metadata.contains("EXTENSION NOT INSTALLED")
        let upgrade = metadata.contains("EXTENSION INSTALLED") && (metadata.contains("EXTENSION TO MOVE") || metadata.contains("EXTENSION TO UPGRADE"))
        guard install || upgrade else {
            return StateResult(name: name, result: true, comment: "Extension \(name) is already present")
        }
        let mode = install ? "install" : "upgrade"
        if call.test {
            // Salt builds "…set to be installeded" and replaces "eed" with "ed" in the whole sentence.
            return StateResult(name: name, result: nil, comment: "Extension \(name) is set to be \(mode)ed".replacingOccurrences(of: "eed", with: "ed"))
        }
        var keyword = probe
        for key in ["if_not_exists", "from_version"] where !call[key].isNull { keyword[key] = call[key] }
        guard try call.call("postgres.create_extension", [], keyword).asFlag else {
            return StateResult(name: name, result: false, comment: "Failed to \(mode) extension \(name)")
        }
        return StateResult(name: name, result: true, changes: [name: .string(install ? "Installed" : "Upgraded")],
                           comment: "The extension \(name) has been \(mode)\(install ? "ed" : "d")")
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let name = call.name
        let db = PostgresConnectionArguments.keywords(call)
        guard try call.call("postgres.is_installed_extension", [.string(name)], db).asFlag else {
            return StateResult(name: name, result: true, comment: "Extension \(name) is not present, so it cannot be removed")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "Extension \(name) is set to be removed") }
        var keyword = db
        keyword["name"] = .string(name)
        for key in ["if_exists", "restrict", "cascade"] where !call[key].isNull { keyword[key] = call[key] }
        guard try call.call("postgres.drop_extension", [], keyword).asFlag else {
            return StateResult(name: name, result: false, comment: "Extension \(name) failed to be removed")
        }
        return StateResult(name: name, result: true, changes: [name: "Absent"], comment: "Extension \(name) has been removed")
    }
}
