// A whole 1×1 convolution of channels-last input in one call (see include/CKernels.h):
// C = act(A · Wᵀ + bias (+ residual)), A the pixels' channel vectors read in place (no packing of
// A: its rows are the input as it lies), W packed once into 16-column panels over the whole of k,
// and bias, residual and activation applied to each tile while it is still in L1.
//
//   for each block of MC rows of A (sized to stay in L2 across the panels):
//     for each block of k (all of k up to 512; else blocks of about 256, C accumulated across them):
//       for each 16-column panel of W (its rows of this block of k, L1/L2):
//         for each MR rows of the block: an MR × 16 tile of C, then (last block of k) its epilogue
//
// The micro-kernel is one body written with 16-float vectors, compiled for AVX-512 (12 rows:
// 12 of the 32 registers accumulate, one zmm each), for AVX2 + FMA (6 rows: 12 ymm halves) and for
// any other CPU (2 rows), chosen at run time (vcInstructionSet). A last panel of at most 8 columns
// runs the same body on 8-float vectors, and the commonest short rows (16 to 48 floats, and the
// RGB stem's windows) get copies of the loops with their lengths as constants.
//
// On AVX-512 most shapes go instead through the tiles further down ("tiles of 12 rows × 32
// columns"): they copy each tile's rows to a buffer first, so that one pointer addresses them all,
// and cover two panels at once.

#include "CKernels.h"
#include "kernels.h"

enum { PANEL = 16 };

size_t vc_pointwise_packed_count(int n, int k) {
    return (size_t)k * (size_t)((n + PANEL - 1) / PANEL) * PANEL;
}

void vc_pointwise_pack(int n, int k, const float *w, float *packed) {
    int panels = (n + PANEL - 1) / PANEL;
    for (int j = 0; j < panels; j++) {
        float *dst = packed + (size_t)j * k * PANEL;
        for (int col = 0; col < PANEL; col++) {
            int row = j * PANEL + col;
            for (int p = 0; p < k; p++) dst[(size_t)p * PANEL + col] = row < n ? w[(size_t)row * k + p] : 0;
        }
    }
}

__attribute__((always_inline))
static inline void scalePackedBody(int n, int k, const float *restrict packed, const float *restrict scale,
                                   float *restrict scaled) {
    int panels = (n + PANEL - 1) / PANEL;
    for (int j = 0; j < panels; j++) {
        const float *restrict src = packed + (size_t)j * k * PANEL;
        float *restrict dst = scaled + (size_t)j * k * PANEL;
        // A panel's row p: input p's weights for the panel's 16 outputs.
        for (int p = 0; p < k; p++) *(vc16 *)(dst + (size_t)p * PANEL) = *(const vc16 *)(src + (size_t)p * PANEL) * scale[p];
    }
}

VC_MULTIVERSION(scalePacked, (int n, int k, const float *packed, const float *scale, float *scaled),
                (n, k, packed, scale, scaled))

void vc_pointwise_scale_packed(int n, int k, const float *packed, const float *scale, float *scaled) {
    scalePacked(n, k, packed, scale, scaled);
}

