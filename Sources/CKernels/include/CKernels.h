// vidclass's own single-precision GEMM for matrices known ahead of time (a network's weights).
//
// OpenBLAS repacks both operands of every product. For inference the left operand is a layer's
// weights, fixed once the model is loaded, so vidclass packs them once (vc_pack_a) into the panel
// layout its AVX2/FMA micro-kernel reads, and each product (vc_gemm_packed) packs only the right
// operand, writes C without a separate pass to clear it, and can compute a slice of C's rows. On a
// CPU without AVX2 and FMA, vc_packed_gemm_available() is 0 and vidclass keeps using OpenBLAS.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU runs the packed GEMM (AVX2 and FMA, and no cap below them:
/// vc_limit_vector_instruction_set), else 0.
int vc_packed_gemm_available(void);

/// Floats needed to hold an m × k matrix packed by vc_pack_a (rows rounded up to the panel height).
size_t vc_packed_a_count(int m, int k);

/// Packs the row-major m × k matrix `a` (leading dimension lda) into `packed`, which holds
/// vc_packed_a_count(m, k) floats.
void vc_pack_a(int m, int k, const float *a, int lda, float *packed);

/// Row-major C[rows] = A[rows] · B for the rows `row0 ..< row0 + rows` of the packed m × k matrix A
/// (any sub-range), with B k × n (leading dimension ldb). `c` points at C's row `row0`; each of its
/// rows has leading dimension ldc. With `accumulate` nonzero C += A·B, otherwise C is overwritten
/// (it may hold garbage). The caller partitions work across threads; this runs on the calling one.
void vc_gemm_packed(int row0, int rows, int n, int k, const float *packed, const float *b, int ldb,
                    float *c, int ldc, int accumulate);

/// Row-major C = alpha · op(A) · op(B) + beta · C, as cblas_sgemm(CblasRowMajor, ...) (a transpose
/// flag of 0 means op(X) = X), packing both operands on the way (for matrices used once, such as
/// training's). Runs on the calling thread. Only when vc_packed_gemm_available().
void vc_gemm(int transposeA, int transposeB, int m, int n, int k, float alpha, const float *a, int lda,
             const float *b, int ldb, float beta, float *c, int ldc);

/// C = alpha · A · Bᵀ + beta · C with B stored n × k (leading dimension ldb), as dot products
/// without packing: for products with few rows m (a recurrent layer's steps). Calling thread only.
void vc_gemm_rows_dot(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta,
                      float *c, int ldc);

/// Floats of scratch vc_conv_direct needs for one image of this geometry.
size_t vc_conv_direct_scratch_count(int channels, int height, int width, int kernelHeight, int kernelWidth,
                                    int stride, int pad);

/// A convolution of one image (channels × height × width, no groups or dilation, the same stride
/// and padding both ways) with weights packed by vc_pack_a (outChannels × channels·kh·kw), for the
/// output rows row0 ..< row1, written to `output` (outChannels × outHeight × outWidth, no bias).
/// It reads the input through a zero-padded copy split by column phase, with no im2col matrix:
/// meant for layers with few input channels (a network's first), where im2col's columns are many
/// times the input's size. Only when vc_packed_gemm_available().
void vc_conv_direct(const float *packed, int outChannels, int channels, int height, int width, int kernelHeight,
                    int kernelWidth, int stride, int pad, const float *input, float *output, int row0, int row1,
                    float *scratch);

/// Floats of scratch vc_depthwise_plane needs for planes of this geometry (stride 1 or 2).
size_t vc_depthwise_scratch_count(int h, int w, int stride, int padH, int padW, int oh);

/// Zeroes the part of the scratch that holds the padded plane; once per scratch buffer and
/// geometry, before the first vc_depthwise_plane (its zero border is never written).
void vc_depthwise_clear_scratch(float *scratch, int h, int w, int stride, int padH, int padW, int oh);

