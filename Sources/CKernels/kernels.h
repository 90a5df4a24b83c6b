// Shared by the vectorized kernels (not part of the public header): the activations, Cephes'
// exponential, and VC_MULTIVERSION, which compiles one always-inline body three times (AVX-512,
// AVX2 + FMA, baseline) and calls the best one the CPU supports, chosen once.

#ifndef VC_KERNELS_H
#define VC_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/// Cephes' expf after its range reduction, for a float or a vector of floats (type T): with x
/// clamped to [-87, 88] and n = round(x / ln 2), e^(x − n·ln 2) (the result is that times 2^n).
#define VC_EXPONENTIAL_REDUCED(T, x, n)                                                                \
    ({                                                                                                 \
        T r_ = (x) - (n) * 0.693359375f;                                                               \
        r_ = r_ + (n) * 2.12194440e-4f;                                                                \
        T p_ = (T){0} + 1.9875691500e-4f;                                                              \
        p_ = p_ * r_ + 1.3981999507e-3f;                                                               \
        p_ = p_ * r_ + 8.3334519073e-3f;                                                               \
        p_ = p_ * r_ + 4.1665795894e-2f;                                                               \
        p_ = p_ * r_ + 1.6666665459e-1f;                                                               \
        p_ = p_ * r_ + 5.0000001201e-1f;                                                               \
        p_ * (r_ * r_) + r_ + 1.0f;                                                                    \
    })

