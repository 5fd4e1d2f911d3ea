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
    ]
}
