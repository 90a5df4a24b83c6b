// The training passes of BatchNorm2d (NeuralNetwork's BatchNorm2d.swift and the batch norm + max
// pooling step Sequential runs in training): the normalization applied and a 2×2 max pooling taken
// in one pass over the plane, and the backward passes, which recompute x̂ = (x − mean) · invStd
// from the layer's input instead of reading a stored copy.
//
// No floating-point contraction: the forward pass must give the bits BatchNorm2d's own loop gives
// ((x − mean) · invStd, then · gamma + beta, each rounded), so that the fused step and the layers
// run one after the other agree exactly.

#pragma STDC FP_CONTRACT OFF

#include "CKernels.h"
#include "kernels.h"

typedef int vc8i __attribute__((vector_size(32), aligned(4)));
typedef unsigned char vc8u8 __attribute__((vector_size(8), aligned(1)));

// Floats 0, 2, … 14 (even) and 1, 3, … 15 (odd) of a vector of 16.
__attribute__((always_inline)) static inline vc8 vcEven16(vc16 v) {
    return __builtin_shufflevector(v, v, 0, 2, 4, 6, 8, 10, 12, 14);
}
__attribute__((always_inline)) static inline vc8 vcOdd16(vc16 v) {
    return __builtin_shufflevector(v, v, 1, 3, 5, 7, 9, 11, 13, 15);
}
// even[0], odd[0], even[1], odd[1], …
__attribute__((always_inline)) static inline vc16 vcInterleave8(vc8 even, vc8 odd) {
    return __builtin_shufflevector(even, odd, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
}

static inline float maxf(float a, float b) { return a > b ? a : b; }

// Where a mask (all bits set or none) is set, `yes`; elsewhere `no`.
__attribute__((always_inline)) static inline vc8 vcSelect8(vc8i mask, vc8 yes, vc8 no) {
    return (vc8)(((vc8i)yes & mask) | ((vc8i)no & ~mask));
}

__attribute__((always_inline)) static inline void batchNormMaxPool2Body(const float *restrict x, int h, int w,
                                                                         float mean, float invStd, float gamma,
                                                                         float beta, float *restrict out,
                                                                         int relu, unsigned char *restrict codes,
                                                                         float *restrict centered) {
    int oh = h / 2, ow = w / 2;
    for (int oy = 0; oy < oh; oy++) {
        const float *r0 = x + (size_t)(2 * oy) * w, *r1 = r0 + w;
        size_t at = (size_t)oy * ow;
        float *o = out + at, *e = centered + at;
        unsigned char *k = codes + at;
        int ox = 0;
        for (; ox + 8 <= ow; ox += 8) {
            vc16 top = *(const vc16 *)(r0 + 2 * ox) - mean, bottom = *(const vc16 *)(r1 + 2 * ox) - mean;
            vc16 yTop = top * invStd, yBottom = bottom * invStd;
            yTop = yTop * gamma;
            yBottom = yBottom * gamma;
            yTop = yTop + beta;
            yBottom = yBottom + beta;
            vc8 a = vcEven16(yTop), b = vcOdd16(yTop), c = vcEven16(yBottom), d = vcOdd16(yBottom);
            vc8 m = __builtin_elementwise_max(__builtin_elementwise_max(a, b), __builtin_elementwise_max(c, d));
            vc8i isA = a == m, isB = b == m, isC = c == m;
            // The first maximum in the order a, b, c, d (PyTorch's scan order).
            vc8i code = (((vc8i){} + 3) & ~isC) | (2 & isC);
            code = (code & ~isB) | (1 & isB);
            code = code & ~isA;
            vc8 chosen = vcSelect8(isC, vcEven16(bottom), vcOdd16(bottom));
            chosen = vcSelect8(isB, vcOdd16(top), chosen);
            chosen = vcSelect8(isA, vcEven16(top), chosen);
            if (relu) {
                // max(m, 0), and no gradient (code 4) through a window whose maximum is not positive.
                vc8i positive = m > 0;
                m = (vc8)((vc8i)m & positive);
                code = (code & positive) | (4 & ~positive);
                chosen = (vc8)((vc8i)chosen & positive);
            }
            *(vc8 *)(o + ox) = m;
            *(vc8 *)(e + ox) = chosen;
            *(vc8u8 *)(k + ox) = __builtin_convertvector(code, vc8u8);
        }
        for (; ox < ow; ox++) {
            float v[4] = {r0[2 * ox] - mean, r0[2 * ox + 1] - mean, r1[2 * ox] - mean, r1[2 * ox + 1] - mean};
            float y[4];
            for (int p = 0; p < 4; p++) {
                y[p] = v[p] * invStd;
                y[p] = y[p] * gamma;
                y[p] = y[p] + beta;
            }
            float m = maxf(maxf(y[0], y[1]), maxf(y[2], y[3]));
            int p = y[0] == m ? 0 : y[1] == m ? 1 : y[2] == m ? 2 : 3;
            if (relu && !(m > 0)) {
                o[ox] = 0;
                e[ox] = 0;
                k[ox] = 4;
            } else {
                o[ox] = m;
                e[ox] = v[p];
                k[ox] = (unsigned char)p;
            }
        }
    }
}

VC_MULTIVERSION(batchNormMaxPool2,
                (const float *x, int h, int w, float mean, float invStd, float gamma, float beta, float *out,
                 int relu, unsigned char *codes, float *centered),
                (x, h, w, mean, invStd, gamma, beta, out, relu, codes, centered))

void vc_batch_norm_max_pool2(const float *x, int h, int w, float mean, float invStd, float gamma, float beta,
                             float *out, int relu, unsigned char *codes, float *centered) {
    batchNormMaxPool2(x, h, w, mean, invStd, gamma, beta, out, relu, codes, centered);
}

// The offset of code k's position in a 2×2 window, rows w apart.
static inline size_t windowOffset(unsigned char k, int w) { return (size_t)(k >> 1) * w + (k & 1); }

__attribute__((always_inline)) static inline void batchNormMaxPool2BackwardBody(
    const float *restrict x, int h, int w, float mean, float a, float b, float c, const float *restrict g,
    const unsigned char *restrict codes, float *restrict dx) {
    int oh = h / 2, ow = w / 2;
    for (int oy = 0; oy < oh; oy++) {
        const float *r0 = x + (size_t)(2 * oy) * w, *r1 = r0 + w;
        float *d0 = dx + (size_t)(2 * oy) * w, *d1 = d0 + w;
        const float *gr = g + (size_t)oy * ow;
        const unsigned char *k = codes + (size_t)oy * ow;
        int ox = 0;
        for (; ox + 8 <= ow; ox += 8) {
            vc8i code = __builtin_convertvector(*(const vc8u8 *)(k + ox), vc8i);
            vc8i gv = *(const vc8i *)(gr + ox);
            vc16 dyTop = vcInterleave8((vc8)(gv & (code == 0)), (vc8)(gv & (code == 1)));
            vc16 dyBottom = vcInterleave8((vc8)(gv & (code == 2)), (vc8)(gv & (code == 3)));
            vc16 top = *(const vc16 *)(r0 + 2 * ox), bottom = *(const vc16 *)(r1 + 2 * ox);
            *(vc16 *)(d0 + 2 * ox) = a * dyTop + b + c * (top - mean);
            *(vc16 *)(d1 + 2 * ox) = a * dyBottom + b + c * (bottom - mean);
        }
        for (; ox < ow; ox++) {
            for (int p = 0; p < 4; p++) {
                size_t at = 2 * (size_t)ox + windowOffset((unsigned char)p, w);
                float dy = k[ox] == p ? gr[ox] : 0;
                d0[at] = a * dy + b + c * (r0[at] - mean);
            }
        }
        // A column no window covers (odd width): no gradient from the pooling.
        for (int col = 2 * ow; col < w; col++) {
            d0[col] = b + c * (r0[col] - mean);
            d1[col] = b + c * (r1[col] - mean);
        }
    }
    // A row no window covers (odd height).
    for (int row = 2 * oh; row < h; row++) {
        for (int col = 0; col < w; col++) dx[(size_t)row * w + col] = b + c * (x[(size_t)row * w + col] - mean);
    }
}

VC_MULTIVERSION(batchNormMaxPool2Backward,
                (const float *x, int h, int w, float mean, float a, float b, float c, const float *g,
                 const unsigned char *codes, float *dx),
                (x, h, w, mean, a, b, c, g, codes, dx))

void vc_batch_norm_max_pool2_backward(const float *x, int h, int w, float mean, float a, float b, float c,
                                      const float *g, const unsigned char *codes, float *dx) {
    batchNormMaxPool2Backward(x, h, w, mean, a, b, c, g, codes, dx);
}

__attribute__((always_inline)) static inline void batchNormSumsBody(const float *restrict dy,
                                                                     const float *restrict x,
                                                                     const unsigned char *restrict codes, size_t n,
                                                                     float mean, float *restrict sums) {
    typedef unsigned char vc16u8 __attribute__((vector_size(16), aligned(1)));
    vc16 s1 = {}, s2 = {};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        vc16 d = *(const vc16 *)(dy + i);
        if (codes) d = (vc16)((vc16i)d & (__builtin_convertvector(*(const vc16u8 *)(codes + i), vc16i) < 4));
        s1 += d;
        s2 += d * (*(const vc16 *)(x + i) - mean);
    }
    float t1 = 0, t2 = 0;
    for (; i < n; i++) {
        float d = codes && codes[i] >= 4 ? 0 : dy[i];
        t1 += d;
        t2 += d * (x[i] - mean);
    }
    for (int j = 0; j < 16; j++) {
        t1 += s1[j];
        t2 += s2[j];
    }
    sums[0] = t1;
    sums[1] = t2;
}

VC_MULTIVERSION(batchNormSums,
                (const float *dy, const float *x, const unsigned char *codes, size_t n, float mean, float *sums),
                (dy, x, codes, n, mean, sums))

void vc_batch_norm_sums(const float *dy, const float *x, const unsigned char *codes, size_t n, float mean,
                        float sums[2]) {
    batchNormSums(dy, x, codes, n, mean, sums);
}

__attribute__((always_inline)) static inline void batchNormBackwardBody(const float *restrict dy,
                                                                         const float *restrict x, size_t n,
                                                                         float mean, float a, float b, float c,
                                                                         float *restrict dx) {
    for (size_t i = 0; i < n; i++) dx[i] = a * dy[i] + b + c * (x[i] - mean);
}

VC_MULTIVERSION(batchNormBackward,
                (const float *dy, const float *x, size_t n, float mean, float a, float b, float c, float *dx),
                (dy, x, n, mean, a, b, c, dx))

void vc_batch_norm_backward(const float *dy, const float *x, size_t n, float mean, float a, float b, float c,
                            float *dx) {
    batchNormBackward(dy, x, n, mean, a, b, c, dx);
}
