// The per-row steps of the channels-first Winograd F(4×4, 3×3) convolution (NeuralNetwork's
// Winograd4.swift) that read or write every fourth float: 8 tiles at a time, their columns
// gathered or scattered by shuffles in registers (see include/CKernels.h).

#include "CKernels.h"
#include "kernels.h"

// Floats 0, 4, 8, … 28 (c[0]), 1, 5, … (c[1]), 2, 6, … (c[2]) and 3, 7, … (c[3]) of 32 consecutive floats.
__attribute__((always_inline)) static inline void deinterleave4(const float *p, vc8 c[4]) {
    vc8 a = *(const vc8 *)p, b = *(const vc8 *)(p + 8), d = *(const vc8 *)(p + 16), e = *(const vc8 *)(p + 24);
    vc8 abEven = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14);
    vc8 abOdd = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15);
    vc8 deEven = __builtin_shufflevector(d, e, 0, 2, 4, 6, 8, 10, 12, 14);
    vc8 deOdd = __builtin_shufflevector(d, e, 1, 3, 5, 7, 9, 11, 13, 15);
    c[0] = __builtin_shufflevector(abEven, deEven, 0, 2, 4, 6, 8, 10, 12, 14);
    c[2] = __builtin_shufflevector(abEven, deEven, 1, 3, 5, 7, 9, 11, 13, 15);
    c[1] = __builtin_shufflevector(abOdd, deOdd, 0, 2, 4, 6, 8, 10, 12, 14);
    c[3] = __builtin_shufflevector(abOdd, deOdd, 1, 3, 5, 7, 9, 11, 13, 15);
}

__attribute__((always_inline)) static inline void winograd4InputRowBody(const float *restrict t, int tw,
                                                                         float *restrict o, size_t planeStride) {
    int tx = 0;
    for (; tx + 8 <= tw; tx += 8) {
        const float *p = t + 4 * tx;
        vc8 c[4];
        deinterleave4(p, c);
        // Columns 4 and 5 of a tile are columns 0 and 1 of the next one.
        vc8 next0 = {p[32]}, next1 = {p[33]};
        vc8 c4 = __builtin_shufflevector(c[0], next0, 1, 2, 3, 4, 5, 6, 7, 8);
        vc8 c5 = __builtin_shufflevector(c[1], next1, 1, 2, 3, 4, 5, 6, 7, 8);
        *(vc8 *)(o + tx) = 4 * c[0] - 5 * c[2] + c4;
        *(vc8 *)(o + planeStride + tx) = c[3] + c4 - 4 * (c[1] + c[2]);
        *(vc8 *)(o + 2 * planeStride + tx) = 4 * (c[1] - c[2]) - c[3] + c4;
        *(vc8 *)(o + 3 * planeStride + tx) = 2 * (c[3] - c[1]) - c[2] + c4;
        *(vc8 *)(o + 4 * planeStride + tx) = 2 * (c[1] - c[3]) - c[2] + c4;
        *(vc8 *)(o + 5 * planeStride + tx) = 4 * c[1] - 5 * c[3] + c5;
    }
    for (; tx < tw; tx++) {
        const float *c = t + 4 * tx;
        float c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3], c4 = c[4], c5 = c[5];
        o[tx] = 4 * c0 - 5 * c2 + c4;
        o[planeStride + tx] = c3 + c4 - 4 * (c1 + c2);
        o[2 * planeStride + tx] = 4 * (c1 - c2) - c3 + c4;
        o[3 * planeStride + tx] = 2 * (c3 - c1) - c2 + c4;
        o[4 * planeStride + tx] = 2 * (c1 - c3) - c2 + c4;
        o[5 * planeStride + tx] = 4 * c1 - 5 * c3 + c5;
    }
}

VC_MULTIVERSION(winograd4InputRow, (const float *t, int tw, float *o, size_t planeStride), (t, tw, o, planeStride))

void vc_winograd4_input_row(const float *t, int tw, float *o, size_t planeStride) {
    winograd4InputRow(t, tw, o, planeStride);
}

__attribute__((always_inline)) static inline void winograd4OutputRowBody(const float *restrict ys, size_t ysStride,
                                                                          int ow, const float *restrict residual,
                                                                          int relu, float *restrict out) {
    int tx = 0;
    // Whole blocks of 8 tiles (32 outputs) inside the row.
    for (; 4 * (tx + 8) <= ow; tx += 8) {
        vc8 y0 = *(const vc8 *)(ys + tx), y1 = *(const vc8 *)(ys + ysStride + tx);
        vc8 y2 = *(const vc8 *)(ys + 2 * ysStride + tx), y3 = *(const vc8 *)(ys + 3 * ysStride + tx);
        vc8 lo01 = __builtin_shufflevector(y0, y1, 0, 8, 1, 9, 2, 10, 3, 11);
        vc8 hi01 = __builtin_shufflevector(y0, y1, 4, 12, 5, 13, 6, 14, 7, 15);
        vc8 lo23 = __builtin_shufflevector(y2, y3, 0, 8, 1, 9, 2, 10, 3, 11);
        vc8 hi23 = __builtin_shufflevector(y2, y3, 4, 12, 5, 13, 6, 14, 7, 15);
        vc8 v[4] = {
            __builtin_shufflevector(lo01, lo23, 0, 1, 8, 9, 2, 3, 10, 11),
            __builtin_shufflevector(lo01, lo23, 4, 5, 12, 13, 6, 7, 14, 15),
            __builtin_shufflevector(hi01, hi23, 0, 1, 8, 9, 2, 3, 10, 11),
            __builtin_shufflevector(hi01, hi23, 4, 5, 12, 13, 6, 7, 14, 15),
        };
        for (int i = 0; i < 4; i++) {
            vc8 e = v[i];
            if (residual) e += *(const vc8 *)(residual + 4 * tx + 8 * i);
            if (relu) e = __builtin_elementwise_max(e, (vc8){0});
            *(vc8 *)(out + 4 * tx + 8 * i) = e;
        }
    }
    // The rest a tile at a time (not vectorized: gathers would be slower than these loads).
#pragma clang loop vectorize(disable)
    for (; 4 * tx < ow; tx++) {
        for (int c = 0; c < 4 && 4 * tx + c < ow; c++) {
            int ox = 4 * tx + c;
            float e = ys[(size_t)c * ysStride + tx];
            if (residual) e += residual[ox];
            out[ox] = relu ? (e > 0 ? e : 0) : e;
        }
    }
}

