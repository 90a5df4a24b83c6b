// Channels-last (NHWC) convolutions with a full kernel (see include/CKernels.h), for the ResNets and
// lrcn-small:
//
// - vc_convolution_nhwc: any kernel and stride. The windows of a chunk of output pixels are
//   gathered (each window row is kw · c consecutive floats of the input, so a gather is kh copies)
//   into a block that stays in L2, then multiplied by the packed weights with the pointwise tile
//   kernel, bias, residual and activation finished in registers.
// - vc_winograd4_nhwc: 3×3, stride 1, padding 1, as Winograd F(4×4, 3×3) (Lavin & Gray 2016):
//   6×6 input tiles, 36 multiplies per 4×4 output tile and channel pair instead of 144. With
//   channels innermost both transforms work on whole channel vectors, and the 36 products are
//   pointwise GEMMs over a block of tiles.
// - vc_max_pool_nhwc: max pooling over channel vectors.

#include "CKernels.h"
#include "kernels.h"

#include <string.h>

// Output pixels whose windows are gathered at once: about 256 KB of windows, and at least 132 (for
// long windows, multiplied in blocks of k, the weights are then read about once per 132 pixels).
static int windowChunk(int windowFloats) {
    int rows = 65536 / (windowFloats > 0 ? windowFloats : 1) / 12 * 12;
    return rows < 132 ? 132 : rows;
}

size_t vc_convolution_nhwc_scratch_count(int c, int kh, int kw) {
    size_t windowFloats = (size_t)kh * kw * c;
    return (size_t)windowChunk((int)windowFloats) * windowFloats;
}

void vc_convolution_nhwc(const float *x, int h, int w, int c, int kh, int kw, int stride, int padH, int padW,
                         const float *packed, const uint16_t *packedBF16, const float *bias, const float *residual,
                         int activation, int n, float *y, int ow, int pixelStart, int pixelEnd, float *scratch) {
    int windowFloats = kh * kw * c, chunk = windowChunk(windowFloats);
    size_t rowFloats = (size_t)kw * c;
    for (int p0 = pixelStart; p0 < pixelEnd; p0 += chunk) {
        int p1 = p0 + chunk < pixelEnd ? p0 + chunk : pixelEnd;
        for (int p = p0; p < p1; p++) {
            int oy = p / ow, ox = p % ow, iy0 = oy * stride - padH, ix0 = ox * stride - padW;
            float *window = scratch + (size_t)(p - p0) * windowFloats;
            for (int ky = 0; ky < kh; ky++) {
                float *dst = window + ky * rowFloats;
                int iy = iy0 + ky;
                if (iy < 0 || iy >= h) {
                    memset(dst, 0, rowFloats * sizeof(float));
                } else if (ix0 >= 0 && ix0 + kw <= w) {
                    memcpy(dst, x + ((size_t)iy * w + ix0) * c, rowFloats * sizeof(float));
                } else {
                    for (int kx = 0; kx < kw; kx++) {
                        int ix = ix0 + kx;
                        if (ix < 0 || ix >= w) memset(dst + (size_t)kx * c, 0, (size_t)c * sizeof(float));
                        else memcpy(dst + (size_t)kx * c, x + ((size_t)iy * w + ix) * c, (size_t)c * sizeof(float));
                    }
                }
            }
        }
        const float *chunkResidual = residual ? residual + (size_t)p0 * n : 0;
        if (packedBF16) {
            vcPointwiseBF16(p1 - p0, n, windowFloats, 1, 0, scratch, windowFloats, packedBF16, bias, chunkResidual, n,
                            activation, y + (size_t)p0 * n, n);
        } else {
            vcPointwise(p1 - p0, n, windowFloats, 1, 0, scratch, windowFloats, packed, bias, chunkResidual, n,
                        activation, y + (size_t)p0 * n, n);
        }
    }
}

// ---- Winograd F(4×4, 3×3) ----

size_t vc_winograd4_nhwc_packed_count(int outChannels, int inChannels) {
    return 36 * vc_pointwise_packed_count(outChannels, inChannels);
}

