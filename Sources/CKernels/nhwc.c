// Channels-last (NHWC) kernels for the inverted-residual encoders' inference (see
// include/CKernels.h): with channels innermost, a depthwise convolution is a multiply-add of
// whole channel vectors per tap, and a 1×1 convolution is one GEMM over all pixels of all frames.

#include "CKernels.h"
#include "kernels.h"

#include <stddef.h>

// Channels c0 ..< c0 + BLOCK of one output pixel: BLOCK accumulators stay in registers across
// all taps (BLOCK a constant, so that the loops become whole vectors).
#define VC_DEPTHWISE_CHANNELS(BLOCK)                                                                   \
    do {                                                                                               \
        float acc[BLOCK];                                                                              \
        for (int j = 0; j < BLOCK; j++) acc[j] = bias[c0 + j];                                         \
        for (int ky = kyStart; ky < kyEnd; ky++) {                                                     \
            for (int kx = kxStart; kx < kxEnd; kx++) {                                                 \
                const float *restrict in = x + (base + ((ptrdiff_t)ky * w + kx) * c + c0);             \
                const float *restrict tap = weights + (size_t)(ky * kw + kx) * c + c0;                 \
                for (int j = 0; j < BLOCK; j++) acc[j] += tap[j] * in[j];                              \
            }                                                                                          \
        }                                                                                              \
        for (int j = 0; j < BLOCK; j++) out[c0 + j] = acc[j];                                          \
    } while (0)

// The same for four output pixels side by side (ox .. ox + 3, all taps inside the row): four
// independent sums per channel, so that the multiply-adds of one tap do not wait for the previous.
#define VC_DEPTHWISE_CHANNELS4(BLOCK)                                                                  \
    do {                                                                                               \
        float acc[4][BLOCK];                                                                           \
        for (int q = 0; q < 4; q++)                                                                    \
            for (int j = 0; j < BLOCK; j++) acc[q][j] = bias[c0 + j];                                  \
        for (int ky = kyStart; ky < kyEnd; ky++) {                                                     \
            for (int kx = 0; kx < kw; kx++) {                                                          \
                const float *restrict in = x + (base + ((ptrdiff_t)ky * w + kx) * c + c0);             \
                const float *restrict tap = weights + (size_t)(ky * kw + kx) * c + c0;                 \
                for (int q = 0; q < 4; q++)                                                            \
                    for (int j = 0; j < BLOCK; j++) acc[q][j] += tap[j] * in[(size_t)q * step + j];    \
            }                                                                                          \
        }                                                                                              \
        for (int q = 0; q < 4; q++)                                                                    \
            for (int j = 0; j < BLOCK; j++) out[(size_t)q * c + c0 + j] = acc[q][j];                   \
    } while (0)

