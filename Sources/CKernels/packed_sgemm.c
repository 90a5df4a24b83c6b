// The packed-weights GEMM (see include/CKernels.h): BLIS-style blocking around a 6 × 16 AVX2/FMA
// micro-kernel (12 accumulators of 8 floats; per step of k, two loads of B, six broadcasts of A).
//
//   for each block of NC columns of B and C:
//     for each block of KC rows of B (the shared dimension):
//       pack that KC × NC block of B into NR-column panels (zero-padded)   -- stays in L2/L3
//       for each block of MC rows of A (already packed, MR-row panels):  -- stays in L2
//         for each NR-column panel of B:                                  -- stays in L1
//           for each MR-row panel of A: 6 × 16 tile of C += panel · panel

#include "CKernels.h"
#include "kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { MR = 6, NR = 16, KC = 256, NC = 2048, MC_PANELS = 20 };

size_t vc_packed_a_count(int m, int k) {
    return (size_t)((m + MR - 1) / MR) * MR * (size_t)k;
}

void vc_pack_a(int m, int k, const float *a, int lda, float *packed) {
    int panels = (m + MR - 1) / MR;
    for (int p = 0; p < panels; p++) {
        float *dst = packed + (size_t)p * k * MR;
        for (int r = 0; r < MR; r++) {
            int row = p * MR + r;
            if (row < m) {
                const float *src = a + (size_t)row * lda;
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * MR + r] = src[kk];
            } else {
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * MR + r] = 0;
            }
        }
    }
}

#if defined(__x86_64__)

int vc_packed_gemm_available(void) {
    // AVX2 + FMA, within the cap on the kernels' instruction set (vc_limit_vector_instruction_set).
    return vcInstructionSet() >= VC_AVX2;
}

// Each thread's packing buffers, allocated on first use and freed when the thread ends: a KC × NC
// block of B, then (for vc_gemm) an MC × KC block of A.
static pthread_key_t bufferKey;
static pthread_once_t bufferOnce = PTHREAD_ONCE_INIT;
static void makeBufferKey(void) { pthread_key_create(&bufferKey, free); }

static float *threadBuffer(void) {
    pthread_once(&bufferOnce, makeBufferKey);
    float *buffer = pthread_getspecific(bufferKey);
    if (buffer == NULL) {
        buffer = aligned_alloc(64, sizeof(float) * KC * (NC + MC_PANELS * MR));
        if (buffer == NULL) abort();
        pthread_setspecific(bufferKey, buffer);
    }
    return buffer;
}

// B's kc × nc block (row-major, leading dimension ldb) into NR-column panels, each kc × NR.
__attribute__((target("avx2,fma")))
static void packB(int kc, int nc, const float *b, int ldb, float *bp) {
    int full = nc / NR;
    for (int j = 0; j < full; j++) {
        const float *src = b + j * NR;
        float *dst = bp + (size_t)j * kc * NR;
        for (int kk = 0; kk < kc; kk++) {
            const float *s = src + (size_t)kk * ldb;
            _mm256_store_ps(dst + kk * NR, _mm256_loadu_ps(s));
            _mm256_store_ps(dst + kk * NR + 8, _mm256_loadu_ps(s + 8));
        }
    }
    int rest = nc - full * NR;
    if (rest > 0) {
        const float *src = b + full * NR;
        float *dst = bp + (size_t)full * kc * NR;
        for (int kk = 0; kk < kc; kk++) {
            const float *s = src + (size_t)kk * ldb;
            float *d = dst + kk * NR;
            int j = 0;
            for (; j < rest; j++) d[j] = s[j];
            for (; j < NR; j++) d[j] = 0;
        }
    }
}