void vc_winograd4_nhwc_pack(int outChannels, int inChannels, const float *u, float *packed) {
    size_t plane = (size_t)outChannels * inChannels, each = vc_pointwise_packed_count(outChannels, inChannels);
    for (int xi = 0; xi < 36; xi++) vc_pointwise_pack(outChannels, inChannels, u + xi * plane, packed + xi * each);
}

// Tiles transformed and multiplied at once: about 1 MB of transformed tiles, at least 48 (so that
// the 36 weight matrices, read once per block, serve many tiles).
static int winogradBlock(int inChannels, int outChannels) {
    int tiles = 262144 / (36 * (inChannels + outChannels)) / 12 * 12;
    return tiles < 48 ? 48 : tiles;
}

size_t vc_winograd4_nhwc_scratch_count(int inChannels, int outChannels) {
    return (size_t)36 * winogradBlock(inChannels, outChannels) * (inChannels + outChannels);
}

// Bᵀ applied to six vectors (one column or row of a 6×6 tile).
#define VC_WINOGRAD_BT(d, t)                                                                           \
    do {                                                                                               \
        t[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];                                                       \
        t[1] = d[3] + d[4] - 4.0f * (d[1] + d[2]);                                                     \
        t[2] = 4.0f * (d[1] - d[2]) - d[3] + d[4];                                                     \
        t[3] = 2.0f * (d[3] - d[1]) - d[2] + d[4];                                                     \
        t[4] = 2.0f * (d[1] - d[3]) - d[2] + d[4];                                                     \
        t[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];                                                       \
    } while (0)

// Aᵀ applied to six vectors: four.
#define VC_WINOGRAD_AT(m, s)                                                                           \
    do {                                                                                               \
        vc16 a_ = m[1] + m[2], b_ = m[1] - m[2], c_ = m[3] + m[4], d_ = m[3] - m[4];                    \
        s[0] = m[0] + a_ + c_;                                                                         \
        s[1] = b_ + 2.0f * d_;                                                                         \
        s[2] = a_ + 4.0f * c_;                                                                         \
        s[3] = b_ + 8.0f * d_ + m[5];                                                                  \
    } while (0)

// V[ξ][tile - t0][c] = Bᵀ d B for the tiles t0 ..< t1 (numbered across images, row by row).
__attribute__((always_inline))
static inline void winogradInputBody(const float *restrict x, int h, int w, int c, int t0, int t1, float *restrict v,
                                     int block) {
    int th = (h + 3) / 4, tw = (w + 3) / 4;
    size_t plane = (size_t)block * c;
    for (int t = t0; t < t1; t++) {
        int image = t / (th * tw), ty = t % (th * tw) / tw, tx = t % tw;
        int y0 = 4 * ty - 1, x0 = 4 * tx - 1;
        const float *restrict frame = x + (size_t)image * h * w * c;
        int inside = y0 >= 0 && x0 >= 0 && y0 + 6 <= h && x0 + 6 <= w;
        for (int c0 = 0; c0 < c; c0 += 16) {
            int cols = c - c0 < 16 ? c - c0 : 16;
            vc16 rows[6][6];
            for (int i = 0; i < 6; i++) {
                vc16 d[6];
                int iy = y0 + i;
                for (int j = 0; j < 6; j++) {
                    int ix = x0 + j;
                    if (inside || (iy >= 0 && iy < h && ix >= 0 && ix < w)) {
                        const float *p = frame + ((size_t)iy * w + ix) * c + c0;
                        d[j] = cols == 16 ? *(const vc16 *)p : vcLoadPartial16(p, cols);
                    } else {
                        d[j] = (vc16){0};
                    }
                }
                VC_WINOGRAD_BT(d, rows[i]);
            }
            float *restrict out = v + (size_t)(t - t0) * c + c0;
            for (int j = 0; j < 6; j++) {
                vc16 d[6] = {rows[0][j], rows[1][j], rows[2][j], rows[3][j], rows[4][j], rows[5][j]}, r[6];
                VC_WINOGRAD_BT(d, r);
                for (int i = 0; i < 6; i++) {
                    float *o = out + (size_t)(i * 6 + j) * plane;
                    if (cols == 16) {
                        *(vc16 *)o = r[i];
                    } else {
                        float tmp[16] __attribute__((aligned(64)));
                        *(vc16 *)tmp = r[i];
                        for (int k = 0; k < cols; k++) o[k] = tmp[k];
                    }
                }
            }
        }
    }
}

