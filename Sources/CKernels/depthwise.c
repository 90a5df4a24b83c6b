// Depthwise convolution of one channel plane (see include/CKernels.h). The plane is copied,
// zero-padded, into scratch (for stride 2, split into its four even/odd row and column phases, so
// that every tap reads a stride-1 run); each tap is then one multiply-add over the whole flattened
// plane, whose padding columns are computed too and dropped. The loops are plain C, vectorized by
// the compiler once per instruction set: AVX-512, AVX2 + FMA, or the baseline, chosen at run time.

#include "CKernels.h"
#include "kernels.h"

#include <stddef.h>
#include <string.h>

typedef struct {
    int hq, wq, phases, phaseSize, accCount;
} Layout;

static Layout layout(int h, int w, int stride, int padH, int padW, int oh) {
    Layout l;
    int hp = h + 2 * padH, wp = w + 2 * padW;
    l.hq = (hp + stride - 1) / stride;
    l.wq = (wp + stride - 1) / stride;
    l.phases = stride * stride;
    l.phaseSize = (l.hq + 1) * l.wq;  // one more row: the last taps run past the plane
    l.accCount = oh * l.wq;
    return l;
}

size_t vc_depthwise_scratch_count(int h, int w, int stride, int padH, int padW, int oh) {
    Layout l = layout(h, w, stride, padH, padW, oh);
    return (size_t)l.phases * l.phaseSize + l.accCount + 16;
}

void vc_depthwise_clear_scratch(float *scratch, int h, int w, int stride, int padH, int padW, int oh) {
    Layout l = layout(h, w, stride, padH, padW, oh);
    memset(scratch, 0, sizeof(float) * (size_t)l.phases * l.phaseSize);
}

__attribute__((always_inline))
static inline void planeBody(const float *restrict src, int h, int w, const float *restrict filter, int kh, int kw,
                         int stride, int padH, int padW, float bias, const float *restrict residual,
                         float *restrict dst, int oh, int ow, int activation, float *restrict scratch) {
    Layout l = layout(h, w, stride, padH, padW, oh);
    // The border of the phases stays zero: only the plane's own positions are written.
    for (int iy = 0; iy < h; iy++) {
        int y = iy + padH;
        const float *row = src + (size_t)iy * w;
        if (stride == 1) {
            memcpy(scratch + (size_t)y * l.wq + padW, row, sizeof(float) * w);
        } else {
            float *even = scratch + (size_t)((y & 1) * 2) * l.phaseSize + (size_t)(y >> 1) * l.wq;
            float *odd = even + l.phaseSize;
            for (int ix = 0; ix < w; ix++) {
                int x = ix + padW;
                ((x & 1) ? odd : even)[x >> 1] = row[ix];
            }
        }
    }
    float *restrict acc = scratch + (size_t)l.phases * l.phaseSize;
    int n = l.accCount, taps = kh * kw;
    const float *tapStart[64];
    const float **starts = tapStart;
    const float *manyStarts[taps > 64 ? taps : 1];
    if (taps > 64) starts = manyStarts;
    for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++) {
            starts[ky * kw + kx] = stride == 1
                ? scratch + (size_t)ky * l.wq + kx
                : scratch + (size_t)((ky & 1) * 2 + (kx & 1)) * l.phaseSize + (size_t)(ky >> 1) * l.wq + (kx >> 1);
        }
    }
    // Blocks of BLOCK outputs stay in registers across all taps; each tap adds one load per vector.
    enum { BLOCK = 32 };
    int i0 = 0;
    for (; i0 + BLOCK <= n; i0 += BLOCK) {
        float block[BLOCK];
        for (int j = 0; j < BLOCK; j++) block[j] = bias;
        for (int t = 0; t < taps; t++) {
            const float *restrict x = starts[t] + i0;
            float a = filter[t];
            for (int j = 0; j < BLOCK; j++) block[j] += a * x[j];
        }
        for (int j = 0; j < BLOCK; j++) acc[i0 + j] = block[j];
    }
    for (int i = i0; i < n; i++) acc[i] = bias;
    for (int t = 0; t < taps; t++) {
        const float *restrict x = starts[t];
        float a = filter[t];
        for (int i = i0; i < n; i++) acc[i] += a * x[i];
    }
    for (int oy = 0; oy < oh; oy++) {
        float *restrict out = dst + (size_t)oy * ow;
        const float *restrict in = acc + (size_t)oy * l.wq;
        if (residual) {
            const float *restrict r = residual + (size_t)oy * ow;
            for (int i = 0; i < ow; i++) out[i] = in[i] + r[i];
        } else {
            memcpy(out, in, sizeof(float) * ow);
        }
    }
}

VC_MULTIVERSION(plane, (const float *src, int h, int w, const float *filter, int kh, int kw, int stride, int padH,
                        int padW, float bias, const float *residual, float *dst, int oh, int ow, int activation,
                        float *scratch),
                (src, h, w, filter, kh, kw, stride, padH, padW, bias, residual, dst, oh, ow, activation, scratch))

void vc_depthwise_plane(const float *src, int h, int w, const float *filter, int kh, int kw, int stride, int padH,
                        int padW, float bias, const float *residual, float *dst, int oh, int ow, int activation,
                        float *scratch) {
    plane(src, h, w, filter, kh, kw, stride, padH, padW, bias, residual, dst, oh, ow, activation, scratch);
}
