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

// Rounded rows of A are stored in panels of LAYOUT rows, pair-major: pair q of the panel's row r
// at q · LAYOUT + r. A tile then reads its rows' pairs at constant offsets from one address (the
// broadcasts need no register per row), and the last, partial panel is padded with zero rows.
enum { LAYOUT = 12 };

// Words (pairs) of one segment of k values.
__attribute__((always_inline)) static inline void roundSegment(const float *restrict src, int k, uint32_t *restrict dst) {
    typedef uint32_t u16x __attribute__((vector_size(64), aligned(4)));
    typedef uint16_t h32x __attribute__((vector_size(64), aligned(4)));
    typedef uint16_t h16x __attribute__((vector_size(32), aligned(4)));
    int q = 0;
    // 16 floats at a time: each rounded in its 32-bit lane (NaN made quiet), then the upper halves
    // of the 16 lanes packed into 8 words.
    for (; 2 * q + 16 <= k; q += 8) {
        u16x bits;
        memcpy(&bits, src + 2 * q, sizeof bits);
        u16x nan = (bits & 0x7fffffffu) > 0x7f800000u;
        u16x rounded = (bits + 0x7fffu + ((bits >> 16) & 1)) & ~nan;
        rounded |= (bits | 0x400000u) & nan;
        h32x halves = (h32x)rounded;
        h16x upper = __builtin_shufflevector(halves, halves, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        memcpy(dst + q, &upper, sizeof upper);
    }
    for (; 2 * q + 1 < k; q++) dst[q] = (uint32_t)toBF16(src[2 * q]) | (uint32_t)toBF16(src[2 * q + 1]) << 16;
    if (k & 1) dst[q] = toBF16(src[k - 1]);
}

// Rows 0 ..< rows of A (each `segments` runs of k floats, segmentStride apart) rounded into panels;
// `row` holds one row's pairs on the way.
__attribute__((always_inline)) static inline void roundPanelsBody(int rows, int k, int segments, size_t segmentStride,
                                                                  const float *a, int lda, uint32_t *out, uint32_t *row) {
    int perSegment = pairsOf(k), pairs = segments * perSegment, panels = (rows + LAYOUT - 1) / LAYOUT;
    for (int p = 0; p < panels; p++) {
        uint32_t *restrict panel = out + (size_t)p * pairs * LAYOUT;
        for (int r = 0; r < LAYOUT; r++) {
            int i = p * LAYOUT + r;
            if (i < rows) {
                for (int s = 0; s < segments; s++) roundSegment(a + (size_t)i * lda + s * segmentStride, k, row + s * perSegment);
                for (int q = 0; q < pairs; q++) panel[(size_t)q * LAYOUT + r] = row[q];
            } else {
                for (int q = 0; q < pairs; q++) panel[(size_t)q * LAYOUT + r] = 0;
            }
        }
    }
}

VC_MULTIVERSION(roundPanels, (int rows, int k, int segments, size_t segmentStride, const float *a, int lda, uint32_t *out,
                              uint32_t *row),
                (rows, k, segments, segmentStride, a, lda, out, row))

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

typedef int vc8i __attribute__((vector_size(32), aligned(4)));

// An MR-row tile (of a panel's rows; the first `rows` are stored) over `pairs` pairs of k, fp32
// multiply-adds of the widened values (any CPU). V is vc16 (a 16-column panel) or vc8 (a last
// panel of at most 8 columns: the first half of each pair step); VI the integer vector of as many lanes.
#define VC_BF16_WIDE_TILE(NAME, V, VI, MR, LOAD_C, FINISH)                                             \
    __attribute__((always_inline)) static inline void NAME(                                            \
        int pairs, const uint32_t *restrict a, int rows, const uint16_t *restrict panel, int cols,    \
        const float *restrict bias, const float *restrict residual, int ldr, int activation,          \
        float *restrict c, int ldc, int accumulate) {                                                  \
        V acc[MR];                                                                                     \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            acc[r] = !accumulate || r >= rows ? (V){0} : LOAD_C(c + (size_t)r * ldc, cols);            \
        }                                                                                              \
        for (int q = 0; q < pairs; q++) {                                                              \
            VI w = *(const VI *)(panel + (size_t)q * 2 * PANEL);                                       \
            V even = (V)(w << 16), odd = (V)(w & (int)0xffff0000u);                                    \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                          \
                uint32_t x = a[(size_t)q * LAYOUT + r], lowBits = x << 16, highBits = x & 0xffff0000u; \
                float low, high;                                                                       \
                memcpy(&low, &lowBits, 4);                                                             \
                memcpy(&high, &highBits, 4);                                                           \
                acc[r] += even * low;                                                                  \
                acc[r] += odd * high;                                                                  \
            }                                                                                          \
        }                                                                                              \
        vc16 biasVector = !bias ? (vc16){0} : cols == PANEL ? *(const vc16 *)bias : vcLoadPartial16(bias, cols); \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            if (r < rows) FINISH(acc[r], biasVector, residual ? residual + (size_t)r * ldr : 0, cols, activation, \
                                 c + (size_t)r * ldc);                                                 \
        }                                                                                              \
    }