/// One channel of a depthwise convolution (stride 1 or 2, the same both ways):
/// dst[y][x] = act(bias + sum of filter[ky][kx] * src[y*stride - padH + ky][x*stride - padW + kx]
/// + residual[y][x]), residual optional (NULL). activation: 0 none, 1 ReLU, 2 ReLU6, 3 hard-swish,
/// 4 hard-sigmoid, 5 SiLU, 6 sigmoid. Vectorized for AVX-512 or AVX2 + FMA when the CPU has them.
void vc_depthwise_plane(const float *src, int h, int w, const float *filter, int kh, int kw, int stride, int padH,
                        int padW, float bias, const float *residual, float *dst, int oh, int ow, int activation,
                        float *scratch);

/// Which instruction set the vectorized kernels (depthwise, activations, squeeze-and-excitation,
/// NHWC, pointwise) use on this CPU: "avx512", "avx2+fma" or "baseline", the best the CPU has
/// unless capped by vc_limit_vector_instruction_set or the environment variable
/// VIDCLASS_VECTOR_ISA (same names).
const char *vc_vector_instruction_set(void);

/// Caps the instruction set of the vectorized kernels at "avx512", "avx2" or "baseline" (a CPU
/// without it keeps its best): for tests of every path on one machine. 0, or -1 for another name.
int vc_limit_vector_instruction_set(const char *name);

/// Applies an activation in place to n values (codes as vc_depthwise_plane: 1 ReLU, 2 ReLU6,
/// 3 hard-swish, 4 hard-sigmoid, 5 SiLU, 6 sigmoid), vectorized for the CPU it runs on.
void vc_activate(float *y, size_t n, int activation);

/// One LSTM step for one sequence, after the products (PyTorch's gate order i, f, g, o, each
/// `hidden` wide): pre = inputGates + hiddenGates + bias; cell = σ(f)·cell + σ(i)·tanh(g);
/// out = σ(o)·tanh(cell). Vectorized; σ and tanh within about 1e-7 of expf's and tanhf's.
void vc_lstm_cell(int hidden, const float *inputGates, const float *hiddenGates, const float *bias, float *cell,
                  float *out);

// Channels-last (NHWC) inference kernels of the inverted-residual encoders.

/// Output rows rowStart..<rowEnd of a depthwise convolution of one image [h][w][c] into [oh][ow][c]:
/// act(bias + sum over taps of weights [kh·kw][c] times the input (zero outside)), activation
/// codes as vc_activate. `x` holds the input from row firstInputRow on (0: the whole image; a
/// strip must hold the rows these outputs read), `y` the output from row firstOutputRow on.
void vc_depthwise_nhwc(const float *x, int firstInputRow, int h, int w, int c, const float *weights, int kh, int kw,
                       int stride, int padH, int padW, const float *bias, float *y, int firstOutputRow, int ow,
                       int rowStart, int rowEnd, int activation);

/// The mean of each channel over pixels of x [pixels][c].
void vc_channel_means_nhwc(const float *x, int pixels, int c, float *means);

/// Squeeze-and-excitation of `images` images in channels-last layout, x and y [images][pixels][c]:
/// per image the channel means, hidden = activation(w1 · means + b1), scale = gate(w2 · hidden + b2),
/// y = x · scale per channel (activation codes as vc_activate), with w1 (s × c) and w2 (c × s)
/// packed by vc_pointwise_pack. The small layers run on up to eight images at a time, each weight
/// read once for all of them. scratch: vc_squeeze_excite_scratch_count(images, c, s) floats.
void vc_squeeze_excite_nhwc(const float *x, float *y, int images, int pixels, int c, const float *w1, const float *b1,
                            int s, const float *w2, const float *b2, int activation, int gate, float *scratch);

/// Floats of scratch vc_squeeze_excite_nhwc (and vc_squeeze_gates_nhwc) needs.
size_t vc_squeeze_excite_scratch_count(int images, int c, int s);