// XB output pixels side by side (ox .. ox + XB − 1 of one row) for one vector of channels (V, at c0
// in x, weights, bias and out), all in registers: per kernel row, the (XB − 1)·S + KW input pixels
// the block reads are each loaded once and multiplied by the KW taps that read them (a pixel of a
// 5-wide kernel feeds five sums), so that loads do not outnumber the multiply-adds. Each sum adds
// its taps in the same order as VC_DEPTHWISE_CHANNELS (rows, then columns). With `guarded`, input
// pixels outside the row read as zero (the padding); without, the block lies inside the row. The
// activation is applied in registers, as each sum is stored.
// KW, S, XB and guarded are constants where this is inlined, so the loops unroll completely.
#define VC_DEPTHWISE_BLOCK(NAME, V, ACTIVATE)                                                                    \
    __attribute__((always_inline)) static inline void NAME(                                            \
        const float *restrict x, ptrdiff_t base, ptrdiff_t rowFloats, int c, int kyStart, int kyEnd,  \
        int x0, int w,                                                                                 \
        const float *restrict weights, const float *restrict bias, int KW, int S, int XB, int guarded, \
        int activation, float *restrict out, int outCount) {                                           \
        V acc[8];                                                                                      \
        V b = *(const V *)bias;                                                                        \
        _Pragma("clang loop unroll(full)") for (int q = 0; q < XB; q++) acc[q] = b;                    \
        for (int ky = kyStart; ky < kyEnd; ky++) {                                                     \
            ptrdiff_t row = base + (ptrdiff_t)ky * rowFloats;                                          \
            V tap[7];                                                                                  \
            _Pragma("clang loop unroll(full)") for (int kx = 0; kx < KW; kx++)                         \
                tap[kx] = *(const V *)(weights + (size_t)(ky * KW + kx) * c);                          \
            _Pragma("clang loop unroll(full)") for (int j = 0; j < (XB - 1) * S + KW; j++) {           \
                int ix = x0 + j;                                                                       \
                V v = !guarded || (ix >= 0 && ix < w) ? *(const V *)(x + row + (ptrdiff_t)ix * c) : (V){0}; \
                _Pragma("clang loop unroll(full)") for (int kx = 0; kx < KW; kx++) {                   \
                    int d = j - kx;                                                                    \
                    if (d >= 0 && d % S == 0 && d / S < XB) acc[d / S] += tap[kx] * v;                \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
        _Pragma("clang loop unroll(full)") for (int q = 0; q < XB; q++)                                \
            if (q < outCount) *(V *)(out + (size_t)q * c) = ACTIVATE(acc[q], activation);              \
    }

VC_DEPTHWISE_BLOCK(depthwiseBlock16, vc16, vcActivate16)
VC_DEPTHWISE_BLOCK(depthwiseBlock8, vc8, vcActivate8)

// Output rows of a KW-wide kernel at stride S, channel counts a multiple of 8: the row's pixels XB
// at a time (the blocks that reach into the padding guarded), each block for every vector of channels.
__attribute__((always_inline))
static inline void depthwiseBlockedRows(const float *restrict x, int firstInputRow, int h, int w, int c,
                                        const float *restrict weights, int kh, int KW, int S, int padH, int padW,
                                        const float *restrict bias, float *restrict y, int firstOutputRow, int ow,
                                        int rowStart, int rowEnd, int activation, int XB) {
    ptrdiff_t rowFloats = (ptrdiff_t)w * c;
    for (int oy = rowStart; oy < rowEnd; oy++) {
        int y0 = oy * S - padH;
        int kyStart = y0 < 0 ? -y0 : 0, kyEnd = h - y0 < kh ? h - y0 : kh;
        // Kernel row ky's first pixel at x + rows + ky · rowFloats (an offset: it may lie before x,
        // in the padding; no pointer is formed there, only taps inside the image are read).
        ptrdiff_t rows = (ptrdiff_t)(y0 - firstInputRow) * rowFloats;
        float *restrict outRow = y + (size_t)(oy - firstOutputRow) * ow * c;
        // A block of pixels at a time, all its channels: the input pixels it reads (a few KB) stay
        // in L1 while each vector of channels passes over them.
        for (int ox = 0; ox < ow; ox += XB) {
            int x0 = ox * S - padW, count = ow - ox < XB ? ow - ox : XB;
            int inside = x0 >= 0 && x0 + (XB - 1) * S + KW <= w;
            for (int c0 = 0; c0 < c; c0 += 16) {
                int wide = c0 + 16 <= c;
                float *out = outRow + (size_t)ox * c + c0;
                const float *tap = weights + c0, *b = bias + c0;
                if (wide && inside) depthwiseBlock16(x, rows + c0, rowFloats, c, kyStart, kyEnd, x0, w, tap, b, KW, S, XB, 0, activation, out, count);
                else if (wide) depthwiseBlock16(x, rows + c0, rowFloats, c, kyStart, kyEnd, x0, w, tap, b, KW, S, XB, 1, activation, out, count);
                else if (inside) depthwiseBlock8(x, rows + c0, rowFloats, c, kyStart, kyEnd, x0, w, tap, b, KW, S, XB, 0, activation, out, count);
                else depthwiseBlock8(x, rows + c0, rowFloats, c, kyStart, kyEnd, x0, w, tap, b, KW, S, XB, 1, activation, out, count);
            }
        }
    }
}

__attribute__((always_inline))
static inline void depthwiseRowsBody(const float *restrict x, int firstInputRow, int h, int w, int c,
                                     const float *restrict weights, int kh, int kw, int stride, int padH, int padW,
                                     const float *restrict bias, float *restrict y, int firstOutputRow, int ow,
                                     int rowStart, int rowEnd, int activation, int instructions) {
    // The kernels of the inverted-residual encoders (3×3 and 5×5, stride 1 and 2, channel counts a
    // multiple of 8): blocks of pixels in registers, 8 with AVX-512's 32 registers, else 4.
    if (c % 8 == 0 && (kw == 3 || kw == 5) && (stride == 1 || stride == 2)) {
        int xb = instructions == VC_AVX512 ? 8 : 4;
#define VC_DEPTHWISE_CASE(KW, S, XB)                                                                   \
    depthwiseBlockedRows(x, firstInputRow, h, w, c, weights, kh, KW, S, padH, padW, bias, y, firstOutputRow, ow, \
                         rowStart, rowEnd, activation, XB)
        if (xb == 8) {
            if (kw == 3 && stride == 1) VC_DEPTHWISE_CASE(3, 1, 8);
            else if (kw == 3) VC_DEPTHWISE_CASE(3, 2, 8);
            else if (stride == 1) VC_DEPTHWISE_CASE(5, 1, 8);
            else VC_DEPTHWISE_CASE(5, 2, 8);
        } else {
            if (kw == 3 && stride == 1) VC_DEPTHWISE_CASE(3, 1, 4);
            else if (kw == 3) VC_DEPTHWISE_CASE(3, 2, 4);
            else if (stride == 1) VC_DEPTHWISE_CASE(5, 1, 4);
            else VC_DEPTHWISE_CASE(5, 2, 4);
        }
#undef VC_DEPTHWISE_CASE
        return;
    }
    for (int oy = rowStart; oy < rowEnd; oy++) {
        int y0 = oy * stride - padH;
        int kyStart = y0 < 0 ? -y0 : 0, kyEnd = h - y0 < kh ? h - y0 : kh;
        int ox = 0;
        while (ox < ow) {
            int x0 = ox * stride - padW;
            float *restrict out = y + ((size_t)(oy - firstOutputRow) * ow + ox) * c;
            // The window's first tap as an offset from x: it may lie in the padding, before x (no
            // pointer is formed there; only taps inside the image are read).
            ptrdiff_t base = ((ptrdiff_t)(y0 - firstInputRow) * w + x0) * c;
            int c0 = 0;
            if (ox + 4 <= ow && x0 >= 0 && x0 + 3 * stride + kw <= w) {
                // Four pixels whose windows are inside the row.
                size_t step = (size_t)stride * c;
                for (; c0 + 32 <= c; c0 += 32) VC_DEPTHWISE_CHANNELS4(32);
                if (c0 + 16 <= c) { VC_DEPTHWISE_CHANNELS4(16); c0 += 16; }
                if (c0 + 8 <= c) { VC_DEPTHWISE_CHANNELS4(8); c0 += 8; }
                for (; c0 < c; c0++) VC_DEPTHWISE_CHANNELS4(1);
                ox += 4;
                continue;
            }
            int kxStart = x0 < 0 ? -x0 : 0, kxEnd = w - x0 < kw ? w - x0 : kw;
            for (; c0 + 32 <= c; c0 += 32) VC_DEPTHWISE_CHANNELS(32);
            if (c0 + 16 <= c) { VC_DEPTHWISE_CHANNELS(16); c0 += 16; }
            if (c0 + 8 <= c) { VC_DEPTHWISE_CHANNELS(8); c0 += 8; }
            for (; c0 < c; c0++) VC_DEPTHWISE_CHANNELS(1);
            ox += 1;
        }
        vcActivate(y + (size_t)(oy - firstOutputRow) * ow * c, (size_t)ow * c, activation);  // the row, while in cache
    }
}

VC_MULTIVERSION_ISA(depthwiseRows, (const float *x, int firstInputRow, int h, int w, int c, const float *weights, int kh,
                                    int kw, int stride, int padH, int padW, const float *bias, float *y,
                                    int firstOutputRow, int ow, int rowStart, int rowEnd, int activation),
                    (x, firstInputRow, h, w, c, weights, kh, kw, stride, padH, padW, bias, y, firstOutputRow, ow,
                     rowStart, rowEnd, activation))

void vc_depthwise_nhwc(const float *x, int firstInputRow, int h, int w, int c, const float *weights, int kh, int kw,
                       int stride, int padH, int padW, const float *bias, float *y, int firstOutputRow, int ow,
                       int rowStart, int rowEnd, int activation) {
    depthwiseRows(x, firstInputRow, h, w, c, weights, kh, kw, stride, padH, padW, bias, y, firstOutputRow, ow, rowStart,
                  rowEnd, activation);
}

// The sums of NV 16-channel vectors from channel c0 on over all pixels, kept in registers
// (UNROLL pixels at a time into separate sums, so that the additions do not wait for each other),
// stored × inverse.
#define VC_CHANNEL_MEANS(NV, UNROLL)                                                                   \
    do {                                                                                               \
        vc16 sums[UNROLL][NV];                                                                         \
        _Pragma("clang loop unroll(full)") for (int u = 0; u < UNROLL; u++) {                          \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) sums[u][v] = (vc16){0};    \
        }                                                                                              \
        int p = 0;                                                                                     \
        for (; p + UNROLL <= pixels; p += UNROLL) {                                                    \
            _Pragma("clang loop unroll(full)") for (int u = 0; u < UNROLL; u++) {                      \
                const float *restrict in = x + (size_t)(p + u) * c + c0;                               \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) sums[u][v] += *(const vc16 *)(in + 16 * v); \
            }                                                                                          \
        }                                                                                              \
        for (; p < pixels; p++) {                                                                      \
            const float *restrict in = x + (size_t)p * c + c0;                                         \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) sums[0][v] += *(const vc16 *)(in + 16 * v); \
        }                                                                                              \
        _Pragma("clang loop unroll(full)") for (int v = 0; v < NV; v++) {                              \
            vc16 total = sums[0][v];                                                                   \
            _Pragma("clang loop unroll(full)") for (int u = 1; u < UNROLL; u++) total += sums[u][v];   \
            *(vc16 *)(means + c0 + 16 * v) = total * inverse;                                          \
        }                                                                                              \
        c0 += 16 * NV;                                                                                 \
    } while (0)

