import BrineCore

/// Salt's `uptime` module, on Brine's monitor: the seed's tooling called
/// these against the uptime app; the API is the same.
public enum UptimeModule: ExecutionModule {
    public static let name = "uptime"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("create", doc: "Create a check on URL NAME (extra keywords are API fields, e.g. interval); returns its id.",
                          [Parameter("name")], kwargs: true) { args, ctx in
            let api = try MonitorAPI(ctx)
            let url = args.string("name") ?? ""
            if try api.find(url) != nil { throw BrineError(.execution, "Trying to create check that already exists : \(url)") }
            var fields = args.extraKeywords
            if let polling = fields.removeValue(forKey: "polling"), fields["interval"] == nil { fields["interval"] = polling }
            return try api.create(url: url, fields)["_id"] ?? .null
        },
        ExecutionFunction("delete", doc: "Delete the check on URL NAME.", [Parameter("name")]) { args, ctx in
            let api = try MonitorAPI(ctx)
            let url = args.string("name") ?? ""
            guard let check = try api.find(url) else { throw BrineError(.execution, "Trying to delete check that doesn't exists : \(url)") }
            return .bool(try api.delete(check["_id"]?.pythonString ?? ""))
        },
        ExecutionFunction("checks_list", doc: "The URLs of every check.") { _, ctx in
            .list(try MonitorAPI(ctx).checks(tag: nil).compactMap { $0["url"] })
        },
        ExecutionFunction("check_exists", doc: "Whether URL NAME has a check.", [Parameter("name")]) { args, ctx in
            .bool(try MonitorAPI(ctx).find(args.string("name") ?? "") != nil)
        },
    ]
}
