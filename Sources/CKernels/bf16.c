// The bfloat16 inference path (see include/CKernels.h): weights packed once into bf16 pairs, the
// activations rounded to bf16 a block of rows at a time, products summed in fp32.
//
// A bf16 panel holds 16 output columns over all of k, two steps of k at a time: pair q of the panel
// is 16 × 2 bf16 (column j's weights for steps 2q and 2q + 1 side by side, one 32-bit lane per
// column). A row of A becomes pairs the same way, so that one 32-bit broadcast of A and one load of
// the panel feed VDPBF16PS, which adds both products of a pair to the column's fp32 sum: twice the
// multiply-adds of an fp32 FMA per instruction, from half the bytes.
//
//   for each block of MC rows of A: rounded to bf16 pairs into a per-thread buffer, all of k
//     for each block of k (all of it up to 512 values; else blocks of about 256):
//       for each panel: tiles of MR rows, then (last block of k) bias, residual and activation
//       applied in registers as in the fp32 kernel (pointwise.c)
//
// On CPUs with AVX-512 BF16 (AMD Zen 4, Intel Cooper Lake, Sapphire Rapids) the tiles use
// VDPBF16PS; on any other CPU, or with the kernels' instruction set capped below AVX-512, the same
// bf16 values are widened to fp32 (a shift) and multiplied with fp32 FMAs: the same numbers to within
// the order of the additions, slower than fp32 itself.

#include "CKernels.h"
#include "kernels.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { PANEL = 16 };

// Round to nearest, ties to even (NaN stays NaN, quiet).
static inline uint16_t toBF16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40);
    bits += 0x7fffu + ((bits >> 16) & 1);
    return (uint16_t)(bits >> 16);
}

float vc_bf16_round(float value) {
    uint32_t bits = (uint32_t)toBF16(value) << 16;
    float rounded;
    memcpy(&rounded, &bits, sizeof rounded);
    return rounded;
}

// A segment's k rounded up to whole pairs.
static inline int pairsOf(int k) { return (k + 1) / 2; }

size_t vc_bf16_packed_count(int n, int k, int segments) {
    return (size_t)segments * pairsOf(k) * 2 * (size_t)((n + PANEL - 1) / PANEL) * PANEL;
}

void vc_bf16_pack(int n, int k, int segments, const float *packed, uint16_t *out) {
    int panels = (n + PANEL - 1) / PANEL, kt = k * segments, pairs = segments * pairsOf(k);
    for (int j = 0; j < panels; j++) {
        const float *src = packed + (size_t)j * kt * PANEL;
        uint16_t *dst = out + (size_t)j * pairs * 2 * PANEL;
        for (int s = 0; s < segments; s++) {
            for (int q = 0; q < pairsOf(k); q++) {
                uint16_t *step = dst + (size_t)(s * pairsOf(k) + q) * 2 * PANEL;
                for (int col = 0; col < PANEL; col++) {
                    for (int half = 0; half < 2; half++) {
                        int kk = 2 * q + half;
                        step[2 * col + half] = kk < k ? toBF16(src[(size_t)(s * k + kk) * PANEL + col]) : 0;
                    }
                }
            }
        }
    }
}

// Rows of A rounded to bf16 pairs: row i's segments, each k values and a zero to make whole pairs,
// at out + i · pairs (pairs = segments · ⌈k/2⌉ 32-bit words).
__attribute__((always_inline)) static inline void roundRowsBody(int rows, int k, int segments, size_t segmentStride,
                                                                const float *a, int lda, uint32_t *out) {
    int perSegment = pairsOf(k), pairs = segments * perSegment;
    for (int i = 0; i < rows; i++) {
        for (int s = 0; s < segments; s++) {
            const float *restrict src = a + (size_t)i * lda + s * segmentStride;
            uint32_t *restrict dst = out + (size_t)i * pairs + s * perSegment;
            int q = 0;
            for (; 2 * q + 1 < k; q++) dst[q] = (uint32_t)toBF16(src[2 * q]) | (uint32_t)toBF16(src[2 * q + 1]) << 16;
            if (k & 1) dst[q] = toBF16(src[k - 1]);
        }
    }
}

