// Products with few rows against a transposed right-hand side (see include/CKernels.h): each
// output is a dot product of a row of A and a row of B, summed in 16 independent lanes (which the
// compiler vectorizes for the CPU's instruction set), so that nothing is packed. A recurrent
// layer's step (one row per stream against W_hhᵀ) would otherwise pack all of W_hh for each step.

#include "CKernels.h"
#include "kernels.h"

__attribute__((always_inline))
static inline float dot(const float *restrict a, const float *restrict b, int k) {
    enum { LANES = 16 };
    float lanes[LANES] = {0};
    int kk = 0;
    for (; kk + LANES <= k; kk += LANES) {
        for (int l = 0; l < LANES; l++) lanes[l] += a[kk + l] * b[kk + l];
    }
    float sum = 0;
    for (int l = 0; l < LANES; l++) sum += lanes[l];
    for (; kk < k; kk++) sum += a[kk] * b[kk];
    return sum;
}

__attribute__((always_inline))
static inline void rowsDotBody(int m, int n, int k, float alpha, const float *restrict a, int lda,
                               const float *restrict b, int ldb, float beta, float *restrict c, int ldc) {
    for (int j = 0; j < n; j++) {
        const float *bj = b + (size_t)j * ldb;
        for (int i = 0; i < m; i++) {
            float v = alpha * dot(a + (size_t)i * lda, bj, k);
            float *out = c + (size_t)i * ldc + j;
            *out = beta == 0 ? v : v + beta * *out;
        }
    }
}

VC_MULTIVERSION(rowsDot, (int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta,
                          float *c, int ldc),
                (m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))

void vc_gemm_rows_dot(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta,
                      float *c, int ldc) {
    rowsDot(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
