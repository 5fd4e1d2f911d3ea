#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-thread cache of the computed stack limit (an immutable key, created once).
private let stackKey: pthread_key_t? = {
    var key = pthread_key_t()
    return pthread_key_create(&key, nil) == 0 ? key : nil
}()

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
        // Looking the bounds up can read /proc/self/maps (main thread), so cache per thread.
        if let key = stackKey, let cached = pthread_getspecific(key) {
            let v = UInt(bitPattern: cached)
            limit = v == 1 ? 0 : v
            return
        }
        let computed = StackGuard.computeLimit()
        if let key = stackKey {
            _ = pthread_setspecific(key, UnsafeRawPointer(bitPattern: computed == 0 ? 1 : computed))
        }
        limit = computed
    }

    static func computeLimit() -> UInt {
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
        return low == 0 ? 0 : low + StackGuard.margin
    }

    /// False when the stack is nearly exhausted.
    @inline(__always) func hasRoom() -> Bool {
        if limit == 0 { return true }
        var marker: UInt8 = 0
        let sp = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
        return sp > limit
    }
}
