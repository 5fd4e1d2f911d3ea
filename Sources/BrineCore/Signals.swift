import Dispatch
import Foundation

/// Clean shutdown on SIGTERM and SIGINT: run the cleanup (remove the
/// pidfile and sockets), then exit 0. Keep the returned sources alive.
public enum Signals {
    public static func onTermination(_ cleanup: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                cleanup()
                exit(0)
            }
            source.resume()
            return source
        }
    }
}