// C's tile rows rlo ..< rhi (row r at c + (r - rlo) · ldc) and columns 0 ..< cols (+)= a · B, where
// a is kc × MR (packed) and row p of B (NR floats) is at b + p · NR (a packed panel) or, with
// `offsets`, at b + offsets[p] (the direct convolution's view of its input). Inlined into its two
// callers, so each gets a loop without the other's case.
__attribute__((target("avx2,fma"), always_inline))
static inline void kernel6x16Body(int kc, const float *restrict a, const float *b, const int *offsets, float *c,
                                  int ldc, int rlo, int rhi, int cols, int accumulate) {
    __m256 c0a = _mm256_setzero_ps(), c0b = _mm256_setzero_ps();
    __m256 c1a = _mm256_setzero_ps(), c1b = _mm256_setzero_ps();
    __m256 c2a = _mm256_setzero_ps(), c2b = _mm256_setzero_ps();
    __m256 c3a = _mm256_setzero_ps(), c3b = _mm256_setzero_ps();
    __m256 c4a = _mm256_setzero_ps(), c4b = _mm256_setzero_ps();
    __m256 c5a = _mm256_setzero_ps(), c5b = _mm256_setzero_ps();
#pragma clang loop unroll_count(4)
    for (int p = 0; p < kc; p++) {
        const float *row = offsets ? b + offsets[p] : b + (size_t)p * NR;
        __m256 b0 = _mm256_loadu_ps(row), b1 = _mm256_loadu_ps(row + 8);
        __m256 x;
        x = _mm256_broadcast_ss(a + 0); c0a = _mm256_fmadd_ps(x, b0, c0a); c0b = _mm256_fmadd_ps(x, b1, c0b);
        x = _mm256_broadcast_ss(a + 1); c1a = _mm256_fmadd_ps(x, b0, c1a); c1b = _mm256_fmadd_ps(x, b1, c1b);
        x = _mm256_broadcast_ss(a + 2); c2a = _mm256_fmadd_ps(x, b0, c2a); c2b = _mm256_fmadd_ps(x, b1, c2b);
        x = _mm256_broadcast_ss(a + 3); c3a = _mm256_fmadd_ps(x, b0, c3a); c3b = _mm256_fmadd_ps(x, b1, c3b);
        x = _mm256_broadcast_ss(a + 4); c4a = _mm256_fmadd_ps(x, b0, c4a); c4b = _mm256_fmadd_ps(x, b1, c4b);
        x = _mm256_broadcast_ss(a + 5); c5a = _mm256_fmadd_ps(x, b0, c5a); c5b = _mm256_fmadd_ps(x, b1, c5b);
        a += MR;
    }
    if (rlo == 0 && rhi == MR && cols == NR) {
#define VC_STORE_ROW(r, lo, hi)                                                              \
    do {                                                                                     \
        float *row = c + (size_t)(r) * ldc;                                                  \
        if (accumulate) {                                                                    \
            _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), lo));                  \
            _mm256_storeu_ps(row + 8, _mm256_add_ps(_mm256_loadu_ps(row + 8), hi));          \
        } else {                                                                             \
            _mm256_storeu_ps(row, lo);                                                       \
            _mm256_storeu_ps(row + 8, hi);                                                   \
        }                                                                                    \
    } while (0)
        VC_STORE_ROW(0, c0a, c0b);
        VC_STORE_ROW(1, c1a, c1b);
        VC_STORE_ROW(2, c2a, c2b);
        VC_STORE_ROW(3, c3a, c3b);
        VC_STORE_ROW(4, c4a, c4b);
        VC_STORE_ROW(5, c5a, c5b);
#undef VC_STORE_ROW
        return;
    }
    float tile[MR][NR] __attribute__((aligned(32)));
    _mm256_store_ps(tile[0], c0a); _mm256_store_ps(tile[0] + 8, c0b);
    _mm256_store_ps(tile[1], c1a); _mm256_store_ps(tile[1] + 8, c1b);
    _mm256_store_ps(tile[2], c2a); _mm256_store_ps(tile[2] + 8, c2b);
    _mm256_store_ps(tile[3], c3a); _mm256_store_ps(tile[3] + 8, c3b);
    _mm256_store_ps(tile[4], c4a); _mm256_store_ps(tile[4] + 8, c4b);
    _mm256_store_ps(tile[5], c5a); _mm256_store_ps(tile[5] + 8, c5b);
    for (int r = rlo; r < rhi; r++) {
        float *row = c + (size_t)(r - rlo) * ldc;
        if (accumulate) {
            for (int j = 0; j < cols; j++) row[j] += tile[r][j];
        } else {
            for (int j = 0; j < cols; j++) row[j] = tile[r][j];
        }
    }
}