VC_MULTIVERSION(winogradInput,
                (const float *restrict x, int h, int w, int c, int t0, int t1, float *restrict v, int block),
                (x, h, w, c, t0, t1, v, block))

// Aᵀ applied to each of a tile's six columns of products (16 channels from `in`, the 36 products
// `plane` floats apart): s, four rows of six.
__attribute__((always_inline))
static inline void winogradColumns(const float *restrict in, size_t plane, int cols, vc16 s[4][6]) {
    for (int j = 0; j < 6; j++) {
        vc16 column[6], r[4];
        for (int i = 0; i < 6; i++) {
            const float *p = in + (size_t)(i * 6 + j) * plane;
            column[i] = cols == 16 ? *(const vc16 *)p : vcLoadPartial16(p, cols);
        }
        VC_WINOGRAD_AT(column, r);
        for (int i = 0; i < 4; i++) s[i][j] = r[i];
    }
}

// y = act(Aᵀ M A + bias (+ residual)) for the tiles t0 ..< t1, the outputs inside the image only;
// with `pool`, the 2×2 maxima of those outputs instead (y then [images][h/2][w/2][n]).
__attribute__((always_inline))
static inline void winogradOutputBody(const float *restrict m, int block, int h, int w, int n, const float *restrict bias,
                                      const float *restrict residual, int activation, int pool, float *restrict y,
                                      int t0, int t1) {
    int th = (h + 3) / 4, tw = (w + 3) / 4, ph = h / 2, pw = w / 2;
    size_t plane = (size_t)block * n;
    for (int t = t0; t < t1; t++) {
        int image = t / (th * tw), ty = t % (th * tw) / tw, tx = t % tw;
        size_t frame = (size_t)image * h * w * n;
        // The tile's outputs inside the image; with `pool`, its 2×2 pooled outputs inside the pooled image.
        int rowsHere = h - 4 * ty < 4 ? h - 4 * ty : 4, colsHere = w - 4 * tx < 4 ? w - 4 * tx : 4;
        int pooledRows = ph - 2 * ty < 2 ? ph - 2 * ty : 2, pooledColumns = pw - 2 * tx < 2 ? pw - 2 * tx : 2;
        for (int c0 = 0; c0 < n; c0 += 16) {
            int cols = n - c0 < 16 ? n - c0 : 16;
            vc16 biasVector = cols == 16 ? *(const vc16 *)(bias + c0) : vcLoadPartial16(bias + c0, cols);
            const float *restrict in = m + (size_t)(t - t0) * n + c0;
            vc16 s[4][6];
            winogradColumns(in, plane, cols, s);
            if (pool) {
                vc16 rowMax[2][4];
                for (int i = 0; i < 2 * pooledRows; i++) {
                    vc16 out[4];
                    VC_WINOGRAD_AT(s[i], out);
                    for (int j = 0; j < 4; j++) rowMax[i / 2][j] = i % 2 ? __builtin_elementwise_max(rowMax[i / 2][j], out[j]) : out[j];
                }
                for (int i = 0; i < pooledRows; i++) {
                    size_t pixel = (size_t)image * ph * pw * n + ((size_t)(2 * ty + i) * pw + 2 * tx) * n + c0;
                    for (int j = 0; j < pooledColumns; j++) {
                        vc16 v = __builtin_elementwise_max(rowMax[i][2 * j], rowMax[i][2 * j + 1]);
                        vcFinishRow16(v, biasVector, 0, cols, activation, y + pixel + (size_t)j * n);
                    }
                }
                continue;
            }
            for (int i = 0; i < rowsHere; i++) {
                vc16 out[4];
                VC_WINOGRAD_AT(s[i], out);
                size_t pixel = frame + ((size_t)(4 * ty + i) * w + 4 * tx) * n + c0;
                for (int j = 0; j < colsHere; j++) {
                    vcFinishRow16(out[j], biasVector, residual ? residual + pixel + (size_t)j * n : 0, cols, activation,
                                  y + pixel + (size_t)j * n);
                }
            }
        }
    }
}

