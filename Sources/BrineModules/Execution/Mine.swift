import BrineCore

/// Salt's `mine` module as a masterless minion sees it: Brine keeps no mine
/// yet, so `mine.get` answers what Salt answers with an empty mine cache.
public enum MineModule: ExecutionModule {
    public static let name = "mine"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("get", doc: "Return mine data from targeted minions ({} here: Brine has no mine yet).",
                          [Parameter("tgt"), Parameter("fun"), Parameter("tgt_type", default: "glob")], kwargs: true) { _, _ in
            .emptyMap
        },
    ]
}