// Channel means of channels-last pixels: eight vectors (128 channels) at a time summed in registers
// over all the pixels, the last vectors with as many pixels at once as keep four sums in flight, then
// eight channels, and a last 1–7 one at a time.
__attribute__((always_inline))
static inline void channelMeansBody(const float *restrict x, int pixels, int c, float *restrict means) {
    float inverse = 1.0f / (float)pixels;
    int c0 = 0;
    while (c0 + 128 <= c) VC_CHANNEL_MEANS(8, 1);
    switch ((c - c0) / 16) {
    case 7: VC_CHANNEL_MEANS(7, 1); break;
    case 6: VC_CHANNEL_MEANS(6, 1); break;
    case 5: VC_CHANNEL_MEANS(5, 1); break;
    case 4: VC_CHANNEL_MEANS(4, 1); break;
    case 3: VC_CHANNEL_MEANS(3, 2); break;
    case 2: VC_CHANNEL_MEANS(2, 2); break;
    case 1: VC_CHANNEL_MEANS(1, 4); break;
    default: break;
    }
    if (c0 + 8 <= c) {
        vc8 sums[4] = {{0}, {0}, {0}, {0}};
        int p = 0;
        for (; p + 4 <= pixels; p += 4) {
            _Pragma("clang loop unroll(full)") for (int u = 0; u < 4; u++) sums[u] += *(const vc8 *)(x + (size_t)(p + u) * c + c0);
        }
        for (; p < pixels; p++) sums[0] += *(const vc8 *)(x + (size_t)p * c + c0);
        *(vc8 *)(means + c0) = ((sums[0] + sums[1]) + (sums[2] + sums[3])) * inverse;
        c0 += 8;
    }
    for (; c0 < c; c0++) {
        float sum = 0;
        for (int p = 0; p < pixels; p++) sum += x[(size_t)p * c + c0];
        means[c0] = sum * inverse;
    }
}