/// The gates of vc_squeeze_excite_nhwc without applying them: gates [images][c] = gate(w2 ·
/// activation(w1 · means + b1) + b2), for a following 1×1 convolution to take into its weights
/// (vc_pointwise_scale_packed) instead of a pass over x. scratch as vc_squeeze_excite_nhwc.
void vc_squeeze_gates_nhwc(const float *x, int images, int pixels, int c, const float *w1, const float *b1, int s,
                           const float *w2, const float *b2, int activation, int gate, float *gates, float *scratch);

/// Floats needed for the weights of a 1×1 convolution with n outputs and k inputs packed by
/// vc_pointwise_pack.
size_t vc_pointwise_packed_count(int n, int k);

/// Packs the weights w [n][k] of a 1×1 convolution (n outputs, k inputs) once, for
/// vc_pointwise_nhwc: 16-output panels over all of k, zero-padded.
void vc_pointwise_pack(int n, int k, const float *w, float *packed);

/// Packed weights (vc_pointwise_pack, n outputs, k inputs) with input p's weights multiplied by
/// scale[p], into scaled (vc_pointwise_packed_count(n, k) floats): the convolution of x · scale per
/// channel, for one image's gates.
void vc_pointwise_scale_packed(int n, int k, const float *packed, const float *scale, float *scaled);

/// A 1×1 convolution of m channels-last pixels a [m][k] (leading dimension lda) into c [m][n]
/// (leading dimension ldc): c = act(a · wᵀ + bias (+ residual [m][n], leading dimension ldr,
/// optional)), w packed by vc_pointwise_pack; activation codes as vc_activate. Calling thread only.
/// With `packedBF16` (vc_bf16_pack of the same weights, segments 1) instead of `packed` (which may
/// then be NULL), the product runs in bfloat16 (see vc_bf16_pack); the calling thread then keeps a
/// buffer for its rounded input (m · k / 2 words at most, about 128 KB for long rows) until it ends.
void vc_pointwise_nhwc(int m, int n, int k, const float *a, int lda, const float *packed, const uint16_t *packedBF16,
                       const float *bias, const float *residual, int ldr, int activation, float *c, int ldc);

/// The bfloat16 form of weights packed by vc_pointwise_pack (n outputs, `segments` runs of k inputs:
/// 1, or a stem's kh window rows of kw·c), for the kernels' bf16 path: values rounded to nearest
/// (ties to even), each run of k padded to whole pairs. With it, the kernels round their input to
/// bf16 too and sum the products in fp32: VDPBF16PS on CPUs with AVX-512 BF16 (vc_bf16_native), the
/// same products with fp32 multiply-adds elsewhere.
void vc_bf16_pack(int n, int k, int segments, const float *packed, uint16_t *out);
/// bf16 values vc_bf16_pack writes for these weights.
size_t vc_bf16_packed_count(int n, int k, int segments);
/// 1 when the bf16 path uses the CPU's AVX-512 BF16 instructions (the CPU has them and the kernels'
/// instruction set is not capped below AVX-512), else 0.
int vc_bf16_native(void);
/// `value` rounded to the nearest bfloat16 (ties to even), as a float.
float vc_bf16_round(float value);

/// The second step of Winograd F(4×4, 3×3)'s input transform (Bᵀ d B) for one row of tw tiles of a
/// channels-first image: t holds that row of Bᵀ d (4 · tw + 2 floats, tile tx's six columns from
/// 4 · tx); writes its six transformed values to o[e · planeStride + tx], e = 0 ..< 6.
void vc_winograd4_input_row(const float *t, int tw, float *o, size_t planeStride);

/// One output row of Winograd F(4×4, 3×3) (channels-first): ys holds its four columns of tiles,
/// column c of tile tx at ys[c · ysStride + tx]; writes out[ox] = act(ys + residual[ox]) for
/// ox < ow, residual optional, act ReLU when relu is non-zero.
void vc_winograd4_output_row(const float *ys, size_t ysStride, int ow, const float *residual, int relu, float *out);

