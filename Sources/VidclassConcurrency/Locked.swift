import CThreadSanitizer
import Synchronization

/// A value guarded by a `Synchronization.Mutex`, for state that threads of our own share (caches,
/// progress, results filled in by workers). Never waited on inside an `async` function: the async
/// APIs hand work to threads of their own and suspend.
///
/// The only difference from a bare `Mutex`: each critical section also tells ThreadSanitizer about
/// the lock (the standard library's futex is invisible to it), so `swift test --sanitize=thread`
/// reports real races only. Outside sanitizer builds that is two empty calls.
package final class Locked<Value: ~Copyable>: Sendable {
    private let mutex: Mutex<Value>

    package init(_ value: consuming sending Value) {
        mutex = Mutex(value)
    }

    /// Runs `body` with the value, one caller at a time.
    package func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        let token = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            vc_tsan_acquire(token)
            defer { vc_tsan_release(token) }
            return try body(&value)
        }
    }
}
