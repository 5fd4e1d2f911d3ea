import BrineCore
import Foundation
import OrderedCollections

/// Salt's `postgres` module: the cluster functions on Debian's
/// postgresql-common tools (pg_createcluster, pg_lsclusters, pg_dropcluster),
/// what the seed's sprint wrote for Salt, here; the functions on a running
/// server (roles, databases, schemas, extensions) in PostgresSQL.swift.
public enum PostgresModule: ExecutionModule {
    public static let name = "postgres"

    public static let functions: [ExecutionFunction] = clusterFunctions + sqlFunctions + privilegeFunctions

    static let clusterFunctions: [ExecutionFunction] = [
        ExecutionFunction("cluster_create", doc: "Create cluster VERSION/NAME (pg_createcluster); False when it fails, else the command's result.",
                          [Parameter("version"), Parameter("name", default: "main"), Parameter("port", default: .null),
                           Parameter("locale", default: .null), Parameter("encoding", default: .null), Parameter("datadir", default: .null),
                           Parameter("allow_group_access", default: .null), Parameter("data_checksums", default: .null),
                           Parameter("wal_segsize", default: .null)]) { args, ctx in
            try create(args, ctx)
        },
        ExecutionFunction("cluster_list", doc: "Clusters as VERSION/NAME; with verbose, each one's port, status, user, datadir and log.",
                          [Parameter("verbose", default: false)]) { args, ctx in
            let clusters = try list(ctx)
            return args.bool("verbose") ? .map(clusters) : .list(clusters.keys.map(Value.string))
        },
        ExecutionFunction("cluster_exists", doc: "Whether cluster VERSION/NAME exists.",
                          [Parameter("version"), Parameter("name", default: "main")]) { args, ctx in
            .bool(try list(ctx)["\(args["version"].pythonString)/\(args.string("name") ?? "main")"] != nil)
        },
        ExecutionFunction("cluster_remove", doc: "Drop cluster VERSION/NAME (pg_dropcluster, with --stop when stop is True).",
                          [Parameter("version"), Parameter("name", default: "main"), Parameter("stop", default: false)]) { args, ctx in
            try remove(args, ctx)
        },
    ]

    static func tool(_ name: String) throws -> String {
        let path = "/usr/bin/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BrineError(.notAvailable, "\(name) is not installed", hint: "apt-get install postgresql-common (and a postgresql-NN server)")
        }
        return path
    }

    static func runAll(_ arguments: [String], _ ctx: ExecutionContext) throws -> Value {
        let result = try ctx.runner.run(Command(arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"]))
        return ["pid": .int(result.pid), "retcode": .int(result.retcode), "stdout": .string(result.stdout), "stderr": .string(result.stderr)]
    }

    static func create(_ args: Arguments, _ ctx: ExecutionContext) throws -> Value {
        var command = [try tool("pg_createcluster")]
        if !args["port"].isNull { command += ["--port", args["port"].pythonString] }
        if let locale = args.string("locale") { command += ["--locale", locale] }
        if let encoding = args.string("encoding") { command += ["--encoding", encoding] }
        if let datadir = args.string("datadir") { command += ["--datadir", datadir] }
        command += [args["version"].pythonString, args.string("name") ?? "main"]
        var initdb: [String] = []
        if args["allow_group_access"].asFlag { initdb.append("--allow-group-access") }
        if args["data_checksums"].asFlag { initdb.append("--data-checksums") }
        if !args["wal_segsize"].isNull { initdb += ["--wal-segsize", args["wal_segsize"].pythonString] }
        if !initdb.isEmpty { command += ["--"] + initdb }
        let result = try runAll(command, ctx)
        guard result["retcode"] == 0 else {
            _ = try? ctx.call("log.error", [.string("Error creating a Postgresql cluster \(args["version"].pythonString)/\(args.string("name") ?? "main"): \(result["stderr"]?.pythonString ?? "")")])
            return false
        }
        return result
    }

    /// pg_lsclusters --no-header: "15 main 5432 online postgres /var/lib/... /var/log/...".
    static func list(_ ctx: ExecutionContext) throws -> OrderedDictionary<String, Value> {
        let result = try runAll([try tool("pg_lsclusters"), "--no-header"], ctx)
        guard result["retcode"] == 0 else {
            throw BrineError(.execution, "Error listing clusters: \(result["stderr"]?.pythonString ?? "")")
        }
        var clusters = OrderedDictionary<String, Value>()
        for line in (result["stdout"]?.stringValue ?? "").split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 7 else { continue }
            clusters["\(fields[0])/\(fields[1])"] = ["port": .int(Int(fields[2]) ?? 0), "status": .string(fields[3]),
                                                    "user": .string(fields[4]), "datadir": .string(fields[5]), "log": .string(fields[6])]
        }
        return clusters
    }

    static func remove(_ args: Arguments, _ ctx: ExecutionContext) throws -> Value {
        var command = [try tool("pg_dropcluster")]
        if args.bool("stop") { command.append("--stop") }
        let cluster = "\(args["version"].pythonString)/\(args.string("name") ?? "main")"
        command += [args["version"].pythonString, args.string("name") ?? "main"]
        var result = try runAll(command, ctx)
        if result["retcode"] == 0 {
            result = result.merged(with: ["changes": .string("Successfully removed cluster \(cluster)")])
        } else {
            _ = try? ctx.call("log.error", [.string("Error removing a Postgresql cluster \(cluster): \(result["stderr"]?.pythonString ?? "")")])
        }
        return result
    }
}
