// Picture resampling for the decoder's output (see include/CKernels.h): a separable filter with
// precomputed taps, vertical first (on the 8-bit plane, so the horizontal pass runs only on the
// output's rows), then horizontal, then the YUV to RGB matrix. Plain C loops, vectorized by the
// compiler once per instruction set (AVX-512, AVX2 + FMA, baseline), chosen at run time.

#include "CKernels.h"
#include "kernels.h"

#include <stdint.h>
#include <string.h>

__attribute__((always_inline))
static inline void verticalBody(const unsigned char *src, ptrdiff_t srcStride, int width, const int *starts,
                                const float *weights, int taps, int rows, float *dst, ptrdiff_t dstStride) {
    // Blocks of BLOCK columns stay in registers across all taps; each tap adds one load per vector.
    enum { BLOCK = 64 };
    for (int r = 0; r < rows; r++) {
        float *restrict out = dst + (ptrdiff_t)r * dstStride;
        const float *w = weights + (ptrdiff_t)r * taps;
        const unsigned char *base = src + (ptrdiff_t)starts[r] * srcStride;
        int x0 = 0;
        for (; x0 + BLOCK <= width; x0 += BLOCK) {
            float block[BLOCK];
            for (int j = 0; j < BLOCK; j++) block[j] = 0;
            for (int k = 0; k < taps; k++) {
                const unsigned char *restrict row = base + (ptrdiff_t)k * srcStride + x0;
                float a = w[k];
                for (int j = 0; j < BLOCK; j++) block[j] += a * (float)row[j];
            }
            for (int j = 0; j < BLOCK; j++) out[x0 + j] = block[j];
        }
        for (int x = x0; x < width; x++) {
            float sum = 0;
            for (int k = 0; k < taps; k++) sum += w[k] * (float)base[(ptrdiff_t)k * srcStride + x];
            out[x] = sum;
        }
    }
}

VC_MULTIVERSION(vertical, (const unsigned char *src, ptrdiff_t srcStride, int width, const int *starts,
                           const float *weights, int taps, int rows, float *dst, ptrdiff_t dstStride),
                (src, srcStride, width, starts, weights, taps, rows, dst, dstStride))

void vc_resample_vertical_u8(const unsigned char *src, ptrdiff_t srcStride, int width, const int *starts,
                             const float *weights, int taps, int rows, float *dst, ptrdiff_t dstStride) {
    vertical(src, srcStride, width, starts, weights, taps, rows, dst, dstStride);
}

typedef float vcResample8 __attribute__((vector_size(32), aligned(4)));
typedef float vcResample4 __attribute__((vector_size(16), aligned(4)));

/// The sums of four vectors' lanes, as one vector.
__attribute__((always_inline))
static inline vcResample4 vcLaneSums4(vcResample8 a, vcResample8 b, vcResample8 c, vcResample8 d) {
    vcResample4 a4 = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
    vcResample4 b4 = __builtin_shufflevector(b, b, 0, 1, 2, 3) + __builtin_shufflevector(b, b, 4, 5, 6, 7);
    vcResample4 c4 = __builtin_shufflevector(c, c, 0, 1, 2, 3) + __builtin_shufflevector(c, c, 4, 5, 6, 7);
    vcResample4 d4 = __builtin_shufflevector(d, d, 0, 1, 2, 3) + __builtin_shufflevector(d, d, 4, 5, 6, 7);
    vcResample4 ab = __builtin_shufflevector(a4, b4, 0, 4, 1, 5) + __builtin_shufflevector(a4, b4, 2, 6, 3, 7);
    vcResample4 cd = __builtin_shufflevector(c4, d4, 0, 4, 1, 5) + __builtin_shufflevector(c4, d4, 2, 6, 3, 7);
    return __builtin_shufflevector(ab, cd, 0, 1, 4, 5) + __builtin_shufflevector(ab, cd, 2, 3, 6, 7);
}

__attribute__((always_inline))
static inline vcResample8 vcDot8(const float *s, const float *w, int taps) {
    vcResample8 sum = {0};
    for (int k = 0; k < taps; k += 8) {
        vcResample8 a, b;
        memcpy(&a, s + k, sizeof a);
        memcpy(&b, w + k, sizeof b);
        sum += a * b;
    }
    return sum;
}

__attribute__((always_inline))
static inline void horizontalBody(const float *src, ptrdiff_t srcStride, int rows, const int *starts,
                                  const float *weights, int taps, int outWidth, float *dst, ptrdiff_t dstStride) {
    for (int r = 0; r < rows; r++) {
        const float *row = src + (ptrdiff_t)r * srcStride;
        float *restrict out = dst + (ptrdiff_t)r * dstStride;
        int o = 0;
        // Four outputs at a time, their four sums reduced together.
        for (; o + 4 <= outWidth; o += 4) {
            const float *w = weights + (ptrdiff_t)o * taps;
            vcResample4 sums = vcLaneSums4(vcDot8(row + starts[o], w, taps),
                                           vcDot8(row + starts[o + 1], w + taps, taps),
                                           vcDot8(row + starts[o + 2], w + 2 * taps, taps),
                                           vcDot8(row + starts[o + 3], w + 3 * taps, taps));
            memcpy(out + o, &sums, sizeof sums);
        }
        for (; o < outWidth; o++) {
            vcResample8 zero = {0};
            out[o] = vcLaneSums4(vcDot8(row + starts[o], weights + (ptrdiff_t)o * taps, taps), zero, zero, zero)[0];
        }
    }
}

VC_MULTIVERSION(horizontal, (const float *src, ptrdiff_t srcStride, int rows, const int *starts,
                             const float *weights, int taps, int outWidth, float *dst, ptrdiff_t dstStride),
                (src, srcStride, rows, starts, weights, taps, outWidth, dst, dstStride))

void vc_resample_horizontal_f32(const float *src, ptrdiff_t srcStride, int rows, const int *starts,
                                const float *weights, int taps, int outWidth, float *dst, ptrdiff_t dstStride) {
    horizontal(src, srcStride, rows, starts, weights, taps, outWidth, dst, dstStride);
}

__attribute__((always_inline))
static inline float vcToByte(float v) {
    v = v < 0 ? 0 : (v > 255 ? 255 : v);
    return v + 0.5f;
}

__attribute__((always_inline))
static inline void yuvToRGBBody(const float *y, const float *u, const float *v, int count, const float *matrix,
                                unsigned char *rgb) {
    float yOffset = matrix[0], yScale = matrix[1], chromaOffset = matrix[2];
    float rv = matrix[3], gu = matrix[4], gv = matrix[5], bu = matrix[6];
    for (int i = 0; i < count; i++) {
        float l = (y[i] - yOffset) * yScale, cb = u[i] - chromaOffset, cr = v[i] - chromaOffset;
        rgb[3 * i + 0] = (unsigned char)(int)vcToByte(l + rv * cr);
        rgb[3 * i + 1] = (unsigned char)(int)vcToByte(l - gu * cb - gv * cr);
        rgb[3 * i + 2] = (unsigned char)(int)vcToByte(l + bu * cb);
    }
}

VC_MULTIVERSION(yuvToRGB, (const float *y, const float *u, const float *v, int count, const float *matrix,
                           unsigned char *rgb),
                (y, u, v, count, matrix, rgb))

void vc_yuv_to_rgb24(const float *y, const float *u, const float *v, int count, const float matrix[7],
                     unsigned char *rgb) {
    yuvToRGB(y, u, v, count, matrix, rgb);
}
