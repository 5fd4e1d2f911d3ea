import Dispatch
import Foundation

/// Clean shutdown on SIGTERM and SIGINT: run the cleanup (remove the
/// pidfile and sockets), then exit 0. Keep the returned sources alive.
public enum Signals {
    public static func onTermination(exitCode: Int32 = 0, _ cleanup: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                cleanup()
                exit(exitCode)
            }
            source.resume()
            return source
        }
    }
}