VC_MULTIVERSION(roundRows, (int rows, int k, int segments, size_t segmentStride, const float *a, int lda, uint32_t *out),
                (rows, k, segments, segmentStride, a, lda, out))

// Each thread's buffer of rounded rows, grown as needed and freed when the thread ends.
static pthread_key_t bufferKey;
static pthread_once_t bufferOnce = PTHREAD_ONCE_INIT;
typedef struct { size_t capacity; uint32_t *words; } RowBuffer;
static void freeRowBuffer(void *p) {
    RowBuffer *buffer = p;
    free(buffer->words);
    free(buffer);
}
static void makeBufferKey(void) { pthread_key_create(&bufferKey, freeRowBuffer); }

static uint32_t *rowBuffer(size_t words) {
    pthread_once(&bufferOnce, makeBufferKey);
    RowBuffer *buffer = pthread_getspecific(bufferKey);
    if (buffer == NULL) {
        buffer = calloc(1, sizeof *buffer);
        if (buffer == NULL) abort();
        pthread_setspecific(bufferKey, buffer);
    }
    if (buffer->capacity < words) {
        free(buffer->words);
        size_t bytes = (words * sizeof(uint32_t) + 63) / 64 * 64;
        buffer->words = aligned_alloc(64, bytes);
        if (buffer->words == NULL) abort();
        buffer->capacity = words;
    }
    return buffer->words;
}

// The widened halves of bf16 pairs: the even steps' values (low halves) and the odd steps' (high).
#define VC_BF16_LOW(V, VI, x) ((V)((x) << 16))
#define VC_BF16_HIGH(V, VI, x) ((V)((x) & (VI){0} + (int)0xffff0000u))

// An MR-row tile over `pairs` pairs of k, fp32 multiply-adds of the widened values (any CPU). V is
// vc16 (a 16-column panel) or vc8 (a last panel of at most 8 columns: the first half of each pair
// step); VI the integer vector of the same lanes.
#define VC_BF16_WIDE_TILE(NAME, V, VI, MR, LOAD_C, FINISH)                                             \
    __attribute__((always_inline)) static inline void NAME(                                            \
        int pairs, const uint32_t *restrict a, int lda, const uint16_t *restrict panel, int cols,     \
        const float *restrict bias, const float *restrict residual, int ldr, int activation,          \
        float *restrict c, int ldc, int accumulate) {                                                  \
        V acc[MR];                                                                                     \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            acc[r] = !accumulate ? (V){0} : LOAD_C(c + (size_t)r * ldc, cols);                         \
        }                                                                                              \
        for (int q = 0; q < pairs; q++) {                                                              \
            VI w = *(const VI *)(panel + (size_t)q * 2 * PANEL);                                       \
            V even = VC_BF16_LOW(V, VI, w), odd = VC_BF16_HIGH(V, VI, w);                              \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                          \
                uint32_t x = a[(size_t)r * lda + q];                                                   \
                float low, high;                                                                       \
                uint32_t lowBits = x << 16, highBits = x & 0xffff0000u;                                \
                memcpy(&low, &lowBits, 4);                                                             \
                memcpy(&high, &highBits, 4);                                                           \
                acc[r] += even * low;                                                                  \
                acc[r] += odd * high;                                                                  \
            }                                                                                          \
        }                                                                                              \
        vc16 biasVector = !bias ? (vc16){0} : cols == PANEL ? *(const vc16 *)bias : vcLoadPartial16(bias, cols); \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            FINISH(acc[r], biasVector, residual ? residual + (size_t)r * ldr : 0, cols, activation,    \
                   c + (size_t)r * ldc);                                                               \
        }                                                                                              \
    }

#define VC_LOAD_C16(p, cols) ((cols) == PANEL ? *(const vc16 *)(p) : vcLoadPartial16((p), (cols)))
#define VC_LOAD_C8(p, cols) ((cols) == 8 ? *(const vc8 *)(p) : vcLoadPartial8((p), (cols)))
typedef int vc8i __attribute__((vector_size(32), aligned(4)));

