// Products with few rows against a transposed right-hand side (see include/CKernels.h): each
// output is a dot product of a row of A and a row of B, summed in 16 independent lanes (vectors
// for the CPU's instruction set), so that nothing is packed; up to four rows of A against four of
// B at a time, so that sixteen products are in flight and each loaded vector serves four. A recurrent
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

// The lanes of a dot product summed in order, as dot() does.
__attribute__((always_inline))
static inline float sumLanes(vc16 v) {
    float lanes[16] __attribute__((aligned(64)));
    *(vc16 *)lanes = v;
    float sum = 0;
    for (int l = 0; l < 16; l++) sum += lanes[l];
    return sum;
}

// MI rows of A against NJ rows of B: MI·NJ dot products at once, each with the lanes, order and
// rounding of dot() (so the results are the same bits), but MI·NJ independent chains of
// multiply-adds instead of one, and each vector of A and B loaded once for several products.
#define VC_DOT_BLOCK(MI, NJ)                                                                       \
    do {                                                                                           \
        vc16 acc[MI][NJ];                                                                          \
        for (int r = 0; r < MI; r++)                                                               \
            for (int q = 0; q < NJ; q++) acc[r][q] = (vc16){0};                                    \
        int kk = 0;                                                                                \
        for (; kk + 16 <= k; kk += 16) {                                                           \
            vc16 bv[NJ];                                                                           \
            for (int q = 0; q < NJ; q++) bv[q] = *(const vc16 *)(b + (size_t)(j + q) * ldb + kk);  \
            for (int r = 0; r < MI; r++) {                                                         \
                vc16 av = *(const vc16 *)(a + (size_t)(i + r) * lda + kk);                         \
                for (int q = 0; q < NJ; q++) acc[r][q] += av * bv[q];                              \
            }                                                                                      \
        }                                                                                          \
        for (int r = 0; r < MI; r++) {                                                             \
            const float *ar = a + (size_t)(i + r) * lda;                                           \
            for (int q = 0; q < NJ; q++) {                                                         \
                const float *bq = b + (size_t)(j + q) * ldb;                                       \
                float sum = sumLanes(acc[r][q]);                                                   \
                for (int t = kk; t < k; t++) sum += ar[t] * bq[t];                                 \
                float v = alpha * sum, *out = c + (size_t)(i + r) * ldc + j + q;                   \
                *out = beta == 0 ? v : v + beta * *out;                                            \
            }                                                                                      \
        }                                                                                          \
    } while (0)

__attribute__((always_inline))
static inline void rowsDotBody(int m, int n, int k, float alpha, const float *restrict a, int lda,
                               const float *restrict b, int ldb, float beta, float *restrict c, int ldc,
                               int instructions) {
    int j = 0;
    if (instructions == VC_AVX512) {
        // 32 vector registers: four rows of A against four of B (sixteen accumulators); a
        // recurrent step's few rows against eight of B.
        if (m < 4) {
            for (; j + 8 <= n; j += 8) {
                for (int i = 0; i < m; i++) VC_DOT_BLOCK(1, 8);
            }
        }
        for (; j + 4 <= n; j += 4) {
            int i = 0;
            for (; i + 4 <= m; i += 4) VC_DOT_BLOCK(4, 4);
            for (; i < m; i++) VC_DOT_BLOCK(1, 4);
        }
    } else if (instructions == VC_AVX2) {
        // 16 registers (a 16-float vector is two of them): two rows of A against two of B. (On
        // 128-bit vectors a 16-float one takes four registers: one product at a time, below.)
        for (; j + 2 <= n; j += 2) {
            int i = 0;
            for (; i + 2 <= m; i += 2) VC_DOT_BLOCK(2, 2);
            for (; i < m; i++) VC_DOT_BLOCK(1, 2);
        }
    }
    for (; j < n; j++) {
        const float *bj = b + (size_t)j * ldb;
        for (int i = 0; i < m; i++) {
            float v = alpha * dot(a + (size_t)i * lda, bj, k);
            float *out = c + (size_t)i * ldc + j;
            *out = beta == 0 ? v : v + beta * *out;
        }
    }
}

// Compiled once per instruction set, each with the block shapes its registers hold.
VC_MULTIVERSION_ISA(rowsDot, (int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                              float beta, float *c, int ldc),
                    (m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))

void vc_gemm_rows_dot(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta,
                      float *c, int ldc) {
    rowsDot(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