__attribute__((target("avx2,fma")))
static void kernel6x16(int kc, const float *restrict a, const float *restrict b, float *c, int ldc, int rlo, int rhi,
                       int cols, int accumulate) {
    kernel6x16Body(kc, a, b, NULL, c, ldc, rlo, rhi, cols, accumulate);
}

__attribute__((target("avx2,fma")))
static void kernel6x16Rows(int kc, const float *restrict a, const float *rows, const int *offsets, float *c, int ldc,
                           int rlo, int rhi, int cols, int accumulate) {
    kernel6x16Body(kc, a, rows, offsets, c, ldc, rlo, rhi, cols, accumulate);
}


// Eight rows of 8 floats transposed in place: r[i][j] becomes r[j][i] (unpack, shuffle, then swap of
// 128-bit halves, as AVX's 8 × 8 transpose).
__attribute__((always_inline)) static inline void transpose8(vc8 r[8]) {
    vc8 t[8], s[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        s[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        s[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        s[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        s[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = __builtin_shufflevector(s[i], s[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[i + 4] = __builtin_shufflevector(s[i], s[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

// alpha · op(A)'s rows i0 ..< i0 + mc and columns p0 ..< p0 + kc into MR-row panels of kc × MR.
__attribute__((target("avx2,fma")))
static void packABlock(int transpose, int mc, int kc, float alpha, const float *a, int lda, int i0, int p0,
                       float *ap) {
    int panels = (mc + MR - 1) / MR;
    for (int p = 0; p < panels; p++) {
        float *dst = ap + (size_t)p * kc * MR;
        int valid = mc - p * MR < MR ? mc - p * MR : MR;
        int kk = 0;
        if (!transpose && valid == MR) {
            // Six rows of 8 floats (and two of zeros) turned into 8 rows of six: each store writes
            // 8 floats, the last two of which the next row's store overwrites (the last row's
            // six are copied alone, so nothing is written past the row).
            const float *src = a + (size_t)(i0 + p * MR) * lda + p0;
            for (; kk + 8 <= kc; kk += 8) {
                vc8 r[8];
                for (int i = 0; i < MR; i++) r[i] = *(const vc8 *)(src + (size_t)i * lda + kk) * alpha;
                r[6] = r[7] = (vc8){0};
                transpose8(r);
                float *d = dst + (size_t)kk * MR;
                for (int i = 0; i < 7; i++) *(vc8 *)(d + i * MR) = r[i];
                memcpy(d + 7 * MR, &r[7], MR * sizeof(float));
            }
        }
        if (kk > 0) {
            // The rest of k, one step at a time.
            for (; kk < kc; kk++) {
                for (int r = 0; r < MR; r++) dst[(size_t)kk * MR + r] = alpha * a[(size_t)(i0 + p * MR + r) * lda + p0 + kk];
            }
            continue;
        }
        if (transpose) {
            for (int kk = 0; kk < kc; kk++) {
                float *d = dst + (size_t)kk * MR;
                const float *src = a + (size_t)(p0 + kk) * lda + i0 + p * MR;
                int r = 0;
                for (; r < valid; r++) d[r] = alpha * src[r];
                for (; r < MR; r++) d[r] = 0;
            }
        } else {
            // Each row of the panel is contiguous in A: read it once, in order.
            for (int r = 0; r < valid; r++) {
                const float *src = a + (size_t)(i0 + p * MR + r) * lda + p0;
                if (alpha == 1) {
                    for (int kk = 0; kk < kc; kk++) dst[(size_t)kk * MR + r] = src[kk];
                } else {
                    for (int kk = 0; kk < kc; kk++) dst[(size_t)kk * MR + r] = alpha * src[kk];
                }
            }
            for (int r = valid; r < MR; r++) {
                for (int kk = 0; kk < kc; kk++) dst[(size_t)kk * MR + r] = 0;
            }
        }
    }
}

// op(B)ᵀ's block: B stored n × k (leading dimension ldb), kc × nc of op(B) = Bᵀ into NR-column panels.
__attribute__((target("avx2,fma")))
static void packBTransposed(int kc, int nc, const float *b, int ldb, float *bp) {
    int panels = (nc + NR - 1) / NR;
    for (int j = 0; j < panels; j++) {
        float *dst = bp + (size_t)j * kc * NR;
        int valid = nc - j * NR < NR ? nc - j * NR : NR;
        if (valid == NR) {
            // Blocks of 8 × 8 transposed in registers: 8 steps of k of 8 columns at a time.
            int kk = 0;
            for (; kk + 8 <= kc; kk += 8) {
                for (int half = 0; half < 2; half++) {
                    vc8 r[8];
                    for (int i = 0; i < 8; i++) r[i] = *(const vc8 *)(b + (size_t)(j * NR + half * 8 + i) * ldb + kk);
                    transpose8(r);
                    for (int i = 0; i < 8; i++) *(vc8 *)(dst + (size_t)(kk + i) * NR + half * 8) = r[i];
                }
            }
            for (; kk < kc; kk++) {
                for (int col = 0; col < NR; col++) dst[kk * NR + col] = b[(size_t)(j * NR + col) * ldb + kk];
            }
            continue;
        }
        for (int col = 0; col < valid; col++) {
            const float *src = b + (size_t)(j * NR + col) * ldb;
            for (int kk = 0; kk < kc; kk++) dst[kk * NR + col] = src[kk];
        }
        for (int col = valid; col < NR; col++) {
            for (int kk = 0; kk < kc; kk++) dst[kk * NR + col] = 0;
        }
    }
}

// All rows of C's columns [0, nc) += op(A)'s columns [pc, pc + kc) times a packed kc × nc block
// of op(B), MC rows of A packed at a time into ap.
static void multiplyBlock(int transposeA, float alpha, int m, int kc, int nc, const float *a, int lda, int pc,
                          const float *bp, float *c, int ldc, int add, float *ap) {
    enum { MC = MC_PANELS * MR };
    int columnPanels = (nc + NR - 1) / NR;
    for (int ic = 0; ic < m; ic += MC) {
        int mc = m - ic < MC ? m - ic : MC;
        packABlock(transposeA, mc, kc, alpha, a, lda, ic, pc, ap);
        int rowPanels = (mc + MR - 1) / MR;
        for (int jr = 0; jr < columnPanels; jr++) {
            int cols = nc - jr * NR < NR ? nc - jr * NR : NR;
            const float *bPanel = bp + (size_t)jr * kc * NR;
            for (int p = 0; p < rowPanels; p++) {
                int rows = mc - p * MR < MR ? mc - p * MR : MR;
                kernel6x16(kc, ap + (size_t)p * kc * MR, bPanel, c + (size_t)(ic + p * MR) * ldc + jr * NR, ldc, 0,
                           rows, cols, add);
            }
        }
    }
}

void vc_gemm(int transposeA, int transposeB, int m, int n, int k, float alpha, const float *a, int lda,
             const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (beta != 1) {
        for (int i = 0; i < m; i++) {
            float *row = c + (size_t)i * ldc;
            if (beta == 0) {
                if (k <= 0) memset(row, 0, sizeof(float) * (size_t)n);
            } else {
                for (int j = 0; j < n; j++) row[j] *= beta;
            }
        }
    }
    if (k <= 0) return;
    float *bp = threadBuffer(), *ap = bp + KC * NC;
    for (int jc = 0; jc < n; jc += NC) {
        int nc = n - jc < NC ? n - jc : NC;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = k - pc < KC ? k - pc : KC;
            if (transposeB) {
                packBTransposed(kc, nc, b + (size_t)jc * ldb + pc, ldb, bp);
            } else {
                packB(kc, nc, b + (size_t)pc * ldb + jc, ldb, bp);
            }
            multiplyBlock(transposeA, alpha, m, kc, nc, a, lda, pc, bp, c + jc, ldc, beta != 0 || pc > 0, ap);
        }
    }
}

void vc_gemm_packed(int row0, int rows, int n, int k, const float *packed, const float *b, int ldb,
                    float *c, int ldc, int accumulate) {
    if (rows <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate) {
            for (int r = 0; r < rows; r++) memset(c + (size_t)r * ldc, 0, sizeof(float) * (size_t)n);
        }
        return;
    }
    float *bp = threadBuffer();
    int firstPanel = row0 / MR, endPanel = (row0 + rows + MR - 1) / MR;
    for (int jc = 0; jc < n; jc += NC) {
        int nc = n - jc < NC ? n - jc : NC;
        int columnPanels = (nc + NR - 1) / NR;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = k - pc < KC ? k - pc : KC;
            packB(kc, nc, b + (size_t)pc * ldb + jc, ldb, bp);
            int add = accumulate || pc > 0;
            for (int ic = firstPanel; ic < endPanel; ic += MC_PANELS) {
                int icEnd = ic + MC_PANELS < endPanel ? ic + MC_PANELS : endPanel;
                for (int jr = 0; jr < columnPanels; jr++) {
                    int cols = nc - jr * NR < NR ? nc - jr * NR : NR;
                    const float *bPanel = bp + (size_t)jr * kc * NR;
                    for (int p = ic; p < icEnd; p++) {
                        int top = p * MR;
                        int rlo = row0 > top ? row0 - top : 0;
                        int rhi = row0 + rows < top + MR ? row0 + rows - top : MR;
                        float *tile = c + (size_t)(top + rlo - row0) * ldc + jc + jr * NR;
                        kernel6x16(kc, packed + (size_t)p * k * MR + (size_t)pc * MR, bPanel, tile, ldc, rlo, rhi,
                                   cols, add);
                    }
                }
            }
        }
    }
}

size_t vc_conv_direct_scratch_count(int channels, int height, int width, int kernelHeight, int kernelWidth,
                                    int stride, int pad) {
    int paddedHeight = height + 2 * pad;
    int paddedWidth = width + 2 * pad;
    int phaseWidth = (paddedWidth + stride - 1) / stride + NR;
    (void)kernelHeight; (void)kernelWidth;
    return (size_t)channels * stride * paddedHeight * phaseWidth + 2 * (size_t)channels * kernelHeight * kernelWidth;
}

void vc_conv_direct(const float *packed, int outChannels, int channels, int height, int width, int kernelHeight,
                    int kernelWidth, int stride, int pad, const float *input, float *output, int row0, int row1,
                    float *scratch) {
    int outHeight = (height + 2 * pad - kernelHeight) / stride + 1;
    int outWidth = (width + 2 * pad - kernelWidth) / stride + 1;
    int paddedHeight = height + 2 * pad, paddedWidth = width + 2 * pad;
    int phaseWidth = (paddedWidth + stride - 1) / stride + NR;
    int k = channels * kernelHeight * kernelWidth;
    // The zero-padded input, its columns split by phase (x mod stride), so that the 16 outputs of
    // a tile read 16 consecutive floats of one plane for every tap: plane (c, q), row y, column x
    // holds padded[c][y][x · stride + q]. Only the rows this call's outputs read are filled.
    float *planes = scratch;
    int *offsets = (int *)(scratch + (size_t)channels * stride * paddedHeight * phaseWidth);
    int yFirst = row0 * stride, yEnd = (row1 - 1) * stride + kernelHeight;
    for (int c = 0; c < channels; c++) {
        for (int q = 0; q < stride; q++) {
            float *plane = planes + (size_t)(c * stride + q) * paddedHeight * phaseWidth;
            // Columns x with x · stride + q - pad inside the image.
            int xLow = pad > q ? (pad - q + stride - 1) / stride : 0;
            int xHigh = width - 1 + pad - q < 0 ? 0 : (width - 1 + pad - q) / stride + 1;
            if (xHigh > phaseWidth) xHigh = phaseWidth;
            for (int y = yFirst; y < yEnd; y++) {
                float *dst = plane + (size_t)y * phaseWidth;
                int sy = y - pad;
                if (sy < 0 || sy >= height || xHigh <= xLow) {
                    memset(dst, 0, sizeof(float) * (size_t)phaseWidth);
                    continue;
                }
                const float *src = input + ((size_t)c * height + sy) * width + (xLow * stride + q - pad);
                memset(dst, 0, sizeof(float) * (size_t)xLow);
                if (stride == 1) {
                    memcpy(dst + xLow, src, sizeof(float) * (size_t)(xHigh - xLow));
                } else {
                    for (int x = xLow; x < xHigh; x++) dst[x] = src[(size_t)(x - xLow) * stride];
                }
                memset(dst + xHigh, 0, sizeof(float) * (size_t)(phaseWidth - xHigh));
            }
        }
    }
    for (int c = 0, p = 0; c < channels; c++) {
        for (int ky = 0; ky < kernelHeight; ky++) {
            for (int kx = 0; kx < kernelWidth; kx++, p++) {
                offsets[p] = ((c * stride + kx % stride) * paddedHeight + ky) * phaseWidth + kx / stride;
            }
        }
    }
    int panels = (outChannels + MR - 1) / MR;
    int plane = outHeight * outWidth;
    for (int oy = row0; oy < row1; oy++) {
        const float *rows = planes + (size_t)oy * stride * phaseWidth;
        for (int x0 = 0; x0 < outWidth; x0 += NR) {
            int cols = outWidth - x0 < NR ? outWidth - x0 : NR;
            for (int p = 0; p < panels; p++) {
                int rhi = outChannels - p * MR < MR ? outChannels - p * MR : MR;
                for (int pc = 0; pc < k; pc += KC) {
                    int kc = k - pc < KC ? k - pc : KC;
                    kernel6x16Rows(kc, packed + (size_t)p * k * MR + (size_t)pc * MR, rows + x0, offsets + pc,
                                   output + (size_t)p * MR * plane + (size_t)oy * outWidth + x0, plane, 0, rhi, cols,
                                   pc > 0);
                }
            }
        }
    }
}

#else

int vc_packed_gemm_available(void) { return 0; }

size_t vc_conv_direct_scratch_count(int channels, int height, int width, int kernelHeight, int kernelWidth,
                                    int stride, int pad) {
    (void)channels; (void)height; (void)width; (void)kernelHeight; (void)kernelWidth; (void)stride; (void)pad;
    return 0;
}

void vc_conv_direct(const float *packed, int outChannels, int channels, int height, int width, int kernelHeight,
                    int kernelWidth, int stride, int pad, const float *input, float *output, int row0, int row1,
                    float *scratch) {
    (void)packed; (void)outChannels; (void)channels; (void)height; (void)width; (void)kernelHeight;
    (void)kernelWidth; (void)stride; (void)pad; (void)input; (void)output; (void)row0; (void)row1; (void)scratch;
    abort();  // callers check vc_packed_gemm_available() first
}

void vc_gemm(int transposeA, int transposeB, int m, int n, int k, float alpha, const float *a, int lda,
             const float *b, int ldb, float beta, float *c, int ldc) {
    (void)transposeA; (void)transposeB; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda;
    (void)b; (void)ldb; (void)beta; (void)c; (void)ldc;
    abort();  // callers check vc_packed_gemm_available() first
}

void vc_gemm_packed(int row0, int rows, int n, int k, const float *packed, const float *b, int ldb,
                    float *c, int ldc, int accumulate) {
    (void)row0; (void)rows; (void)n; (void)k; (void)packed; (void)b; (void)ldb; (void)c; (void)ldc; (void)accumulate;
    abort();  // callers check vc_packed_gemm_available() first
}

#endif