VC_BF16_WIDE_TILE(wideTile6, vc16, vc16i, 6, VC_LOAD_C16, vcFinishRow16)
VC_BF16_WIDE_TILE(wideTile4, vc16, vc16i, 4, VC_LOAD_C16, vcFinishRow16)
VC_BF16_WIDE_TILE(wideTile2, vc16, vc16i, 2, VC_LOAD_C16, vcFinishRow16)
VC_BF16_WIDE_TILE(wideTile1, vc16, vc16i, 1, VC_LOAD_C16, vcFinishRow16)
VC_BF16_WIDE_TILE(wideHalfTile6, vc8, vc8i, 6, VC_LOAD_C8, vcFinishRow8)
VC_BF16_WIDE_TILE(wideHalfTile4, vc8, vc8i, 4, VC_LOAD_C8, vcFinishRow8)
VC_BF16_WIDE_TILE(wideHalfTile2, vc8, vc8i, 2, VC_LOAD_C8, vcFinishRow8)
VC_BF16_WIDE_TILE(wideHalfTile1, vc8, vc8i, 1, VC_LOAD_C8, vcFinishRow8)

#if defined(__x86_64__)
#define VC_BF16_TARGET __attribute__((target("avx512f,avx512vl,avx512bf16,fma")))

// A row of a dot tile finished from memory (t: its 16 or 8 sums): the helpers take vectors, and a
// function compiled for AVX-512 BF16 may not pass them to one compiled for the baseline; inlined,
// the round trip through t folds away.
__attribute__((always_inline)) static inline void finishRow16From(const float *t, const float *bias, const float *residual,
                                                                 int cols, int activation, float *out) {
    vc16 biasVector = !bias ? (vc16){0} : cols == PANEL ? *(const vc16 *)bias : vcLoadPartial16(bias, cols);
    vcFinishRow16(*(const vc16 *)t, biasVector, residual, cols, activation, out);
}
__attribute__((always_inline)) static inline void finishRow8From(const float *t, const float *bias, const float *residual,
                                                                int cols, int activation, float *out) {
    vc16 biasVector = !bias ? (vc16){0} : vcLoadPartial16(bias, cols);
    vcFinishRow8(*(const vc8 *)t, biasVector, residual, cols, activation, out);
}

// The same tile with VDPBF16PS: W the register type (__m512 for 16 columns, __m256 for 8), DOT
// the instruction, BH the bf16 vector type, LOADW a pair step's first 64 or 32 bytes, MASKLOAD C's
// first `cols` floats, FINISH a row from memory.
#define VC_BF16_DOT_TILE(NAME, W, BH, DOT, LOADW, SET1, MASKLOAD, STORE, MR, FINISH)                   \
    VC_BF16_TARGET __attribute__((always_inline)) static inline void NAME(                             \
        int pairs, const uint32_t *restrict a, int lda, const uint16_t *restrict panel, int cols,     \
        const float *restrict bias, const float *restrict residual, int ldr, int activation,          \
        float *restrict c, int ldc, int accumulate) {                                                  \
        W acc[MR];                                                                                     \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            acc[r] = !accumulate ? (W){0} : MASKLOAD((1u << cols) - 1, c + (size_t)r * ldc);           \
        }                                                                                              \
        _Pragma("clang loop unroll_count(2)") for (int q = 0; q < pairs; q++) {                        \
            BH w = (BH)LOADW((const void *)(panel + (size_t)q * 2 * PANEL));                           \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                          \
                acc[r] = DOT(acc[r], (BH)SET1((int)a[(size_t)r * lda + q]), w);                        \
            }                                                                                          \
        }                                                                                              \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            float t[16] __attribute__((aligned(64)));                                                  \
            STORE(t, acc[r]);                                                                          \
            FINISH(t, bias, residual ? residual + (size_t)r * ldr : 0, cols, activation, c + (size_t)r * ldc); \
        }                                                                                              \
    }

VC_BF16_DOT_TILE(dotTile12, __m512, __m512bh, _mm512_dpbf16_ps, _mm512_loadu_si512, _mm512_set1_epi32,
                 _mm512_maskz_loadu_ps, _mm512_store_ps, 12, finishRow16From)
VC_BF16_DOT_TILE(dotTile4, __m512, __m512bh, _mm512_dpbf16_ps, _mm512_loadu_si512, _mm512_set1_epi32,
                 _mm512_maskz_loadu_ps, _mm512_store_ps, 4, finishRow16From)