// MR rows of A from `a` (leading dimension lda) times one packed panel; the tile's `cols` (≤ 16)
// columns finished into C in registers: + bias (+ residual), then the activation. A row is
// `segments` runs of k floats, segmentStride apart (one for a 1×1 convolution; a window's rows for
// the stem). V is the vector of the tile's columns: vc16, or vc8 for a last panel of at most 8
// columns (the first half of each of its packed rows), which wastes no lanes on the columns the
// panel does not have (24, 40, 72 outputs...); LOAD_C and FINISH read and finish a row of V.
#define VC_POINTWISE_TILE(NAME, V, MR, LOAD_C, FINISH)                                                 \
    __attribute__((always_inline)) static inline void NAME(                                            \
        int k, int segments, size_t segmentStride, const float *restrict segmentA, size_t lda,         \
        const float *restrict segmentPanel, int cols, const float *restrict bias,                      \
        const float *restrict residual, int ldr, int activation,                                       \
        float *restrict c, int ldc, int accumulate) {                                                  \
        V acc[MR];                                                                                     \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            acc[r] = !accumulate ? (V){0} : LOAD_C(c + (size_t)r * ldc, cols);                         \
        }                                                                                              \
        for (int segment = 0; segment < segments; segment++) {                                         \
        const float *restrict a = segmentA + segment * segmentStride;                                  \
        const float *restrict panel = segmentPanel + (size_t)segment * k * PANEL;                      \
        int p = 0;                                                                                     \
        /* Four steps of k per pass, so that each row's address serves four broadcasts. */             \
        for (; p + 4 <= k; p += 4) {                                                                   \
            const float *restrict q = panel + (size_t)p * PANEL;                                       \
            V b0 = *(const V *)q, b1 = *(const V *)(q + PANEL);                                        \
            V b2 = *(const V *)(q + 2 * PANEL), b3 = *(const V *)(q + 3 * PANEL);                      \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                          \
                const float *restrict x = a + r * lda + p;                                             \
                acc[r] += b0 * x[0];                                                                   \
                acc[r] += b1 * x[1];                                                                   \
                acc[r] += b2 * x[2];                                                                   \
                acc[r] += b3 * x[3];                                                                   \
            }                                                                                          \
        }                                                                                              \
        for (; p < k; p++) {                                                                           \
            V b = *(const V *)(panel + (size_t)p * PANEL);                                             \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) acc[r] += b * a[r * lda + p]; \
        }                                                                                              \
        }                                                                                              \
        vc16 biasVector = !bias ? (vc16){0} : cols == PANEL ? *(const vc16 *)bias : vcLoadPartial16(bias, cols); \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            FINISH(acc[r], biasVector, residual ? residual + (size_t)r * ldr : 0, cols, activation,    \
                   c + (size_t)r * ldc);                                                               \
        }                                                                                              \
    }


VC_POINTWISE_TILE(pointwiseTile12, vc16, 12, VC_LOAD_ROW16, vcFinishRow16)
VC_POINTWISE_TILE(pointwiseTile6, vc16, 6, VC_LOAD_ROW16, vcFinishRow16)
VC_POINTWISE_TILE(pointwiseTile4, vc16, 4, VC_LOAD_ROW16, vcFinishRow16)
VC_POINTWISE_TILE(pointwiseTile2, vc16, 2, VC_LOAD_ROW16, vcFinishRow16)
VC_POINTWISE_TILE(pointwiseHalfTile12, vc8, 12, VC_LOAD_ROW8, vcFinishRow8)
VC_POINTWISE_TILE(pointwiseHalfTile6, vc8, 6, VC_LOAD_ROW8, vcFinishRow8)
VC_POINTWISE_TILE(pointwiseHalfTile4, vc8, 4, VC_LOAD_ROW8, vcFinishRow8)
VC_POINTWISE_TILE(pointwiseHalfTile2, vc8, 2, VC_LOAD_ROW8, vcFinishRow8)

// One row: four partial sums over k, so that the multiply-adds do not wait for each other.
#define VC_POINTWISE_TILE1(NAME, V, LOAD_C, FINISH)                                                    \
    __attribute__((always_inline)) static inline void NAME(                                            \
        int k, int segments, size_t segmentStride, const float *restrict segmentA,                     \
        const float *restrict segmentPanel, int cols, const float *restrict bias,                      \
        const float *restrict residual, int activation, float *restrict out, int accumulate) {         \
        V s0 = !accumulate ? (V){0} : LOAD_C(out, cols);                                               \
        V s1 = {0}, s2 = {0}, s3 = {0};                                                                \
        for (int segment = 0; segment < segments; segment++) {                                         \
            const float *restrict a = segmentA + segment * segmentStride;                              \
            const float *restrict panel = segmentPanel + (size_t)segment * k * PANEL;                  \
            int p = 0;                                                                                 \
            for (; p + 4 <= k; p += 4) {                                                               \
                const float *restrict q = panel + (size_t)p * PANEL;                                   \
                s0 += *(const V *)q * a[p];                                                            \
                s1 += *(const V *)(q + PANEL) * a[p + 1];                                              \
                s2 += *(const V *)(q + 2 * PANEL) * a[p + 2];                                          \
                s3 += *(const V *)(q + 3 * PANEL) * a[p + 3];                                          \
            }                                                                                          \
            for (; p < k; p++) s0 += *(const V *)(panel + (size_t)p * PANEL) * a[p];                   \
        }                                                                                              \
        FINISH((s0 + s1) + (s2 + s3),                                                                  \
               !bias ? (vc16){0} : cols == PANEL ? *(const vc16 *)bias : vcLoadPartial16(bias, cols), residual, \
               cols, activation, out);                                                                 \
    }

