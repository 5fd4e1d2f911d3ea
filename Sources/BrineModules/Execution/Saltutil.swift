import BrineCore

/// Salt's `saltutil` functions that make sense here.
public enum SaltutilModule: ExecutionModule {
    public static let name = "saltutil"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("refresh_pillar", doc: "Fetch the pillar's git and hg sources again (on the master for a minion); True when done.",
                          [Parameter("wait", default: false)], kwargs: true) { _, ctx in
            try ctx.fileClient.refreshPillar(ctx.opts)
            return true
        },
        // Brine has no custom modules to sync: Salt's answer with nothing synced.
        ExecutionFunction("sync_all", doc: "Sync custom modules from the file server: Brine has none, so nothing is synced.",
                          [Parameter("saltenv", default: .null), Parameter("refresh", default: true)], kwargs: true) { _, _ in
            Value.ordered(syncKinds.map { ($0, .list([])) })
        },
        ExecutionFunction("running", doc: "Return the jobs running on this minion (none when called locally).") { _, _ in
            .list([])
        },
        ExecutionFunction("kill_job", doc: "Kill a running job by jid (none run beside a local call).", [Parameter("jid")]) { _, _ in
            ""
        },
    ]

    static let syncKinds = ["tops", "clouds", "beacons", "modules", "states", "sdb", "grains", "renderers", "returners", "output",
                            "utils", "log_handlers", "executors", "proxymodules", "engines", "thorium", "serializers", "matchers",
                            "resources", "pillar", "wrapper"]
}