VC_MULTIVERSION(winograd4OutputRow,
                (const float *ys, size_t ysStride, int ow, const float *residual, int relu, float *out),
                (ys, ysStride, ow, residual, relu, out))

void vc_winograd4_output_row(const float *ys, size_t ysStride, int ow, const float *residual, int relu, float *out) {
    winograd4OutputRow(ys, ysStride, ow, residual, relu, out);
}

__attribute__((always_inline)) static inline void winograd4GradientRowBody(const float *restrict dy, int h, int w,
                                                                            int ty, int tw, float *restrict scratch,
                                                                            float *restrict o, size_t planeStride) {
    // The tile row's four rows of the output gradient, zero past the image's edges: e[r][x], x < 4 · tw.
    int width = 4 * tw;
    float *e[4], *u[6];
    for (int r = 0; r < 4; r++) {
        e[r] = scratch + (size_t)r * width;
        int y = 4 * ty + r;
        if (y < h) {
            memcpy(e[r], dy + (size_t)y * w, (size_t)w * sizeof(float));
            for (int x = w; x < width; x++) e[r][x] = 0;
        } else {
            for (int x = 0; x < width; x++) e[r][x] = 0;
        }
    }
    for (int i = 0; i < 6; i++) u[i] = scratch + (size_t)(4 + i) * width;
    // A e along the rows (A, 6 × 4: the points 0, 1, −1, 2, −2 and ∞ of F(4×4, 3×3)).
    for (int x = 0; x < width; x++) {
        float e0 = e[0][x], e1 = e[1][x], e2 = e[2][x], e3 = e[3][x];
        u[0][x] = e0;
        u[1][x] = (e0 + e2) + (e1 + e3);
        u[2][x] = (e0 + e2) - (e1 + e3);
        u[3][x] = (e0 + 4 * e2) + 2 * (e1 + 4 * e3);
        u[4][x] = (e0 + 4 * e2) - 2 * (e1 + 4 * e3);
        u[5][x] = e3;
    }
    // Then (A e) Aᵀ along each tile's four columns: element 6 · ξ + ζ at o[(6 · ξ + ζ) · planeStride + tx].
    for (int xi = 0; xi < 6; xi++) {
        const float *row = u[xi];
        float *out = o + (size_t)(6 * xi) * planeStride;
        int tx = 0;
        for (; tx + 8 <= tw; tx += 8) {
            vc8 c[4];
            deinterleave4(row + 4 * tx, c);
            vc8 even = c[0] + c[2], odd = c[1] + c[3];
            vc8 even4 = c[0] + 4 * c[2], odd4 = c[1] + 4 * c[3];
            *(vc8 *)(out + tx) = c[0];
            *(vc8 *)(out + planeStride + tx) = even + odd;
            *(vc8 *)(out + 2 * planeStride + tx) = even - odd;
            *(vc8 *)(out + 3 * planeStride + tx) = even4 + 2 * odd4;
            *(vc8 *)(out + 4 * planeStride + tx) = even4 - 2 * odd4;
            *(vc8 *)(out + 5 * planeStride + tx) = c[3];
        }
        for (; tx < tw; tx++) {
            const float *c = row + 4 * tx;
            float even = c[0] + c[2], odd = c[1] + c[3], even4 = c[0] + 4 * c[2], odd4 = c[1] + 4 * c[3];
            out[tx] = c[0];
            out[planeStride + tx] = even + odd;
            out[2 * planeStride + tx] = even - odd;
            out[3 * planeStride + tx] = even4 + 2 * odd4;
            out[4 * planeStride + tx] = even4 - 2 * odd4;
            out[5 * planeStride + tx] = c[3];
        }
    }
}

VC_MULTIVERSION(winograd4GradientRow,
                (const float *dy, int h, int w, int ty, int tw, float *scratch, float *o, size_t planeStride),
                (dy, h, w, ty, tw, scratch, o, planeStride))

size_t vc_winograd4_gradient_row_scratch_count(int tw) { return (size_t)10 * 4 * (size_t)(tw > 0 ? tw : 1); }

void vc_winograd4_gradient_row(const float *dy, int h, int w, int ty, int tw, float *scratch, float *o,
                               size_t planeStride) {
    winograd4GradientRow(dy, h, w, ty, tw, scratch, o, planeStride);
}