VC_POINTWISE_TILE1(pointwiseTile1, vc16, VC_LOAD_ROW16, vcFinishRow16)
VC_POINTWISE_TILE1(pointwiseHalfTile1, vc8, VC_LOAD_ROW8, vcFinishRow8)

// The rows i0 ..< iEnd of one panel (TILE: pointwiseTile or pointwiseHalfTile): tiles of MR rows,
// then the last rows in tiles of 4 and 2, then one row with four partial sums.
#define VC_POINTWISE_ROWS(TILE, MR)                                                                    \
    do {                                                                                               \
        int i = i0;                                                                                    \
        for (; i + MR <= iEnd; i += MR) {                                                              \
            TILE##MR(kl, segments, segmentStride, ak + (size_t)i * lda, lda, panel, cols, pb,          \
                     blockResidual ? blockResidual + (size_t)i * ldr + j0 : 0, ldr, blockActivation,   \
                     c + (size_t)i * ldc + j0, ldc, accumulate);                                       \
        }                                                                                              \
        for (int tail = 4; tail >= 1; tail /= 2) {                                                     \
            for (; i + tail <= iEnd && tail < MR; i += tail) {                                         \
                const float *res = blockResidual ? blockResidual + (size_t)i * ldr + j0 : 0;           \
                float *out = c + (size_t)i * ldc + j0;                                                 \
                if (tail == 4) {                                                                       \
                    TILE##4(kl, segments, segmentStride, ak + (size_t)i * lda, lda, panel, cols, pb, res, ldr, \
                            blockActivation, out, ldc, accumulate);                                    \
                } else if (tail == 2) {                                                                \
                    TILE##2(kl, segments, segmentStride, ak + (size_t)i * lda, lda, panel, cols, pb, res, ldr, \
                            blockActivation, out, ldc, accumulate);                                    \
                } else {                                                                               \
                    TILE##1(kl, segments, segmentStride, ak + (size_t)i * lda, panel, cols, pb, res,   \
                            blockActivation, out, accumulate);                                         \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
    } while (0)

// One panel's rows, in tiles of V = 16 columns, or 8 for a last panel of at most 8.
#define VC_POINTWISE_PANEL(MR)                                                                         \
    do {                                                                                               \
        if (cols <= 8) VC_POINTWISE_ROWS(pointwiseHalfTile, MR);                                       \
        else VC_POINTWISE_ROWS(pointwiseTile, MR);                                                     \
    } while (0)

// The same with rows of K floats, K apart, K a constant: the tiles' loops over k unroll, and each
// row of A is a constant offset from the tile's first (one address register instead of MR).
#define VC_POINTWISE_PANEL_K(MR, K)                                                                    \
    do {                                                                                               \
        const int kl = K, segments = 1, lda = K;                                                       \
        const size_t segmentStride = 0;                                                                \
        VC_POINTWISE_PANEL(MR);                                                                        \
    } while (0)

// The same for the stem of RGB frames: three rows of 9 floats (3 pixels of 3 channels), windows
// 6 floats apart (stride 2).
#define VC_POINTWISE_PANEL_STEM(MR)                                                                    \
    do {                                                                                               \
        const int kl = 9, segments = 3, lda = 6;                                                       \
        VC_POINTWISE_PANEL(MR);                                                                        \
    } while (0)

