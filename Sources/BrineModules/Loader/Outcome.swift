import Synchronization

/// What a call leaves besides its return value: Salt's
/// `__context__["retcode"]`, which decides the CLI's exit code.
public final class Outcome: Sendable {
    private let code = Mutex(0)

    public init() {}

    public var retcode: Int { code.withLock { $0 } }

    public func fail(_ retcode: Int = 1) {
        code.withLock { $0 = retcode == 0 ? 1 : retcode }
    }
}