VC_BF16_DOT_TILE(dotTile2, __m512, __m512bh, _mm512_dpbf16_ps, _mm512_loadu_si512, _mm512_set1_epi32,
                 _mm512_maskz_loadu_ps, _mm512_store_ps, 2, finishRow16From)
VC_BF16_DOT_TILE(dotTile1, __m512, __m512bh, _mm512_dpbf16_ps, _mm512_loadu_si512, _mm512_set1_epi32,
                 _mm512_maskz_loadu_ps, _mm512_store_ps, 1, finishRow16From)
VC_BF16_DOT_TILE(dotHalfTile12, __m256, __m256bh, _mm256_dpbf16_ps, _mm256_loadu_si256, _mm256_set1_epi32,
                 _mm256_maskz_loadu_ps, _mm256_store_ps, 12, finishRow8From)
VC_BF16_DOT_TILE(dotHalfTile4, __m256, __m256bh, _mm256_dpbf16_ps, _mm256_loadu_si256, _mm256_set1_epi32,
                 _mm256_maskz_loadu_ps, _mm256_store_ps, 4, finishRow8From)
VC_BF16_DOT_TILE(dotHalfTile2, __m256, __m256bh, _mm256_dpbf16_ps, _mm256_loadu_si256, _mm256_set1_epi32,
                 _mm256_maskz_loadu_ps, _mm256_store_ps, 2, finishRow8From)
VC_BF16_DOT_TILE(dotHalfTile1, __m256, __m256bh, _mm256_dpbf16_ps, _mm256_loadu_si256, _mm256_set1_epi32,
                 _mm256_maskz_loadu_ps, _mm256_store_ps, 1, finishRow8From)
#endif

// One panel's rows i0 ..< iEnd: tiles of MR rows, then of 4, 2 and 1 (PREFIX: dotTile or wideTile).
#define VC_BF16_ROWS(PREFIX, MR)                                                                       \
    do {                                                                                               \
        int i = i0;                                                                                    \
        for (; i + MR <= iEnd; i += MR) {                                                              \
            PREFIX##MR(kl, ak + (size_t)(i - i0) * pairs, pairs, panel, cols, pb,                      \
                       blockResidual ? blockResidual + (size_t)i * ldr + j0 : 0, ldr, blockActivation, \
                       c + (size_t)i * ldc + j0, ldc, accumulate);                                     \
        }                                                                                              \
        for (; i + 4 <= iEnd; i += 4) {                                                                \
            PREFIX##4(kl, ak + (size_t)(i - i0) * pairs, pairs, panel, cols, pb,                       \
                      blockResidual ? blockResidual + (size_t)i * ldr + j0 : 0, ldr, blockActivation,  \
                      c + (size_t)i * ldc + j0, ldc, accumulate);                                      \
        }                                                                                              \
        for (; i + 2 <= iEnd; i += 2) {                                                                \
            PREFIX##2(kl, ak + (size_t)(i - i0) * pairs, pairs, panel, cols, pb,                       \
                      blockResidual ? blockResidual + (size_t)i * ldr + j0 : 0, ldr, blockActivation,  \
                      c + (size_t)i * ldc + j0, ldc, accumulate);                                      \
        }                                                                                              \
        for (; i < iEnd; i++) {                                                                        \
            PREFIX##1(kl, ak + (size_t)(i - i0) * pairs, pairs, panel, cols, pb,                       \
                      blockResidual ? blockResidual + (size_t)i * ldr + j0 : 0, ldr, blockActivation,  \
                      c + (size_t)i * ldc + j0, ldc, accumulate);                                      \
        }                                                                                              \
    } while (0)