// Blocks of rows, blocks of k, panels, then tiles of MR rows (the last rows in smaller tiles). A
// block of A (its rows, a block of k) stays in L2 while every panel's part for that block of k
// streams through; each k block after the first adds to C, the last finishes it. Long rows are cut
// into blocks of k (for one segment only) so that the blocks of A can have many rows: the weights
// are read once per block of rows.
#define VC_POINTWISE_LOOPS(MR)                                                                         \
    do {                                                                                               \
        int panels = (n + PANEL - 1) / PANEL;                                                          \
        int kt = k * segments; /* a row's length, all segments */                                      \
        int kBlocks = segments == 1 && k > 512 ? (k + 255) / 256 : 1;                                  \
        int kc = kBlocks == 1 ? k : ((k + kBlocks - 1) / kBlocks + 3) / 4 * 4;                         \
        int kb = kBlocks == 1 ? kt : kc;                                                               \
        /* Shapes whose k and lda the tiles take as constants: short dense rows (an expansion's 16  */ \
        /* to 48 inputs), and the stem of RGB frames (-1: 3×3 windows at stride 2, three rows of 9   */ \
        /* floats, 6 apart).                                                                         */ \
        int fixedK = segments == 1 && kBlocks == 1 && lda == k ? k : segments == 3 && k == 9 && lda == 6 ? -1 : 0; \
        /* A block of A (160 KB; 256 KB with blocks of k) is read once per panel. */                   \
        int mc = ((kBlocks == 1 ? 40960 : 65536) / (kb > 0 ? kb : 1)) / MR * MR;                       \
        if (mc < MR) mc = MR;                                                                          \
        if (mc > 64 * MR) mc = 64 * MR;                                                                \
        for (int i0 = 0; i0 < m; i0 += mc) {                                                           \
            int iEnd = i0 + mc < m ? i0 + mc : m;                                                      \
            for (int k0 = 0; k0 < k; k0 += kc) {                                                       \
                int kl = k - k0 < kc ? k - k0 : kc, accumulate = k0 > 0, last = k0 + kl >= k;          \
                const float *ak = a + k0;                                                              \
                const float *blockBias = last ? bias : 0, *blockResidual = last ? residual : 0;        \
                int blockActivation = last ? activation : 0;                                           \
                for (int j = 0; j < panels; j++) {                                                     \
                    int j0 = j * PANEL, cols = n - j0 < PANEL ? n - j0 : PANEL;                        \
                    const float *panel = packed + (size_t)j * kt * PANEL + (size_t)k0 * PANEL;         \
                    const float *pb = blockBias ? blockBias + j0 : 0;                                  \
                    switch (fixedK) {                                                                  \
                    case 16: VC_POINTWISE_PANEL_K(MR, 16); break;                                      \
                    case 24: VC_POINTWISE_PANEL_K(MR, 24); break;                                      \
                    case 32: VC_POINTWISE_PANEL_K(MR, 32); break;                                      \
                    case 40: VC_POINTWISE_PANEL_K(MR, 40); break;                                      \
                    case 48: VC_POINTWISE_PANEL_K(MR, 48); break;                                      \
                    case -1: VC_POINTWISE_PANEL_STEM(MR); break;                                       \
                    default: VC_POINTWISE_PANEL(MR); break;                                            \
                    }                                                                                  \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
    } while (0)
#if defined(__x86_64__)
__attribute__((target("avx512f,avx512vl,fma")))
static void pointwiseAVX512(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda, const float *packed, const float *bias,
                            const float *residual, int ldr, int activation, float *c, int ldc) {
    VC_POINTWISE_LOOPS(12);
}

__attribute__((target("avx2,fma")))
static void pointwiseAVX2(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda, const float *packed, const float *bias,
                          const float *residual, int ldr, int activation, float *c, int ldc) {
    VC_POINTWISE_LOOPS(6);
}
#endif

static void pointwiseBaseline(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda, const float *packed, const float *bias,
                              const float *residual, int ldr, int activation, float *c, int ldc) {
    VC_POINTWISE_LOOPS(2);
}

#if defined(__x86_64__)
// ---- AVX-512: tiles of 12 rows × 32 columns over a copy of A's rows ----
//
// The loops above read A where it lies, so each of a tile's rows needs its own address: a register,
// and an add per row and step of k, integer work that competes with the multiply-adds for their
// ports (on a Sapphire Rapids the 12 × 16 tiles reached 40 to 80 % of peak). Here the rows of a
// tile are first copied, a block of k at a time, into a buffer whose rows are WIDE_K floats apart,
// so that every row is a constant offset from one pointer. And a tile covers two panels: 24
// accumulators, each broadcast of A serving two multiply-adds, two loads of weights per 24.
// (The same copy in 6 × 16 AVX2 tiles was 0.85 to 1.5× the loops above on that Intel CPU, slower
// on the short rows; AMD's Zen 3, whose integer and vector ports are apart, was not measured, so
// AVX2 keeps the loops above.)
//
//   for each block of panels (their weights for one block of k: about 512 KB, in L2):
//     for each block of k (at most WIDE_K):
//       for each 12 rows of A (the last in tiles of 8 and 4): copy them (a row's segments one
//       after the other), then for each pair of panels of the block (or panel): a tile

enum { WIDE_K = 256 };

// A tile of MR rows times two panels (PAIR; V then vc16) or one (V: vc16, or vc8 for a last panel
// of at most 8 columns). C is added to after the first block of k and finished (bias, residual,
// and `activation`, which the caller passes as 0 before the last block) on the last; only the
// first `rows` rows are stored (the copy's other rows are zeros), and of the last panel only the
// first `cols` columns.
#define VC_WIDE_TILE(NAME, V, PAIR, MR, LOAD_C, FINISH)                                                \
    __attribute__((always_inline)) static inline void NAME(                                            \
        int kl, const float *restrict rowsOfA, int rows, const float *restrict panel0,                 \
        const float *restrict panel1, int cols, const float *restrict bias, const float *restrict residual, \
        int ldr, int activation, float *restrict c, int ldc, int accumulate, int last) {               \
        V x0[MR], x1[MR];                                                                              \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            const float *row = c + (size_t)r * ldc;                                                    \
            int load = accumulate && r < rows;                                                         \
            x0[r] = !load ? (V){0} : PAIR ? *(const V *)row : LOAD_C(row, cols);                       \
            x1[r] = !load || !PAIR ? (V){0} : LOAD_C(row + PANEL, cols);                               \
        }                                                                                              \
        for (int p = 0; p < kl; p++) {                                                                 \
            V b0 = *(const V *)(panel0 + (size_t)p * PANEL);                                           \
            V b1 = PAIR ? *(const V *)(panel1 + (size_t)p * PANEL) : (V){0};                           \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                          \
                float s = rowsOfA[r * WIDE_K + p];                                                     \
                x0[r] += b0 * s;                                                                       \
                if (PAIR) x1[r] += b1 * s;                                                             \
            }                                                                                          \
        }                                                                                              \
        vc16 bias0 = {0}, bias1 = {0};                                                                 \
        if (last && bias) {                                                                            \
            bias0 = PAIR || cols == PANEL ? *(const vc16 *)bias : vcLoadPartial16(bias, cols);         \
            if (PAIR) bias1 = cols == PANEL ? *(const vc16 *)(bias + PANEL) : vcLoadPartial16(bias + PANEL, cols); \
        }                                                                                              \
        const int width = (int)(sizeof(V) / sizeof(float));                                           \
        const float *tileResidual = last ? residual : 0;                                               \
        if (__builtin_expect(rows == MR && cols == width, 1)) {                                        \
            /* A whole tile: the finish straight-line code, its widths constants, so that the */       \
            /* accumulators stay in registers (the general finish below spills them). */               \
            if (!tileResidual) {                                                                       \
                _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                      \
                    FINISH(x0[r], bias0, 0, width, activation, c + (size_t)r * ldc);                   \
                    if (PAIR) FINISH(x1[r], bias1, 0, width, activation, c + (size_t)r * ldc + PANEL); \
                }                                                                                      \
            } else {                                                                                   \
                _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                      \
                    const float *res = tileResidual + (size_t)r * ldr;                                 \
                    FINISH(x0[r], bias0, res, width, activation, c + (size_t)r * ldc);                 \
                    if (PAIR) FINISH(x1[r], bias1, res + PANEL, width, activation, c + (size_t)r * ldc + PANEL); \
                }                                                                                      \
            }                                                                                          \
            return;                                                                                    \
        }                                                                                              \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < MR; r++) {                              \
            float *out = c + (size_t)r * ldc;                                                          \
            const float *res = tileResidual ? tileResidual + (size_t)r * ldr : 0;                      \
            if (r < rows && PAIR) {                                                                    \
                FINISH(x0[r], bias0, res, PANEL, activation, out);                                     \
                FINISH(x1[r], bias1, res ? res + PANEL : 0, cols, activation, out + PANEL);            \
            } else if (r < rows) {                                                                     \
                FINISH(x0[r], bias0, res, cols, activation, out);                                      \
            }                                                                                          \
        }                                                                                              \
    }

