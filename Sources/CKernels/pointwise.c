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

// Rows of A made of `segments` runs of k floats each (see the tile); declared in kernels.h.
void vcPointwise(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda,
                      const float *packed, const float *bias, const float *residual, int ldr, int activation, float *c,
                      int ldc) {
    if (m <= 0 || n <= 0) return;
    switch (vcInstructionSet()) {
#if defined(__x86_64__)
    case VC_AVX512:
        pointwiseAVX512(m, n, k, segments, segmentStride, a, lda, packed, bias, residual, ldr, activation, c, ldc);
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
