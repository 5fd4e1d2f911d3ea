#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Knows the current thread's stack bounds so that deep recursion (macros
/// calling themselves, deeply nested expressions) ends in a RecursionError
/// instead of a crash, whatever the thread's stack size (Swift concurrency
/// threads have 512 KiB; debug builds use far larger frames than release).
struct StackGuard {
    /// Lowest usable stack address plus the safety margin; 0 when unknown.
    let limit: UInt

    #if DEBUG
    static let margin: UInt = 192 * 1024
    #else
    static let margin: UInt = 64 * 1024
    #endif

    init() {
        var low: UInt = 0
        #if os(Linux)
        // pthread_getattr_np is a GNU extension the Glibc module does not export.
        typealias GetAttr = @convention(c) (pthread_t, UnsafeMutablePointer<pthread_attr_t>) -> Int32
        var attr = pthread_attr_t()
        if let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_getattr_np"),
           unsafeBitCast(sym, to: GetAttr.self)(pthread_self(), &attr) == 0 {
            var addr: UnsafeMutableRawPointer? = nil
            var size = 0
            if pthread_attr_getstack(&attr, &addr, &size) == 0 {
                low = UInt(bitPattern: addr)
            }
            pthread_attr_destroy(&attr)
        }
        #elseif canImport(Darwin)
        let top = UInt(bitPattern: pthread_get_stackaddr_np(pthread_self()))
        let size = UInt(pthread_get_stacksize_np(pthread_self()))
        low = top > size ? top - size : 0
        #endif
        limit = low == 0 ? 0 : low + StackGuard.margin
    }

    /// False when the stack is nearly exhausted.
    @inline(__always) func hasRoom() -> Bool {
        if limit == 0 { return true }
        var marker: UInt8 = 0
        let sp = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
        return sp > limit
    }
}