VC_MULTIVERSION(channelMeans, (const float *x, int pixels, int c, float *means), (x, pixels, c, means))

void vc_channel_means_nhwc(const float *x, int pixels, int c, float *means) { channelMeans(x, pixels, c, means); }

// Frames taken through the squeeze-and-excitation's two small layers together (a product of up
// to eight rows), so that each weight is read once for all of them.
enum { SQUEEZE_FRAMES = 8 };

// The gates of up to eight frames: their channel means, then the two small layers as products of
// the frames' rows with the packed weights (the pointwise kernel's register tiles; each weight read
// once for all the frames). scale [frames][c]; scratch holds the means and the hidden layer.
__attribute__((always_inline))
static inline void squeezeGatesBody(const float *restrict x, int frames, int pixels, int c, const float *restrict w1,
                                    const float *restrict b1, int s, const float *restrict w2, const float *restrict b2,
                                    int activation, int gate, float *restrict scale, float *restrict scratch) {
    float *restrict means = scratch, *restrict hidden = scratch + (size_t)frames * c;
    for (int f = 0; f < frames; f++) channelMeansBody(x + (size_t)f * pixels * c, pixels, c, means + (size_t)f * c);
    vcPointwise(frames, s, c, 1, 0, means, c, w1, b1, 0, 0, activation, hidden, s);
    vcPointwise(frames, c, s, 1, 0, hidden, s, w2, b2, 0, 0, gate, scale, c);
}