VC_BF16_WIDE_TILE(wideTile, vc16, vc16i, 4, VC_LOAD_ROW16, vcFinishRow16)
VC_BF16_WIDE_TILE(wideHalfTile, vc8, vc8i, 4, VC_LOAD_ROW8, vcFinishRow8)

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

// The same tile with VDPBF16PS, over one panel (W __m512: 16 columns; __m256: a last panel of at
// most 8) or, with WIDE, two neighbouring panels at once (32 columns, the second `cols2` wide):
// each broadcast of A then feeds two instructions. DOT the instruction, BH the bf16 vector type,
// LOADW a pair step's first 64 or 32 bytes, MASKLOAD C's first `cols` floats, FINISH a row from memory.
#define VC_BF16_DOT_TILE(NAME, W, BH, DOT, LOADW, SET1, MASKLOAD, STORE, MR, WIDE, FINISH)             \
    VC_BF16_TARGET __attribute__((always_inline)) static inline void NAME(                             \
        int pairs, const uint32_t *restrict a, int rows, const uint16_t *restrict panel, int cols,    \
        int cols2, size_t panelStride, const float *restrict bias, const float *restrict residual,    \
        int ldr, int activation, float *restrict c, int ldc, int accumulate) {                         \
        W acc[MR], acc2[MR];                                                                            \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            int load = accumulate && r < rows;                                                         \
            acc[r] = !load ? (W){0} : MASKLOAD((1u << cols) - 1, c + (size_t)r * ldc);                 \
            if (WIDE) acc2[r] = !load ? (W){0} : MASKLOAD((1u << cols2) - 1, c + (size_t)r * ldc + PANEL); \
        }                                                                                              \
        const uint16_t *restrict panel2 = panel + panelStride;                                         \
        for (int q = 0; q < pairs; q++) {                                                              \
            BH w = (BH)LOADW((const void *)(panel + (size_t)q * 2 * PANEL));                           \
            BH w2 = WIDE ? (BH)LOADW((const void *)(panel2 + (size_t)q * 2 * PANEL)) : w;              \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                          \
                BH x = (BH)SET1((int)a[(size_t)q * LAYOUT + r]);                                       \
                acc[r] = DOT(acc[r], x, w);                                                            \
                if (WIDE) acc2[r] = DOT(acc2[r], x, w2);                                               \
            }                                                                                          \
        }                                                                                              \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            if (r >= rows) continue;                                                                   \
            float t[16] __attribute__((aligned(64)));                                                  \
            STORE(t, acc[r]);                                                                          \
            FINISH(t, bias, residual ? residual + (size_t)r * ldr : 0, cols, activation, c + (size_t)r * ldc); \
            if (WIDE) {                                                                                \
                STORE(t, acc2[r]);                                                                     \
                FINISH(t, bias ? bias + PANEL : 0, residual ? residual + (size_t)r * ldr + PANEL : 0, cols2, \
                       activation, c + (size_t)r * ldc + PANEL);                                       \
            }                                                                                          \
        }                                                                                              \
    }

