import Synchronization

/// A value computed on first use and shared afterwards.
///
/// Grains and pillar are expensive enough (files read, templates rendered)
/// that `test.ping` should not pay for them; functions that need them pay once.
public final class Lazy<T: Sendable>: Sendable {
    private let state: Mutex<T?>
    private let make: @Sendable () throws -> T

    public init(_ make: @escaping @Sendable () throws -> T) {
        self.state = Mutex(nil)
        self.make = make
    }

    public init(value: T) {
        self.state = Mutex(value)
        self.make = { value }
    }

    public func get() throws -> T {
        try state.withLock { cached in
            if let cached { return cached }
            let value = try make()
            cached = value
            return value
        }
    }
}
