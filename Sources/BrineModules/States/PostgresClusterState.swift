import BrineCore

/// Salt's `postgres_cluster` states: a Debian PostgreSQL cluster present
/// (created with pg_createcluster) or absent (stopped, then dropped).
public enum PostgresClusterState: StateModule {
    public static let name = "postgres_cluster"

    public static let functions: [StateFunction] = [
        StateFunction("present", doc: "Cluster VERSION/NAME exists; a port or datadir that differs is an error (they cannot change on the fly).",
                      [Parameter("version"), Parameter("port", default: .null), Parameter("encoding", default: .null),
                       Parameter("locale", default: .null), Parameter("datadir", default: .null),
                       Parameter("allow_group_access", default: .null), Parameter("data_checksums", default: .null),
                       Parameter("wal_segsize", default: .null)]) { call in
            try present(call)
        },
        StateFunction("absent", doc: "Cluster VERSION/NAME does not exist (stopped, then dropped).", [Parameter("version")]) { call in
            try absent(call)
        },
    ]

    static func present(_ call: StateCall) throws -> StateResult {
        let version = call["version"].pythonString, name = call.name, cluster = "\(version)/\(name)"
        let clusters = try call.call("postgres.cluster_list", [], ["verbose": true])
        if let info = clusters[cluster] {
            let wrongPort = !call["port"].isNull && call["port"].intValue != info["port"]?.intValue
            let wrongDir = call.string("datadir").map { $0 != info["datadir"]?.stringValue } ?? false
            if wrongPort || wrongDir {
                var comment = "Cluster \(cluster) has wrong parameters which couldn't be changed on fly."
                if wrongPort { comment += " Port: \(info["port"]?.pythonString ?? "?"), wanted \(call["port"].pythonString)." }
                if wrongDir { comment += " Datadir: \(info["datadir"]?.pythonString ?? "?"), wanted \(call.string("datadir") ?? "")." }
                return StateResult(name: name, result: false, comment: comment)
            }
            return StateResult(name: name, result: true, comment: "Cluster \(cluster) is already present")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "Cluster \(cluster) is set to be created") }
        var keyword: [String: Value] = ["version": .string(version), "name": .string(name)]
        for key in ["port", "encoding", "locale", "datadir", "allow_group_access", "data_checksums", "wal_segsize"] where !call[key].isNull {
            keyword[key] = call[key]
        }
        let created = try call.call("postgres.cluster_create", [], keyword)
        guard created != false else {
            return StateResult(name: name, result: false, comment: "Failed to create cluster \(cluster)")
        }
        return StateResult(name: name, result: true, changes: [cluster: "Present"], comment: "The cluster \(cluster) has been created")
    }

    static func absent(_ call: StateCall) throws -> StateResult {
        let version = call["version"].pythonString, name = call.name, cluster = "\(version)/\(name)"
        guard try call.call("postgres.cluster_exists", [], ["version": .string(version), "name": .string(name)]) == true else {
            return StateResult(name: name, result: true, comment: "Cluster \(cluster) is not present, so it cannot be removed")
        }
        if call.test { return StateResult(name: name, result: nil, comment: "Cluster \(cluster) is set to be removed") }
        let removed = try call.call("postgres.cluster_remove", [], ["version": .string(version), "name": .string(name), "stop": true])
        guard removed["retcode"] == 0 else {
            return StateResult(name: name, result: false, comment: "Failed to remove cluster \(cluster): \(removed["stderr"]?.pythonString ?? "")")
        }
        return StateResult(name: name, result: true, changes: [name: "Absent"], comment: "Cluster \(cluster) has been removed")
    }
}