VC_WIDE_TILE(pointwiseWidePair12, vc16, 1, 12, VC_LOAD_ROW16, vcFinishRow16)
VC_WIDE_TILE(pointwiseWideSingle12, vc16, 0, 12, VC_LOAD_ROW16, vcFinishRow16)
VC_WIDE_TILE(pointwiseWideHalf12, vc8, 0, 12, VC_LOAD_ROW8, vcFinishRow8)
VC_WIDE_TILE(pointwiseWidePair8, vc16, 1, 8, VC_LOAD_ROW16, vcFinishRow16)
VC_WIDE_TILE(pointwiseWideSingle8, vc16, 0, 8, VC_LOAD_ROW16, vcFinishRow16)
VC_WIDE_TILE(pointwiseWideHalf8, vc8, 0, 8, VC_LOAD_ROW8, vcFinishRow8)
VC_WIDE_TILE(pointwiseWidePair4, vc16, 1, 4, VC_LOAD_ROW16, vcFinishRow16)
VC_WIDE_TILE(pointwiseWideSingle4, vc16, 0, 4, VC_LOAD_ROW16, vcFinishRow16)
VC_WIDE_TILE(pointwiseWideHalf4, vc8, 0, 4, VC_LOAD_ROW8, vcFinishRow8)

// Floats k0 ..< k0 + count of a row of A made of `segments` runs of k floats, segmentStride apart.
__attribute__((always_inline))
static inline void copyRowOfA(const float *restrict row, int k, size_t segmentStride, int k0, int count,
                              float *restrict destination) {
    while (count > 0) {
        int segment = k0 / k, offset = k0 % k, run = k - offset < count ? k - offset : count;
        // Inline rather than memcpy: the runs are short (a call cost a fifth of a 64-float row's tile).
        const float *restrict source = row + segment * segmentStride + offset;
        int i = 0;
        for (; i + 16 <= run; i += 16) *(vc16 *)(destination + i) = *(const vc16 *)(source + i);
        for (; i < run; i++) destination[i] = source[i];
        destination += run;
        k0 += run;
        count -= run;
    }
}

