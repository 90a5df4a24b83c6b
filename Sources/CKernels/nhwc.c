// Channels-last (NHWC) kernels for the inverted-residual encoders' inference (see
// include/CKernels.h): with channels innermost, a depthwise convolution is a multiply-add of
// whole channel vectors per tap, and a 1×1 convolution is one GEMM over all pixels of all frames.

#include "CKernels.h"
#include "kernels.h"

__attribute__((always_inline))
static inline void depthwiseRowsBody(const float *restrict x, int h, int w, int c, const float *restrict weights, int kh,
                                     int kw, int stride, int padH, int padW, const float *restrict bias,
                                     float *restrict y, int ow, int rowStart, int rowEnd) {
    enum { BLOCK = 32 };
    for (int oy = rowStart; oy < rowEnd; oy++) {
        int y0 = oy * stride - padH;
        int kyStart = y0 < 0 ? -y0 : 0, kyEnd = h - y0 < kh ? h - y0 : kh;
        for (int ox = 0; ox < ow; ox++) {
            int x0 = ox * stride - padW;
            int kxStart = x0 < 0 ? -x0 : 0, kxEnd = w - x0 < kw ? w - x0 : kw;
            float *restrict out = y + ((size_t)oy * ow + ox) * c;
            const float *base = x + ((size_t)y0 * w + x0) * c;
            int c0 = 0;
            // BLOCK channels at a time stay in registers across all taps.
            for (; c0 + BLOCK <= c; c0 += BLOCK) {
                float acc[BLOCK];
                for (int j = 0; j < BLOCK; j++) acc[j] = bias[c0 + j];
                for (int ky = kyStart; ky < kyEnd; ky++) {
                    for (int kx = kxStart; kx < kxEnd; kx++) {
                        const float *restrict in = base + ((size_t)ky * w + kx) * c + c0;
                        const float *restrict tap = weights + (size_t)(ky * kw + kx) * c + c0;
                        for (int j = 0; j < BLOCK; j++) acc[j] += tap[j] * in[j];
                    }
                }
                for (int j = 0; j < BLOCK; j++) out[c0 + j] = acc[j];
            }
            if (c0 < c) {
                for (int ch = c0; ch < c; ch++) out[ch] = bias[ch];
                for (int ky = kyStart; ky < kyEnd; ky++) {
                    for (int kx = kxStart; kx < kxEnd; kx++) {
                        const float *restrict in = base + ((size_t)ky * w + kx) * c;
                        const float *restrict tap = weights + (size_t)(ky * kw + kx) * c;
                        for (int ch = c0; ch < c; ch++) out[ch] += tap[ch] * in[ch];
                    }
                }
            }
        }
    }
}

VC_MULTIVERSION(depthwiseRows, (const float *x, int h, int w, int c, const float *weights, int kh, int kw, int stride,
                                int padH, int padW, const float *bias, float *y, int ow, int rowStart, int rowEnd),
                (x, h, w, c, weights, kh, kw, stride, padH, padW, bias, y, ow, rowStart, rowEnd))

void vc_depthwise_nhwc(const float *x, int h, int w, int c, const float *weights, int kh, int kw, int stride, int padH,
                       int padW, const float *bias, float *y, int ow, int rowStart, int rowEnd) {
    depthwiseRows(x, h, w, c, weights, kh, kw, stride, padH, padW, bias, y, ow, rowStart, rowEnd);
}

__attribute__((always_inline))
static inline void rowsEpilogueBody(float *restrict y, int rows, int columns, const float *restrict bias,
                                    const float *restrict residual, int activation) {
    for (int r = 0; r < rows; r++) {
        float *restrict row = y + (size_t)r * columns;
        for (int j = 0; j < columns; j++) row[j] += bias[j];
        if (residual) {
            const float *restrict add = residual + (size_t)r * columns;
            for (int j = 0; j < columns; j++) row[j] += add[j];
        }
        vcActivate(row, (size_t)columns, activation);
    }
}

VC_MULTIVERSION(rowsEpilogue, (float *y, int rows, int columns, const float *bias, const float *residual, int activation),
                (y, rows, columns, bias, residual, activation))

void vc_rows_epilogue(float *y, int rows, int columns, const float *bias, const float *residual, int activation) {
    rowsEpilogue(y, rows, columns, bias, residual, activation);
}

__attribute__((always_inline))
static inline void channelMeansBody(const float *restrict x, int pixels, int c, float *restrict means) {
    for (int ch = 0; ch < c; ch++) means[ch] = 0;
    for (int p = 0; p < pixels; p++) {
        const float *restrict in = x + (size_t)p * c;
        for (int ch = 0; ch < c; ch++) means[ch] += in[ch];
    }
    float inverse = 1.0f / (float)pixels;
    for (int ch = 0; ch < c; ch++) means[ch] *= inverse;
}

VC_MULTIVERSION(channelMeans, (const float *x, int pixels, int c, float *means), (x, pixels, c, means))

void vc_channel_means_nhwc(const float *x, int pixels, int c, float *means) { channelMeans(x, pixels, c, means); }

__attribute__((always_inline))
static inline void squeezeNHWCBody(const float *restrict x, float *restrict y, int pixels, int c,
                                   const float *restrict w1t, const float *restrict b1, int s, const float *restrict w2t,
                                   const float *restrict b2, int activation, int gate, float *restrict scratch) {
    float *restrict means = scratch, *restrict hidden = scratch + c, *restrict scale = scratch + c + s;
    channelMeansBody(x, pixels, c, means);
    // Weights transposed (w1t [c][s], w2t [s][c]): sums of whole vectors, which vectorize
    // (a dot product's reduction would not, without reassociating).
    for (int i = 0; i < s; i++) hidden[i] = b1[i];
    for (int ch = 0; ch < c; ch++) {
        const float *restrict row = w1t + (size_t)ch * s;
        float m = means[ch];
        for (int i = 0; i < s; i++) hidden[i] += row[i] * m;
    }
    vcActivate(hidden, (size_t)s, activation);
    for (int ch = 0; ch < c; ch++) scale[ch] = b2[ch];
    for (int i = 0; i < s; i++) {
        const float *restrict row = w2t + (size_t)i * c;
        float v = hidden[i];
        for (int ch = 0; ch < c; ch++) scale[ch] += row[ch] * v;
    }
    vcActivate(scale, (size_t)c, gate);
    for (int p = 0; p < pixels; p++) {
        const float *restrict in = x + (size_t)p * c;
        float *restrict out = y + (size_t)p * c;
        for (int ch = 0; ch < c; ch++) out[ch] = in[ch] * scale[ch];
    }
}

VC_MULTIVERSION(squeezeNHWC, (const float *x, float *y, int pixels, int c, const float *w1t, const float *b1, int s,
                              const float *w2t, const float *b2, int activation, int gate, float *scratch),
                (x, y, pixels, c, w1t, b1, s, w2t, b2, activation, gate, scratch))

void vc_squeeze_excite_nhwc(const float *x, float *y, int pixels, int c, const float *w1t, const float *b1, int s,
                            const float *w2t, const float *b2, int activation, int gate, float *scratch) {
    squeezeNHWC(x, y, pixels, c, w1t, b1, s, w2t, b2, activation, gate, scratch);
}

void vc_nchw_to_nhwc(const float *x, int c, int pixels, float *y) {
    for (int ch = 0; ch < c; ch++) {
        const float *in = x + (size_t)ch * pixels;
        for (int p = 0; p < pixels; p++) y[(size_t)p * c + ch] = in[p];
    }
}
