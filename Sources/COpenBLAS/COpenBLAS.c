#include "COpenBLAS.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The CBLAS constants (cblas.h) used here.
enum { vcRowMajor = 101, vcNoTrans = 111, vcTrans = 112 };

typedef void (*sgemm_function)(int order, int transA, int transB, int m, int n, int k, float alpha,
                               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_function)(int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_function sgemm;
static char error[512];

static void load(void) {
    // No OpenBLAS worker threads: vidclass partitions GEMMs across its own threads.
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so", "libblas.so.3"};
    void *library = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && library == NULL; i++) {
        library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    }
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(error, sizeof error, "cannot load OpenBLAS (libopenblas.so.0: install libopenblas0 or libopenblas-dev): %s",
                 reason ? reason : "not found");
        return;
    }
    sgemm = (sgemm_function)dlsym(library, "cblas_sgemm");
    if (sgemm == NULL) {
        snprintf(error, sizeof error, "the loaded BLAS library has no cblas_sgemm");
        return;
    }
    set_threads_function setThreads = (set_threads_function)dlsym(library, "openblas_set_num_threads");
    if (setThreads != NULL) setThreads(1);
}

int vc_blas_load(void) {
    pthread_once(&once, load);
    return sgemm != NULL ? 0 : -1;
}

const char *vc_blas_error(void) { return error; }

void vc_sgemm(int transposeA, int transposeB, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    if (__builtin_expect(sgemm == NULL, 0) && vc_blas_load() != 0) {
        fprintf(stderr, "vidclass: %s\n", error);
        abort();
    }
    sgemm(vcRowMajor, transposeA ? vcTrans : vcNoTrans, transposeB ? vcTrans : vcNoTrans,
          m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