// One tile of MR rows (12, 8 or 4) at i, its `rows` rows copied (the rest of the copy zeros), times
// every panel of the block [jb, jbEnd): in pairs while the second has more than 8 columns.
#define VC_WIDE_PANELS_ACT(MR, ACT)                                                                    \
    do {                                                                                               \
        for (int j = jb; j < jbEnd;) {                                                                 \
            int j0 = j * PANEL, cols = n - j0 < PANEL ? n - j0 : PANEL;                                \
            const float *panel0 = packed + (size_t)j * kt * PANEL + (size_t)k0 * PANEL;                \
            const float *pb = bias ? bias + j0 : 0, *res = tileResidual ? tileResidual + j0 : 0;       \
            if (j + 1 < jbEnd && n - j0 - PANEL > 8) {                                                 \
                int cols1 = n - j0 - PANEL < PANEL ? n - j0 - PANEL : PANEL;                           \
                pointwiseWidePair##MR(kl, rowsOfA, rows, panel0, panel0 + (size_t)kt * PANEL, cols1, pb, res, ldr, \
                                      ACT, tileC + j0, ldc, accumulate, last);                         \
                j += 2;                                                                                \
            } else if (cols <= 8) {                                                                    \
                pointwiseWideHalf##MR(kl, rowsOfA, rows, panel0, 0, cols, pb, res, ldr, ACT, tileC + j0, ldc, \
                                      accumulate, last);                                               \
                j++;                                                                                   \
            } else {                                                                                   \
                pointwiseWideSingle##MR(kl, rowsOfA, rows, panel0, 0, cols, pb, res, ldr, ACT, tileC + j0, \
                                        ldc, accumulate, last);                                        \
                j++;                                                                                   \
            }                                                                                          \
        }                                                                                              \
    } while (0)

