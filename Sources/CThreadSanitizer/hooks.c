#include "CThreadSanitizer.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VC_THREAD_SANITIZER 1
#endif
#endif

#ifdef VC_THREAD_SANITIZER
void __tsan_acquire(void *address);
void __tsan_release(void *address);

void vc_tsan_acquire(const void *address) { __tsan_acquire((void *)address); }
void vc_tsan_release(const void *address) { __tsan_release((void *)address); }
#else
void vc_tsan_acquire(const void *address) { (void)address; }
void vc_tsan_release(const void *address) { (void)address; }
#endif