/// Floats of scratch vc_winograd4_gradient_row needs for rows of tw tiles.
size_t vc_winograd4_gradient_row_scratch_count(int tw);
/// The transform A e Aᵀ (6 × 6, the transpose of F(4×4, 3×3)'s output transform) of the 4 × 4 tiles
/// of row ty of one channel of an output gradient dy [h][w] (zero past its edges), for the weights'
/// gradient: element 6 · ξ + ζ of tile tx to o[(6 · ξ + ζ) · planeStride + tx].
void vc_winograd4_gradient_row(const float *dy, int h, int w, int ty, int tw, float *scratch, float *o,
                               size_t planeStride);

/// Floats of scratch vc_stem_nhwc needs for output rows rowStart..<rowEnd.
size_t vc_stem_scratch_count(int c, int w, int kh, int stride, int padW, int rowStart, int rowEnd);

/// Output rows rowStart..<rowEnd of a convolution (the same stride both ways, no groups) of one
/// channels-first image x [c][h][w] into channels-last y [(oy - rowStart)·ow + ox][n]: y = act(bias +
/// weights · window), the weights [n][kh][kw][c] packed by vc_pointwise_pack (n, kh·kw·c). Reads
/// the input through a zero-padded channels-last copy of the rows it needs (in scratch), with no
/// im2col matrix: for a network's first layer. With `packedBF16` (vc_bf16_pack, k = kw·c, segments kh)
/// instead of `packed`, in bfloat16.
void vc_stem_nhwc(const float *x, int c, int h, int w, int kh, int kw, int stride, int padH, int padW,
                  const float *packed, const uint16_t *packedBF16, const float *bias, int activation, int n, float *y,
                  int ow, int rowStart, int rowEnd, float *scratch);

/// Floats of scratch vc_convolution_nhwc needs (per calling thread).
size_t vc_convolution_nhwc_scratch_count(int c, int kh, int kw);
/// Output pixels pixelStart..<pixelEnd (numbered oy · ow + ox) of a convolution (no groups, the same
/// stride both ways) of one channels-last image x [h][w][c] into y [oh][ow][n]: y = act(bias +
/// weights · window (+ residual [oh][ow][n], optional)), the weights [n][kh][kw][c] packed by
/// vc_pointwise_pack (n, kh·kw·c); activation codes as vc_activate. The windows of a chunk of
/// pixels are gathered into scratch (vc_convolution_nhwc_scratch_count floats), then multiplied. With
/// `packedBF16` (vc_bf16_pack, k = kh·kw·c, segments 1) instead of `packed`, in bfloat16.
void vc_convolution_nhwc(const float *x, int h, int w, int c, int kh, int kw, int stride, int padH, int padW,
                         const float *packed, const uint16_t *packedBF16, const float *bias, const float *residual,
                         int activation, int n, float *y, int ow, int pixelStart, int pixelEnd, float *scratch);
/// Floats needed for the 36 transformed weight matrices of a 3×3 convolution packed by
/// vc_winograd4_nhwc_pack.
size_t vc_winograd4_nhwc_packed_count(int outChannels, int inChannels);
/// Packs Winograd F(4×4, 3×3) filters u [36][outChannels][inChannels] (G g Gᵀ) for vc_winograd4_nhwc.
void vc_winograd4_nhwc_pack(int outChannels, int inChannels, const float *u, float *packed);
/// Floats of scratch vc_winograd4_nhwc needs (per calling thread).
size_t vc_winograd4_nhwc_scratch_count(int inChannels, int outChannels);
/// A 3×3 convolution, stride 1, padding 1, of channels-last images x [images][h][w][c] into
/// y [images][h][w][n] by Winograd F(4×4, 3×3): y = act(bias + conv (+ residual, same layout,
/// optional)), for the 4×4 output tiles tileStart..<tileEnd, numbered across images row by row
/// (⌈h/4⌉·⌈w/4⌉ per image); filters packed by vc_winograd4_nhwc_pack; bias required (n floats).
/// With `pool` nonzero (no residual, and an activation that never decreases: none, ReLU, ReLU6, as
/// the maximum is taken before it), y is the 2×2 max pooling (stride 2) of that output instead,
/// [images][h/2][w/2][n].
/// With `packedBF16` (each of the 36 matrices through vc_bf16_pack, segments 1, one after another)
/// the products run in bfloat16.
void vc_winograd4_nhwc(const float *x, int h, int w, int c, const float *packed, const uint16_t *packedBF16,
                       const float *bias, const float *residual, int activation, int pool, int n, float *y,
                       int tileStart, int tileEnd, float *scratch);