// Blocks of rows (rounded once), blocks of pairs, panels, tiles (as VC_POINTWISE_LOOPS).
#define VC_BF16_LOOPS(TILE, HALF_TILE, MR)                                                             \
    do {                                                                                               \
        int panels = (n + PANEL - 1) / PANEL;                                                          \
        int pairs = segments * pairsOf(k); /* a row's pairs, all segments */                           \
        int kBlocks = pairs > 256 ? (pairs + 127) / 128 : 1;                                           \
        int kc = (pairs + kBlocks - 1) / kBlocks;                                                      \
        /* A block's rounded rows (80 KB of each block of k; 128 KB with blocks of k) per panel. */    \
        int mc = ((kBlocks == 1 ? 20480 : 32768) / (kc > 0 ? kc : 1)) / MR * MR;                       \
        if (mc < MR) mc = MR;                                                                          \
        if (mc > 64 * MR) mc = 64 * MR;                                                                \
        if (mc > m) mc = m;                                                                            \
        uint32_t *rounded = rowBuffer((size_t)mc * pairs);                                             \
        for (int i0 = 0; i0 < m; i0 += mc) {                                                           \
            int iEnd = i0 + mc < m ? i0 + mc : m;                                                      \
            roundRows(iEnd - i0, k, segments, segmentStride, a + (size_t)i0 * lda, lda, rounded);      \
            for (int k0 = 0; k0 < pairs; k0 += kc) {                                                   \
                int kl = pairs - k0 < kc ? pairs - k0 : kc, accumulate = k0 > 0, last = k0 + kl >= pairs; \
                const uint32_t *ak = rounded + k0;                                                     \
                const float *blockBias = last ? bias : 0, *blockResidual = last ? residual : 0;        \
                int blockActivation = last ? activation : 0;                                           \
                for (int j = 0; j < panels; j++) {                                                     \
                    int j0 = j * PANEL, cols = n - j0 < PANEL ? n - j0 : PANEL;                        \
                    const uint16_t *panel = packed + ((size_t)j * pairs + k0) * 2 * PANEL;             \
                    const float *pb = blockBias ? blockBias + j0 : 0;                                  \
                    if (cols <= 8) VC_BF16_ROWS(HALF_TILE, MR);                                        \
                    else VC_BF16_ROWS(TILE, MR);                                                       \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
    } while (0)

#if defined(__x86_64__)
VC_BF16_TARGET static void pointwiseDot(int m, int n, int k, int segments, size_t segmentStride, const float *a,
                                        int lda, const uint16_t *packed, const float *bias, const float *residual,
                                        int ldr, int activation, float *c, int ldc) {
    VC_BF16_LOOPS(dotTile, dotHalfTile, 12);
}

__attribute__((target("avx2,fma")))
static void pointwiseWideAVX2(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda,
                              const uint16_t *packed, const float *bias, const float *residual, int ldr,
                              int activation, float *c, int ldc) {
    VC_BF16_LOOPS(wideTile, wideHalfTile, 6);
}

__attribute__((target("avx512f,avx512vl,fma")))
static void pointwiseWideAVX512(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda,
                                const uint16_t *packed, const float *bias, const float *residual, int ldr,
                                int activation, float *c, int ldc) {
    VC_BF16_LOOPS(wideTile, wideHalfTile, 6);
}
#endif

static void pointwiseWideBaseline(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda,
                                  const uint16_t *packed, const float *bias, const float *residual, int ldr,
                                  int activation, float *c, int ldc) {
    VC_BF16_LOOPS(wideTile, wideHalfTile, 2);
}

int vc_bf16_native(void) {
#if defined(__x86_64__)
    static int cached = -1;
    int has = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (has < 0) {
        __builtin_cpu_init();
        has = __builtin_cpu_supports("avx512bf16") ? 1 : 0;
        __atomic_store_n(&cached, has, __ATOMIC_RELAXED);
    }
    return has && vcInstructionSet() == VC_AVX512;
#else
    return 0;
#endif
}

void vcPointwiseBF16(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda,
                     const uint16_t *packed, const float *bias, const float *residual, int ldr, int activation,
                     float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
#if defined(__x86_64__)
    if (vc_bf16_native()) {
        pointwiseDot(m, n, k, segments, segmentStride, a, lda, packed, bias, residual, ldr, activation, c, ldc);
        return;
    }
    switch (vcInstructionSet()) {
    case VC_AVX512:
        pointwiseWideAVX512(m, n, k, segments, segmentStride, a, lda, packed, bias, residual, ldr, activation, c, ldc);
        return;
    case VC_AVX2:
        pointwiseWideAVX2(m, n, k, segments, segmentStride, a, lda, packed, bias, residual, ldr, activation, c, ldc);
        return;
    default: break;
    }
#endif
    pointwiseWideBaseline(m, n, k, segments, segmentStride, a, lda, packed, bias, residual, ldr, activation, c, ldc);
}