/// expf within 2 ulp (Cephes' single-precision polynomial); vectorizes where a call to expf does not.
__attribute__((always_inline))
static inline float vcExponential(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    float e = VC_EXPONENTIAL_REDUCED(float, x, n);
    int bits = ((int)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return e * scale;
}

/// Activation codes: 0 none, 1 ReLU, 2 ReLU6, 3 hard-swish, 4 hard-sigmoid, 5 SiLU, 6 sigmoid.
__attribute__((always_inline))
static inline void vcActivate(float *restrict y, size_t n, int activation) {
    switch (activation) {
    case 1: for (size_t i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0; break;
    case 2: for (size_t i = 0; i < n; i++) { float v = y[i] > 0 ? y[i] : 0; y[i] = v < 6 ? v : 6; } break;
    case 3: for (size_t i = 0; i < n; i++) {
                float v = y[i] + 3; v = v > 0 ? v : 0; v = v < 6 ? v : 6; y[i] = y[i] * v * (1.0f / 6);
            } break;
    case 4: for (size_t i = 0; i < n; i++) {
                float v = y[i] + 3; v = v > 0 ? v : 0; v = v < 6 ? v : 6; y[i] = v * (1.0f / 6);
            } break;
    case 5: for (size_t i = 0; i < n; i++) y[i] = y[i] / (1 + vcExponential(-y[i])); break;
    case 6: for (size_t i = 0; i < n; i++) y[i] = 1 / (1 + vcExponential(-y[i])); break;
    default: break;
    }
}

// 16-float vectors for the tile kernels (pointwise.c, convolution_nhwc.c). The helpers below take
// and return them; they are always inlined into functions compiled for one instruction set each,
// so the calling convention clang warns about never applies.
#pragma clang diagnostic ignored "-Wpsabi"
typedef float vc16 __attribute__((vector_size(64), aligned(4)));
typedef int vc16i __attribute__((vector_size(64), aligned(4)));
// 8-float vectors: a tile's or a channel block's last eight columns.
typedef float vc8 __attribute__((vector_size(32), aligned(4)));

// vcExponential on 16 lanes at once.
__attribute__((always_inline)) static inline vc16 vcExponential16(vc16 x) {
    x = __builtin_elementwise_min(__builtin_elementwise_max(x, (vc16){} - 87.0f), (vc16){} + 88.0f);
    vc16 n = __builtin_elementwise_floor(x * 1.44269504088896341f + 0.5f);
    vc16 e = VC_EXPONENTIAL_REDUCED(vc16, x, n);
    vc16i bits = (__builtin_convertvector(n, vc16i) + 127) << 23;
    return e * (vc16)bits;
}

// vcActivate on 16 lanes in registers.
__attribute__((always_inline)) static inline vc16 vcActivate16(vc16 v, int activation) {
    vc16 zero = {}, six = zero + 6.0f;
    switch (activation) {
    case 1: return __builtin_elementwise_max(v, zero);
    case 2: return __builtin_elementwise_min(__builtin_elementwise_max(v, zero), six);
    case 3: return v * __builtin_elementwise_min(__builtin_elementwise_max(v + 3.0f, zero), six) * (1.0f / 6);
    case 4: return __builtin_elementwise_min(__builtin_elementwise_max(v + 3.0f, zero), six) * (1.0f / 6);
    case 5: return v / (1.0f + vcExponential16(-v));
    case 6: return 1.0f / (1.0f + vcExponential16(-v));
    default: return v;
    }
}

// A vector of 8 as the first half of a vector of 16 (the rest zero), and back.
__attribute__((always_inline)) static inline vc16 vcWiden8(vc8 v) {
    return __builtin_shufflevector(v, (vc8){0}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}
__attribute__((always_inline)) static inline vc8 vcFirstHalf16(vc16 v) {
    return __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
}

// vcActivate16 on 8 lanes.
__attribute__((always_inline)) static inline vc8 vcActivate8(vc8 v, int activation) {
    return vcFirstHalf16(vcActivate16(vcWiden8(v), activation));
}

// The first `cols` floats of p (the rest zero), as a vector.
__attribute__((always_inline)) static inline vc16 vcLoadPartial16(const float *p, int cols) {
    float t[16] __attribute__((aligned(64))) = {0};
    for (int j = 0; j < cols; j++) t[j] = p[j];
    return *(const vc16 *)t;
}

// One row of a tile finished: + bias (+ residual), the activation, stored (the first `cols` floats).
__attribute__((always_inline)) static inline void vcFinishRow16(vc16 v, vc16 bias, const float *restrict residual,
                                                              int cols, int activation, float *restrict out) {
    v += bias;
    // No masked loads: one of a null residual would take Zen 4's slow path for suppressed faults.
    if (residual) v += cols == 16 ? *(const vc16 *)residual : vcLoadPartial16(residual, cols);
    v = vcActivate16(v, activation);
    if (cols == 16) {
        *(vc16 *)out = v;
    } else {
        float t[16] __attribute__((aligned(64)));
        *(vc16 *)t = v;
        for (int j = 0; j < cols; j++) out[j] = t[j];
    }
}

// The first `cols` (≤ 8) floats of p (the rest zero), as a vector of 8.
__attribute__((always_inline)) static inline vc8 vcLoadPartial8(const float *p, int cols) {
    float t[8] __attribute__((aligned(32))) = {0};
    for (int j = 0; j < cols; j++) t[j] = p[j];
    return *(const vc8 *)t;
}

// A row of C's first `cols` (≤ 16, or ≤ 8) floats as a vector (the rest zero), for tiles that add to C.
#define VC_LOAD_ROW16(p, cols) ((cols) == 16 ? *(const vc16 *)(p) : vcLoadPartial16((p), (cols)))
#define VC_LOAD_ROW8(p, cols) ((cols) == 8 ? *(const vc8 *)(p) : vcLoadPartial8((p), (cols)))

// vcFinishRow16 for a row of at most 8 columns in a vector of 8 (bias in the first lanes of a
// vector of 16).
__attribute__((always_inline)) static inline void vcFinishRow8(vc8 v, vc16 bias, const float *restrict residual,
                                                             int cols, int activation, float *restrict out) {
    v += vcFirstHalf16(bias);
    if (residual) v += cols == 8 ? *(const vc8 *)residual : vcLoadPartial8(residual, cols);
    v = vcActivate8(v, activation);
    if (cols == 8) {
        *(vc8 *)out = v;
    } else {
        float t[8] __attribute__((aligned(32)));
        *(vc8 *)t = v;
        for (int j = 0; j < cols; j++) out[j] = t[j];
    }
}

/// The pointwise kernel's driver (pointwise.c): C = act(A · Wᵀ + bias (+ residual)) for m rows of
/// A, each `segments` runs of k floats `segmentStride` apart, W packed by vc_pointwise_pack
/// (n, segments · k); bias may be NULL (zero).
void vcPointwise(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda,
                 const float *packed, const float *bias, const float *residual, int ldr, int activation, float *c,
                 int ldc);

/// vcPointwise with weights packed by vc_bf16_pack (bf16.c): A rounded to bf16, products summed in fp32.
void vcPointwiseBF16(int m, int n, int k, int segments, size_t segmentStride, const float *a, int lda,
                     const uint16_t *packed, const float *bias, const float *residual, int ldr, int activation,
                     float *c, int ldc);

enum { VC_BASELINE = 0, VC_AVX2 = 1, VC_AVX512 = 2 };

/// The vector instructions the kernels use: the best this CPU has (AVX-512 F + VL, AVX2 + FMA, or
/// neither), capped by vc_limit_vector_instruction_set. Read on every call, so a cap applies at once.
int vcInstructionSet(void);

#define VC_EXPAND(...) __VA_ARGS__
// The instruction-set argument VC_MULTIVERSION_ISA's bodies take (WITH 1), or none (WITH 0).
#define VC_ISA_ARG_0(set)
#define VC_ISA_ARG_1(set) , set

#if defined(__x86_64__)
#define VC_MULTIVERSION_COPIES(name, params, args, WITH)                                               \
    static void name##Baseline params { name##Body(VC_EXPAND args VC_ISA_ARG_##WITH(VC_BASELINE)); }   \
    __attribute__((target("avx2,fma"))) static void name##AVX2 params {                                \
        name##Body(VC_EXPAND args VC_ISA_ARG_##WITH(VC_AVX2));                                         \
    }                                                                                                  \
    __attribute__((target("avx512f,avx512vl,fma"))) static void name##AVX512 params {                  \
        name##Body(VC_EXPAND args VC_ISA_ARG_##WITH(VC_AVX512));                                       \
    }                                                                                                  \
    static void name params {                                                                          \
        switch (vcInstructionSet()) {                                                                  \
        case VC_AVX512: name##AVX512 args; break;                                                      \
        case VC_AVX2: name##AVX2 args; break;                                                          \
        default: name##Baseline args; break;                                                           \
        }                                                                                              \
    }
#else
#define VC_MULTIVERSION_COPIES(name, params, args, WITH) \
    static void name params { name##Body(VC_EXPAND args VC_ISA_ARG_##WITH(VC_BASELINE)); }
#endif
#define VC_MULTIVERSION(name, params, args) VC_MULTIVERSION_COPIES(name, params, args, 0)
/// The same for a body whose last parameter is the instruction set its copy is compiled for (a
/// constant in each copy, so that code for the other sets' register counts folds away).
#define VC_MULTIVERSION_ISA(name, params, args) VC_MULTIVERSION_COPIES(name, params, args, 1)

#endif
