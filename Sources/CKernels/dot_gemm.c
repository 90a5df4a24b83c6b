// Products with few rows against a transposed right-hand side (see include/CKernels.h): each
// output is a dot product of a row of A and a row of B, summed in 16 independent lanes (vectors
// for the CPU's instruction set), so that nothing is packed; up to four rows of A against four of
// B at a time, so that sixteen products are in flight and each loaded vector serves four. A recurrent
// layer's step (one row per stream against W_hhᵀ) would otherwise pack all of W_hh for each step.

#include "CKernels.h"
#include "kernels.h"

// A dot product's 16 lanes summed as a tree: lane i plus lane i + 8, then those 4 apart, 2 apart
// and 1 apart. Every path (dot, sumLanes, reduce8) adds the same pairs, so a product has the same
// bits whichever block it is computed in.
__attribute__((always_inline))
static inline float treeSum(const float *restrict lanes) {
    float m[8], n[4];
    for (int i = 0; i < 8; i++) m[i] = lanes[i] + lanes[i + 8];
    for (int i = 0; i < 4; i++) n[i] = m[i] + m[i + 4];
    return (n[0] + n[2]) + (n[1] + n[3]);
}

__attribute__((always_inline))
static inline float dot(const float *restrict a, const float *restrict b, int k) {
    enum { LANES = 16 };
    float lanes[LANES] = {0};
    int kk = 0;
    for (; kk + LANES <= k; kk += LANES) {
        for (int l = 0; l < LANES; l++) lanes[l] += a[kk + l] * b[kk + l];
    }
    float sum = treeSum(lanes);
    for (; kk < k; kk++) sum += a[kk] * b[kk];
    return sum;
}

// The lanes of a dot product summed as dot() does.
__attribute__((always_inline))
static inline float sumLanes(vc16 v) {
    float lanes[16] __attribute__((aligned(64)));
    *(vc16 *)lanes = v;
    return treeSum(lanes);
}

// Eight products' lanes summed at once, each as treeSum does: the same pairs added, in vectors
// that hold two, four and then eight of the products' partial sums (no store and reload of lanes).
__attribute__((always_inline))
static inline vc8 reduce8(const vc16 *v) {
    vc16 x[4], y[2];
    for (int q = 0; q < 4; q++) {
        x[q] = __builtin_shufflevector(v[2 * q], v[2 * q + 1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)
            + __builtin_shufflevector(v[2 * q], v[2 * q + 1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    }
    for (int r = 0; r < 2; r++) {
        y[r] = __builtin_shufflevector(x[2 * r], x[2 * r + 1], 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27)
            + __builtin_shufflevector(x[2 * r], x[2 * r + 1], 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
    }
    vc16 z = __builtin_shufflevector(y[0], y[1], 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29)
        + __builtin_shufflevector(y[0], y[1], 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31);
    return __builtin_shufflevector(z, z, 0, 2, 4, 6, 8, 10, 12, 14) + __builtin_shufflevector(z, z, 1, 3, 5, 7, 9, 11, 13, 15);
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
        /* The lanes summed eight products at a time when the block has a multiple of eight. */   \
        float sums[MI * NJ] __attribute__((aligned(32)));                                          \
        if ((MI * NJ) % 8 == 0) {                                                                  \
            for (int g = 0; g < MI * NJ; g += 8) *(vc8 *)(sums + g) = reduce8(&acc[0][0] + g);     \
        } else {                                                                                   \
            for (int r = 0; r < MI; r++)                                                           \
                for (int q = 0; q < NJ; q++) sums[r * NJ + q] = sumLanes(acc[r][q]);               \
        }                                                                                          \
        for (int r = 0; r < MI; r++) {                                                             \
            const float *ar = a + (size_t)(i + r) * lda;                                           \
            for (int q = 0; q < NJ; q++) {                                                         \
                const float *bq = b + (size_t)(j + q) * ldb;                                       \
                float sum = sums[r * NJ + q];                                                      \
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