// 16 vectors of 16 words transposed: r[i][j] becomes r[j][i] (32-bit unpacks within 128-bit lanes,
// then 64-bit ones, then two rounds of 128-bit lane shuffles).
VC_BF16_TARGET __attribute__((always_inline)) static inline void transpose16(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int g = 0; g < 16; g += 8) {
        for (int i = 0; i < 4; i++) {
            t[g + i] = _mm512_shuffle_i32x4(r[g + i], r[g + 4 + i], 0x88);
            t[g + 4 + i] = _mm512_shuffle_i32x4(r[g + i], r[g + 4 + i], 0xdd);
        }
    }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0x88);
        r[8 + i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0xdd);
    }
}

// roundPanels with AVX-512 BF16: 16 pairs of each of a panel's 12 rows rounded by VCVTNE2PS2BF16
// (32 floats to 32 bf16 in order, that is 16 pairs; the floats past a segment's end loaded as
// zeros, with a mask) and transposed, so that each pair's 12 words are one store.
VC_BF16_TARGET static void roundPanelsNative(int rows, int k, int segments, size_t segmentStride, const float *a, int lda,
                                             uint32_t *out) {
    int perSegment = pairsOf(k), pairs = segments * perSegment, panels = (rows + LAYOUT - 1) / LAYOUT;
    for (int p = 0; p < panels; p++) {
        uint32_t *panel = out + (size_t)p * pairs * LAYOUT;
        int valid = rows - p * LAYOUT < LAYOUT ? rows - p * LAYOUT : LAYOUT;
        for (int s = 0; s < segments; s++) {
            const float *first = a + (size_t)p * LAYOUT * lda + s * segmentStride;
            uint32_t *segment = panel + (size_t)s * perSegment * LAYOUT;
            for (int q = 0; q < perSegment; q += 16) {
                // The floats 2q ..< 2q + 32 of each row that lie in the segment.
                int left = k - 2 * q, low = left < 16 ? left : 16, high = left - 16 < 0 ? 0 : left - 16 < 16 ? left - 16 : 16;
                __mmask16 lowMask = (__mmask16)((1u << low) - 1), highMask = (__mmask16)((1u << high) - 1);
                __m512i r[16];
                for (int i = 0; i < 16; i++) {
                    if (i < valid) {
                        const float *src = first + (size_t)i * lda + 2 * q;
                        __m512 lo = low == 16 ? _mm512_loadu_ps(src) : _mm512_maskz_loadu_ps(lowMask, src);
                        __m512 hi = high == 16 ? _mm512_loadu_ps(src + 16) : _mm512_maskz_loadu_ps(highMask, src + 16);
                        r[i] = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
                    } else {
                        r[i] = _mm512_setzero_si512();
                    }
                }
                transpose16(r);
                int count = perSegment - q < 16 ? perSegment - q : 16;
                for (int j = 0; j < count; j++) _mm512_mask_storeu_epi32(segment + (size_t)(q + j) * LAYOUT, 0x0fff, r[j]);
            }
        }
    }
}

#define VC_BF16_DOT512(NAME, MR, WIDE)                                                                 \
    VC_BF16_DOT_TILE(NAME, __m512, __m512bh, _mm512_dpbf16_ps, _mm512_loadu_si512, _mm512_set1_epi32,  \
                     _mm512_maskz_loadu_ps, _mm512_store_ps, MR, WIDE, finishRow16From)