// VC_WIDE_PANELS_ACT with the activation (applied on the last block of k only) a constant in the
// commonest cases, none, ReLU and ReLU6, so that each row's finish has no switch: 1.05–1.14× on rows
// of 16 to 32 floats (an expansion's), where the finish weighs about as much as the multiply-adds.
#define VC_WIDE_PANELS(MR)                                                                             \
    do {                                                                                               \
        int blockActivation = last ? activation : 0;                                                   \
        if (blockActivation == 0) VC_WIDE_PANELS_ACT(MR, 0);                                           \
        else if (blockActivation == 1) VC_WIDE_PANELS_ACT(MR, 1);                                      \
        else if (blockActivation == 2) VC_WIDE_PANELS_ACT(MR, 2);                                      \
        else VC_WIDE_PANELS_ACT(MR, blockActivation);                                                  \
    } while (0)

__attribute__((target("avx512f,avx512vl,fma")))
static void pointwiseWideAVX512(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda,
                                const float *packed, const float *bias, const float *residual, int ldr, int activation,
                                float *c, int ldc) {
    float rowsOfA[12 * WIDE_K] __attribute__((aligned(64)));
    int panels = (n + PANEL - 1) / PANEL, kt = k * segments;
    int kBlocks = (kt + WIDE_K - 1) / WIDE_K, kc = (kt + kBlocks - 1) / kBlocks;
    int blockPanels = 131072 / (kc * PANEL) / 2 * 2;
    if (blockPanels < 2) blockPanels = 2;
    for (int jb = 0; jb < panels; jb += blockPanels) {
        int jbEnd = jb + blockPanels < panels ? jb + blockPanels : panels;
        for (int k0 = 0; k0 < kt; k0 += kc) {
            int kl = kt - k0 < kc ? kt - k0 : kc, accumulate = k0 > 0, last = k0 + kl >= kt;
            // Tiles of 12 rows, then one of 8 and one of 4 for what is left (the last 1 to 3 rows in
            // a tile of 4).
            for (int i = 0; i < m;) {
                int left = m - i, tile = left >= 12 ? 12 : left >= 8 ? 8 : 4, rows = left < tile ? left : tile;
                for (int r = 0; r < tile; r++) {
                    if (r < rows) copyRowOfA(a + (size_t)(i + r) * lda, k, segmentStride, k0, kl, rowsOfA + r * WIDE_K);
                    else memset(rowsOfA + r * WIDE_K, 0, (size_t)kl * sizeof(float));
                }
                const float *tileResidual = residual ? residual + (size_t)i * ldr : 0;
                float *tileC = c + (size_t)i * ldc;
                if (tile == 12) VC_WIDE_PANELS(12);
                else if (tile == 8) VC_WIDE_PANELS(8);
                else VC_WIDE_PANELS(4);
                i += rows;
            }
        }
    }
}
#endif

