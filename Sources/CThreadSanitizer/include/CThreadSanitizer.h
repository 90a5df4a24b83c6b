#ifndef VIDCLASS_CTHREADSANITIZER_H
#define VIDCLASS_CTHREADSANITIZER_H

/// Tells ThreadSanitizer that the calling thread acquired (or releases) the lock at `address`.
///
/// Swift's `Synchronization.Mutex` locks with a futex inside the standard library, which is not
/// instrumented: ThreadSanitizer sees no order between two critical sections and reports their
/// accesses as races. `Locked` (VidclassConcurrency) calls these inside the mutex so the order
/// is visible. They do nothing unless this target is built with `-fsanitize=thread`
/// (`swift build --sanitize=thread`).
void vc_tsan_acquire(const void *address);
void vc_tsan_release(const void *address);

#endif
