// FFmpeg's libavdevice brings OpenBLAS into the process (libavfilter → libpocketsphinx →
// libsphinxbase → libblas.so.3, which Debian points at OpenBLAS when libopenblas0 is installed),
// and OpenBLAS's initializer starts a worker thread per extra core that spins on sched_yield for
// about 0.1 s. On a 2-core machine that thread took one of the two cores from the first forward
// passes: a small network's first calls ran at their one-thread speed. vidclass no longer links
// libavdevice (VideoIO opens it when an input names a device format), but when it was linked,
// every process paid; this stops the threads of an OpenBLAS loaded before main all the same. The
// environment cannot stop it from the executable (libc's own initializer puts back the
// environment the process was started with, after any pre-initializer), so main stops the threads
// as its first act, with OpenBLAS's own calls, found only in an OpenBLAS that is already loaded.
// The executable's alone: a library must not stop the threads of a BLAS its host application may
// be using.

#include "CProcessStart.h"

#include <dlfcn.h>
#include <stddef.h>

void vc_process_start_quiet_openblas(void) {
    void *library = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
    if (library == NULL) return;
    void (*setThreads)(int) = (void (*)(int))dlsym(library, "openblas_set_num_threads");
    void (*shutdown)(void) = (void (*)(void))dlsym(library, "blas_thread_shutdown_");
    if (setThreads != NULL && shutdown != NULL) {
        setThreads(1);  // later products run on the calling thread and start no threads again
        shutdown();
    }
    dlclose(library);
}
