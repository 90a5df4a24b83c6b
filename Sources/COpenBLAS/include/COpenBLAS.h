// OpenBLAS's single-precision GEMM, loaded on first use.
//
// All matrix products in vidclass go through one GEMM entry point in the Tensors module, which
// calls vc_sgemm. OpenBLAS (Debian: libopenblas0, from libopenblas-dev) is opened with dlopen the
// first time a product is needed, not linked: linked, it starts worker threads in its constructor
// that spin for about 0.1 s, competing with the video decoder on a two-core machine, although
// vidclass runs it single-threaded and partitions the work itself; and every command (probe,
// --help) would pay for loading it and its Fortran runtime. Before opening it, vc_blas_load sets
// OPENBLAS_NUM_THREADS=1 so that it starts no threads at all.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/// Row-major C = alpha * op(A) * op(B) + beta * C, as cblas_sgemm(CblasRowMajor, ...); a
/// transpose flag of 0 means op(X) = X, anything else op(X) = Xᵀ.
void vc_sgemm(int transposeA, int transposeB, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/// Opens OpenBLAS now (once; later calls return at once). Returns 0 on success; otherwise -1,
/// and vc_blas_error() says what failed. vc_sgemm calls it and aborts with that message on failure.
int vc_blas_load(void);

/// Why the last vc_blas_load failed (or an empty string).
const char *vc_blas_error(void);

#ifdef __cplusplus
}
#endif