// Rows of A made of `segments` runs of k floats each (see the tile); declared in kernels.h.
void vcPointwise(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda,
                      const float *packed, const float *bias, const float *residual, int ldr, int activation, float *c,
                      int ldc) {
    if (m <= 0 || n <= 0) return;
    switch (vcInstructionSet()) {
#if defined(__x86_64__)
    case VC_AVX512:
        // Fewer than 12 rows, or at most 24 columns (no pair of panels): the copy costs more than
        // it saves (0.9× the loops above in those shapes on a Sapphire Rapids).
        if (m < 12 || n <= 24) pointwiseAVX512(m, n, k, segments, segmentStride, a, lda, packed, bias, residual, ldr, activation, c, ldc);
        else pointwiseWideAVX512(m, n, k, segments, segmentStride, a, lda, packed, bias, residual, ldr, activation, c, ldc);
        break;
    case VC_AVX2:
        pointwiseAVX2(m, n, k, segments, segmentStride, a, lda, packed, bias, residual, ldr, activation, c, ldc);
        break;
#endif
    default:
        pointwiseBaseline(m, n, k, segments, segmentStride, a, lda, packed, bias, residual, ldr, activation, c, ldc);
        break;
    }
}

void vc_pointwise_nhwc(int m, int n, int k, const float *a, int lda, const float *packed, const uint16_t *packedBF16,
                       const float *bias, const float *residual, int ldr, int activation, float *c, int ldc) {
    if (packedBF16) vcPointwiseBF16(m, n, k, 1, 0, a, lda, packedBF16, bias, residual, ldr, activation, c, ldc);
    else vcPointwise(m, n, k, 1, 0, a, lda, packed, bias, residual, ldr, activation, c, ldc);
}

size_t vc_stem_scratch_count(int c, int w, int kh, int stride, int padW, int rowStart, int rowEnd) {
    int rows = (rowEnd - rowStart - 1) * stride + kh;
    return rows > 0 ? (size_t)rows * (size_t)(w + 2 * padW) * (size_t)c : 0;
}

void vc_stem_nhwc(const float *x, int c, int h, int w, int kh, int kw, int stride, int padH, int padW,
                  const float *packed, const uint16_t *packedBF16, const float *bias, int activation, int n, float *y,
                  int ow, int rowStart, int rowEnd, float *scratch) {
    if (rowEnd <= rowStart) return;
    // The input rows these outputs read, zero-padded and channels-last: a window's row is then kw · c
    // consecutive floats, and the windows of neighbouring outputs stride · c floats apart.
    int paddedWidth = w + 2 * padW, rows = (rowEnd - rowStart - 1) * stride + kh, firstRow = rowStart * stride - padH;
    size_t rowFloats = (size_t)paddedWidth * c;
    for (int r = 0; r < rows; r++) {
        float *restrict dst = scratch + (size_t)r * rowFloats;
        int sy = firstRow + r;
        if (sy < 0 || sy >= h) {
            for (size_t i = 0; i < rowFloats; i++) dst[i] = 0;
            continue;
        }
        for (int i = 0; i < padW * c; i++) dst[i] = 0;
        for (int i = (padW + w) * c; i < paddedWidth * c; i++) dst[i] = 0;
        float *restrict out = dst + (size_t)padW * c;
        if (c == 3) {
            // RGB frames: the three planes' rows interleaved, a pixel's three values stored together.
            const float *restrict r = x + (size_t)sy * w, *restrict g = r + (size_t)h * w, *restrict b = g + (size_t)h * w;
            for (int xx = 0; xx < w; xx++) {
                out[3 * xx] = r[xx];
                out[3 * xx + 1] = g[xx];
                out[3 * xx + 2] = b[xx];
            }
        } else {
            for (int ch = 0; ch < c; ch++) {
                const float *restrict src = x + ((size_t)ch * h + sy) * w;
                for (int xx = 0; xx < w; xx++) out[(size_t)xx * c + ch] = src[xx];
            }
        }
    }
    for (int oy = rowStart; oy < rowEnd; oy++) {
        const float *a = scratch + (size_t)(oy - rowStart) * stride * rowFloats;
        float *out = y + (size_t)(oy - rowStart) * ow * n;
        if (packedBF16) vcPointwiseBF16(ow, n, kw * c, kh, rowFloats, a, stride * c, packedBF16, bias, 0, 0, activation, out, n);
        else vcPointwise(ow, n, kw * c, kh, rowFloats, a, stride * c, packed, bias, 0, 0, activation, out, n);
    }
}