#define VC_BF16_DOT256(NAME, MR)                                                                       \
    VC_BF16_DOT_TILE(NAME, __m256, __m256bh, _mm256_dpbf16_ps, _mm256_loadu_si256, _mm256_set1_epi32,  \
                     _mm256_maskz_loadu_ps, _mm256_store_ps, MR, 0, finishRow8From)

VC_BF16_DOT512(dotPairTile12, 12, 1)
VC_BF16_DOT512(dotPairTile8, 8, 1)
VC_BF16_DOT512(dotPairTile4, 4, 1)
VC_BF16_DOT512(dotTile12, 12, 0)
VC_BF16_DOT512(dotTile8, 8, 0)
VC_BF16_DOT512(dotTile4, 4, 0)
VC_BF16_DOT256(dotHalfTile12, 12)
VC_BF16_DOT256(dotHalfTile8, 8)
VC_BF16_DOT256(dotHalfTile4, 4)
#endif

// Blocks of rows (rounded once into panels), blocks of pairs, then panels of the weights: for each
// panel of A, one tile (the rows past A's end are zeros, computed and not stored). Each block of k
// after the first adds to C; the last finishes it (bias, residual, activation), as in pointwise.c.
#define VC_BF16_LOOPS(ROUND, STEP, EACH_PANEL)                                                         \
    do {                                                                                               \
        int panels = (n + PANEL - 1) / PANEL;                                                          \
        int pairs = segments * pairsOf(k); /* a row's pairs, all segments */                           \
        int kBlocks = pairs > 256 ? (pairs + 127) / 128 : 1;                                           \
        int kc = (pairs + kBlocks - 1) / kBlocks;                                                      \
        /* A block's rounded rows (80 KB of each block of k; 128 KB with blocks of k) per panel. */    \
        int mc = ((kBlocks == 1 ? 20480 : 32768) / (kc > 0 ? kc : 1)) / LAYOUT * LAYOUT;               \
        if (mc < LAYOUT) mc = LAYOUT;                                                                  \
        if (mc > 64 * LAYOUT) mc = 64 * LAYOUT;                                                        \
        int blockPanels = ((mc < m ? mc : m) + LAYOUT - 1) / LAYOUT;                                   \
        uint32_t *rounded = rowBuffer((size_t)blockPanels * LAYOUT * pairs + pairs);                   \
        uint32_t *rowPairs = rounded + (size_t)blockPanels * LAYOUT * pairs;                           \
        for (int i0 = 0; i0 < m; i0 += mc) {                                                           \
            int iEnd = i0 + mc < m ? i0 + mc : m;                                                      \
            ROUND(iEnd - i0, k, segments, segmentStride, a + (size_t)i0 * lda, lda, rounded, rowPairs);  \
            for (int k0 = 0; k0 < pairs; k0 += kc) {                                                   \
                int kl = pairs - k0 < kc ? pairs - k0 : kc, accumulate = k0 > 0, last = k0 + kl >= pairs; \
                const float *blockBias = last ? bias : 0, *blockResidual = last ? residual : 0;        \
                int blockActivation = last ? activation : 0;                                           \
                for (int j = 0; j < panels;) {                                                         \
                    int j0 = j * PANEL, cols = n - j0 < PANEL ? n - j0 : PANEL;                        \
                    const uint16_t *panel = packed + ((size_t)j * pairs + k0) * 2 * PANEL;             \
                    const float *pb = blockBias ? blockBias + j0 : 0;                                  \
                    int step = (STEP); /* panels this pass takes */                                    \
                    for (int i = i0; i < iEnd; i += LAYOUT) {                                          \
                        const uint32_t *ap = rounded + ((size_t)(i - i0) / LAYOUT * pairs + k0) * LAYOUT; \
                        int rows = iEnd - i < LAYOUT ? iEnd - i : LAYOUT;                              \
                        EACH_PANEL;                                                                    \
                    }                                                                                  \
                    j += step;                                                                         \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
    } while (0)

// The arguments of a dot tile over this panel of A (`rows` rows) and the weights' panel j (with
// COLS2, also panel j + 1).
#define VC_BF16_ARGS(COLS, COLS2)                                                                      \
    kl, ap, rows, panel, COLS, COLS2, (size_t)pairs * 2 * PANEL, pb,                                   \
        blockResidual ? blockResidual + (size_t)i * ldr + j0 : 0, ldr, blockActivation, c + (size_t)i * ldc + j0, ldc, \
        accumulate

// One tile for a panel of A, of 12, 8 or 4 rows: the fewest that hold its rows (the tile's weights
// are loaded once for all of them).
#define VC_BF16_PANEL_ROWS(TILE12, TILE8, TILE4, COLS, COLS2)                                          \
    do {                                                                                               \
        if (rows > 8) TILE12(VC_BF16_ARGS(COLS, COLS2));                                               \
        else if (rows > 4) TILE8(VC_BF16_ARGS(COLS, COLS2));                                           \
        else TILE4(VC_BF16_ARGS(COLS, COLS2));                                                         \
    } while (0)

#if defined(__x86_64__)
#define VC_ROUND_NATIVE(rows, k, segments, segmentStride, a, lda, out, row) \
    roundPanelsNative(rows, k, segments, segmentStride, a, lda, out)

// Two panels at once while there are two; a last one alone (at most 8 columns in 8-float vectors).
VC_BF16_TARGET static void pointwiseDot(int m, int n, int k, int segments, size_t segmentStride, const float *a,
                                        int lda, const uint16_t *packed, const float *bias, const float *residual,
                                        int ldr, int activation, float *c, int ldc) {
    VC_BF16_LOOPS(VC_ROUND_NATIVE, j + 1 < panels ? 2 : 1,
        if (step == 2) {
            int cols2 = n - j0 - PANEL < PANEL ? n - j0 - PANEL : PANEL;
            VC_BF16_PANEL_ROWS(dotPairTile12, dotPairTile8, dotPairTile4, PANEL, cols2);
        } else if (cols > 8) {
            VC_BF16_PANEL_ROWS(dotTile12, dotTile8, dotTile4, cols, 0);
        } else {
            VC_BF16_PANEL_ROWS(dotHalfTile12, dotHalfTile8, dotHalfTile4, cols, 0);
        });
}
#endif

#define VC_WIDE4(r0, n_)                                                                               \
    do {                                                                                               \
        int here = n_;                                                                                 \
        const float *res = blockResidual ? blockResidual + (size_t)(i + (r0)) * ldr + j0 : 0;          \
        float *out = c + (size_t)(i + (r0)) * ldc + j0;                                                \
        if (cols > 8) wideTile(kl, ap + (r0), here, panel, cols, pb, res, ldr, blockActivation, out, ldc, accumulate); \
        else wideHalfTile(kl, ap + (r0), here, panel, cols, pb, res, ldr, blockActivation, out, ldc, accumulate); \
    } while (0)

__attribute__((always_inline)) static inline void pointwiseWideBody(int m, int n, int k, int segments,
                                                                    size_t segmentStride, const float *a, int lda,
                                                                    const uint16_t *packed, const float *bias,
                                                                    const float *residual, int ldr, int activation,
                                                                    float *c, int ldc) {
    VC_BF16_LOOPS(roundPanels, 1,
        for (int r0 = 0; r0 < rows; r0 += 4) VC_WIDE4(r0, rows - r0 < 4 ? rows - r0 : 4));
}

VC_MULTIVERSION(pointwiseWide, (int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda,
                                const uint16_t *packed, const float *bias, const float *residual, int ldr,
                                int activation, float *c, int ldc),
                (m, n, k, segments, segmentStride, a, lda, packed, bias, residual, ldr, activation, c, ldc))

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
#endif
    pointwiseWide(m, n, k, segments, segmentStride, a, lda, packed, bias, residual, ldr, activation, c, ldc);
}