VC_MULTIVERSION(winogradOutput,
                (const float *restrict m, int block, int h, int w, int n, const float *restrict bias,
                 const float *restrict residual, int activation, int pool, float *restrict y, int t0, int t1),
                (m, block, h, w, n, bias, residual, activation, pool, y, t0, t1))

void vc_winograd4_nhwc(const float *x, int h, int w, int c, const float *packed, const uint16_t *packedBF16,
                       const float *bias, const float *residual, int activation, int pool, int n, float *y,
                       int tileStart, int tileEnd, float *scratch) {
    int block = winogradBlock(c, n);
    size_t each = vc_pointwise_packed_count(n, c), eachBF16 = vc_bf16_packed_count(n, c, 1);
    float *v = scratch, *m = scratch + (size_t)36 * block * c;
    for (int t0 = tileStart; t0 < tileEnd; t0 += block) {
        int t1 = t0 + block < tileEnd ? t0 + block : tileEnd;
        winogradInput(x, h, w, c, t0, t1, v, block);
        for (int xi = 0; xi < 36; xi++) {
            const float *tiles = v + (size_t)xi * block * c;
            float *products = m + (size_t)xi * block * n;
            if (packedBF16) {
                vcPointwiseBF16(t1 - t0, n, c, 1, 0, tiles, c, packedBF16 + xi * eachBF16, 0, 0, 0, 0, products, n);
            } else {
                vcPointwise(t1 - t0, n, c, 1, 0, tiles, c, packed + xi * each, 0, 0, 0, 0, products, n);
            }
        }
        winogradOutput(m, block, h, w, n, bias, residual, activation, pool, y, t0, t1);
    }
}

// ---- Max pooling ----

__attribute__((always_inline))
static inline void maxPoolBody(const float *restrict x, int h, int w, int c, int kernel, int stride, int pad,
                               float *restrict y, int ow, int rowStart, int rowEnd) {
    for (int oy = rowStart; oy < rowEnd; oy++) {
        int y0 = oy * stride - pad;
        int kyStart = y0 < 0 ? -y0 : 0, kyEnd = h - y0 < kernel ? h - y0 : kernel;
        for (int ox = 0; ox < ow; ox++) {
            int x0 = ox * stride - pad;
            int kxStart = x0 < 0 ? -x0 : 0, kxEnd = w - x0 < kernel ? w - x0 : kernel;
            float *restrict out = y + ((size_t)oy * ow + ox) * c;
            for (int ch = 0; ch < c; ch++) out[ch] = -__builtin_inff();
            for (int ky = kyStart; ky < kyEnd; ky++) {
                for (int kx = kxStart; kx < kxEnd; kx++) {
                    const float *restrict in = x + ((size_t)(y0 + ky) * w + (x0 + kx)) * c;
                    for (int ch = 0; ch < c; ch++) out[ch] = out[ch] > in[ch] ? out[ch] : in[ch];
                }
            }
        }
    }
}

VC_MULTIVERSION(maxPool,
                (const float *restrict x, int h, int w, int c, int kernel, int stride, int pad, float *restrict y,
                 int ow, int rowStart, int rowEnd),
                (x, h, w, c, kernel, stride, pad, y, ow, rowStart, rowEnd))

void vc_max_pool_nhwc(const float *x, int h, int w, int c, int kernel, int stride, int pad, float *y, int ow,
                      int rowStart, int rowEnd) {
    maxPool(x, h, w, c, kernel, stride, pad, y, ow, rowStart, rowEnd);
}
