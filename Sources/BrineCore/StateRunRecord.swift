/// A state run's return, summarised as the highstate outputter's summary
/// counts it, with one entry per state.
public struct StateRunRecord: Sendable {
    public struct State: Sendable {
        public var tag: String
        public var id: String
        public var function: String
        public var sls: String
        /// nil: test mode ("would change").
        public var result: Bool?
        public var changed: Bool
        public var durationMS: Double
    }

    public var states: [State]
    public var succeeded: Int { states.filter { $0.result != false }.count }
    public var failed: Int { states.filter { $0.result == false }.count }
    public var changed: Int { states.filter(\.changed).count }
    public var durationMS: Double { states.reduce(0) { $0 + $1.durationMS } }

    /// A state's `duration` as the minion sent it: a number, finite and not
    /// negative, else 0 (NaN would be stored as NULL and fail its batch).
    public static func duration(_ value: Value?) -> Double {
        guard let milliseconds = value?.doubleValue, milliseconds.isFinite, milliseconds >= 0 else { return 0 }
        return milliseconds
    }

    public static let stateFunctions: Set<String> = ["state.apply", "state.highstate", "state.sls", "state.sls_id", "state.single", "state.test"]

    public static func isStateRun(_ fun: String) -> Bool { stateFunctions.contains(fun) }

    /// nil when the return is not a map of state results (a compile error
    /// list, an exception text).
    public init?(_ value: Value) {
        guard let map = value.mapValue, !map.isEmpty else { return nil }
        var states: [State] = []
        for (tag, ret) in map {
            guard let fields = ret.mapValue, fields["result"] != nil else { return nil }
            let parts = tag.components(separatedBy: "_|-")
            let function = parts.count == 4 ? "\(parts[0]).\(parts[3])" : tag
            states.append(State(tag: tag, id: fields["__id__"]?.stringValue ?? (parts.count == 4 ? parts[1] : tag), function: function,
                                sls: fields["__sls__"]?.stringValue ?? "", result: fields["result"]?.boolValue,
                                changed: !(fields["changes"]?.mapValue?.isEmpty ?? true), durationMS: Self.duration(fields["duration"])))
        }
        self.states = states
    }
}