/// Output rows rowStart..<rowEnd of a max pooling (kernel × kernel windows, padding never counted)
/// of one channels-last image x [h][w][c] into y [oh][ow][c].
void vc_max_pool_nhwc(const float *x, int h, int w, int c, int kernel, int stride, int pad, float *y, int ow,
                      int rowStart, int rowEnd);
/// BatchNorm2d in training followed by a 2×2 max pooling with stride 2, on one plane x[h][w]:
/// y = ((x − mean) · invStd) · gamma + beta (each step rounded, as BatchNorm2d computes it), then
/// out[oh][ow] (oh = h / 2, ow = w / 2) the maximum of each window of y, codes[oh][ow] where it
/// was (0 top left, 1 top right, 2 bottom left, 3 bottom right; the first of equal values) and
/// centered[oh][ow] the x there minus the mean (for the backward pass's sums). With relu, out is
/// max(·, 0) of that, and a window whose maximum is not positive gets code 4 (no gradient) and 0.
void vc_batch_norm_max_pool2(const float *x, int h, int w, float mean, float invStd, float gamma, float beta,
                             float *out, int relu, unsigned char *codes, float *centered);
/// dx[h][w] = a · dy + b + c · (x − mean), dy being g routed to each window's maximum (0 elsewhere,
/// in windows of code 4, and on a last row or column no window covers).
void vc_batch_norm_max_pool2_backward(const float *x, int h, int w, float mean, float a, float b, float c,
                                      const float *g, const unsigned char *codes, float *dx);
/// sums[0] = Σ dy[i], sums[1] = Σ dy[i] · (x[i] − mean) over n floats, leaving out each i whose
/// codes[i] is 4 or more when codes is not NULL (vc_batch_norm_max_pool2's windows without a gradient).
void vc_batch_norm_sums(const float *dy, const float *x, const unsigned char *codes, size_t n, float mean,
                        float sums[2]);
/// dx[i] = a · dy[i] + b + c · (x[i] − mean) over n floats.
void vc_batch_norm_backward(const float *dy, const float *x, size_t n, float mean, float a, float b, float c,
                            float *dx);

/// The vertical pass of a separable resampling, on one 8-bit plane: for each output row r,
/// dst[r][x] = sum over k < taps of weights[r * taps + k] * src[starts[r] + k][x], x < width.
void vc_resample_vertical_u8(const unsigned char *src, ptrdiff_t srcStride, int width, const int *starts,
                             const float *weights, int taps, int rows, float *dst, ptrdiff_t dstStride);
/// The horizontal pass: for each row r and output column o,
/// dst[r][o] = sum over k < taps of weights[o * taps + k] * src[r][starts[o] + k]. taps is a
/// multiple of 8, and every src row is readable (and finite) up to starts[o] + taps.
void vc_resample_horizontal_f32(const float *src, ptrdiff_t srcStride, int rows, const int *starts,
                                const float *weights, int taps, int outWidth, float *dst, ptrdiff_t dstStride);
/// count pixels of three float planes to packed 8-bit RGB: with l = (y − m[0]) · m[1],
/// cb = u − m[2], cr = v − m[2]: R = l + m[3] · cr, G = l − m[4] · cb − m[5] · cr,
/// B = l + m[6] · cb, each clamped to [0, 255] and rounded.
void vc_yuv_to_rgb24(const float *y, const float *u, const float *v, int count, const float matrix[7],
                     unsigned char *rgb);

#ifdef __cplusplus
}
#endif