__attribute__((always_inline))
static inline void squeezeNHWCBody(const float *restrict x, float *restrict y, int images, int pixels, int c,
                                   const float *restrict w1, const float *restrict b1, int s, const float *restrict w2,
                                   const float *restrict b2, int activation, int gate, float *restrict scratch) {
    for (int f0 = 0; f0 < images; f0 += SQUEEZE_FRAMES) {
        int frames = images - f0 < SQUEEZE_FRAMES ? images - f0 : SQUEEZE_FRAMES;
        const float *restrict in0 = x + (size_t)f0 * pixels * c;
        float *restrict out0 = y + (size_t)f0 * pixels * c;
        float *restrict scale = scratch + (size_t)frames * (c + s);
        squeezeGatesBody(in0, frames, pixels, c, w1, b1, s, w2, b2, activation, gate, scale, scratch);
        for (int f = 0; f < frames; f++) {
            const float *restrict sc = scale + (size_t)f * c;
            for (int p = 0; p < pixels; p++) {
                const float *restrict in = in0 + ((size_t)f * pixels + p) * c;
                float *restrict out = out0 + ((size_t)f * pixels + p) * c;
                for (int ch = 0; ch < c; ch++) out[ch] = in[ch] * sc[ch];
            }
        }
    }
}

VC_MULTIVERSION(squeezeNHWC, (const float *x, float *y, int images, int pixels, int c, const float *w1, const float *b1,
                              int s, const float *w2, const float *b2, int activation, int gate, float *scratch),
                (x, y, images, pixels, c, w1, b1, s, w2, b2, activation, gate, scratch))

__attribute__((always_inline))
static inline void squeezeGatesNHWCBody(const float *restrict x, int images, int pixels, int c, const float *restrict w1,
                                        const float *restrict b1, int s, const float *restrict w2,
                                        const float *restrict b2, int activation, int gate, float *restrict gates,
                                        float *restrict scratch) {
    for (int f0 = 0; f0 < images; f0 += SQUEEZE_FRAMES) {
        int frames = images - f0 < SQUEEZE_FRAMES ? images - f0 : SQUEEZE_FRAMES;
        squeezeGatesBody(x + (size_t)f0 * pixels * c, frames, pixels, c, w1, b1, s, w2, b2, activation, gate,
                         gates + (size_t)f0 * c, scratch);
    }
}

VC_MULTIVERSION(squeezeGatesNHWC, (const float *x, int images, int pixels, int c, const float *w1, const float *b1,
                                   int s, const float *w2, const float *b2, int activation, int gate, float *gates,
                                   float *scratch),
                (x, images, pixels, c, w1, b1, s, w2, b2, activation, gate, gates, scratch))

void vc_squeeze_gates_nhwc(const float *x, int images, int pixels, int c, const float *w1, const float *b1, int s,
                           const float *w2, const float *b2, int activation, int gate, float *gates, float *scratch) {
    squeezeGatesNHWC(x, images, pixels, c, w1, b1, s, w2, b2, activation, gate, gates, scratch);
}

size_t vc_squeeze_excite_scratch_count(int images, int c, int s) {
    int frames = images < SQUEEZE_FRAMES ? images : SQUEEZE_FRAMES;
    return (size_t)(frames > 0 ? frames : 0) * (size_t)(2 * c + s);
}

void vc_squeeze_excite_nhwc(const float *x, float *y, int images, int pixels, int c, const float *w1, const float *b1,
                            int s, const float *w2, const float *b2, int activation, int gate, float *scratch) {
    squeezeNHWC(x, y, images, pixels, c, w1, b1, s, w2, b2, activation, gate, scratch);
}
