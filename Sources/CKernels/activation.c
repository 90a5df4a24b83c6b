// Elementwise activations (see include/CKernels.h), vectorized by the compiler once per
// instruction set (AVX-512, AVX2 + FMA, baseline), chosen at run time. The exponential of SiLU and
// the sigmoid is Cephes' single-precision polynomial (within 2 ulp of expf), which vectorizes
// where a call to expf does not.

#include "CKernels.h"

#include <stddef.h>
#include <string.h>

__attribute__((always_inline))
static inline float exponential(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * (r * r) + r + 1.0f;
    int bits = ((int)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return e * scale;
}

__attribute__((always_inline))
static inline void activate(float *restrict y, size_t n, int activation) {
    switch (activation) {
    case 1: for (size_t i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0; break;
    case 2: for (size_t i = 0; i < n; i++) { float v = y[i] > 0 ? y[i] : 0; y[i] = v < 6 ? v : 6; } break;
    case 3: for (size_t i = 0; i < n; i++) {
                float v = y[i] + 3; v = v > 0 ? v : 0; v = v < 6 ? v : 6; y[i] = y[i] * v * (1.0f / 6);
            } break;
    case 4: for (size_t i = 0; i < n; i++) {
                float v = y[i] + 3; v = v > 0 ? v : 0; v = v < 6 ? v : 6; y[i] = v * (1.0f / 6);
            } break;
    case 5: for (size_t i = 0; i < n; i++) y[i] = y[i] / (1 + exponential(-y[i])); break;
    case 6: for (size_t i = 0; i < n; i++) y[i] = 1 / (1 + exponential(-y[i])); break;
    default: break;
    }
}

typedef void (*ActivateFunction)(float *, size_t, int);

static void activateBaseline(float *y, size_t n, int activation) { activate(y, n, activation); }

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void activateAVX2(float *y, size_t n, int activation) { activate(y, n, activation); }

__attribute__((target("avx512f,avx512vl,fma")))
static void activateAVX512(float *y, size_t n, int activation) { activate(y, n, activation); }
#endif

void vc_activate(float *y, size_t n, int activation) {
    static ActivateFunction chosen = 0;
    ActivateFunction f = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (!f) {
        f = activateBaseline;
#if defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) f = activateAVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f = activateAVX2;
#endif
        __atomic_store_n(&chosen, f, __ATOMIC_RELAXED);
    }
    f(y, n, activation);
}

// Squeeze-and-excitation of one image (see include/CKernels.h).
__attribute__((always_inline))
static inline void squeezeExcite(const float *restrict x, float *restrict y, int c, int hw, const float *restrict w1,
                                 const float *restrict b1, int s, const float *restrict w2, const float *restrict b2,
                                 int activation, int gate, float *restrict scratch) {
    float *restrict means = scratch, *restrict hidden = scratch + c, *restrict scale = scratch + c + s;
    float inverse = 1.0f / (float)hw;
    for (int ch = 0; ch < c; ch++) {
        const float *restrict row = x + (size_t)ch * hw;
        float sum = 0;
        for (int j = 0; j < hw; j++) sum += row[j];
        means[ch] = sum * inverse;
    }
    for (int i = 0; i < s; i++) {
        const float *restrict row = w1 + (size_t)i * c;
        float sum = b1[i];
        for (int ch = 0; ch < c; ch++) sum += row[ch] * means[ch];
        hidden[i] = sum;
    }
    activate(hidden, (size_t)s, activation);
    for (int ch = 0; ch < c; ch++) {
        const float *restrict row = w2 + (size_t)ch * s;
        float sum = b2[ch];
        for (int i = 0; i < s; i++) sum += row[i] * hidden[i];
        scale[ch] = sum;
    }
    activate(scale, (size_t)c, gate);
    for (int ch = 0; ch < c; ch++) {
        const float *restrict in = x + (size_t)ch * hw;
        float *restrict out = y + (size_t)ch * hw;
        float g = scale[ch];
        for (int j = 0; j < hw; j++) out[j] = in[j] * g;
    }
}

typedef void (*SqueezeFunction)(const float *, float *, int, int, const float *, const float *, int, const float *,
                                const float *, int, int, float *);

static void squeezeBaseline(const float *x, float *y, int c, int hw, const float *w1, const float *b1, int s,
                            const float *w2, const float *b2, int activation, int gate, float *scratch) {
    squeezeExcite(x, y, c, hw, w1, b1, s, w2, b2, activation, gate, scratch);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void squeezeAVX2(const float *x, float *y, int c, int hw, const float *w1, const float *b1, int s,
                        const float *w2, const float *b2, int activation, int gate, float *scratch) {
    squeezeExcite(x, y, c, hw, w1, b1, s, w2, b2, activation, gate, scratch);
}

__attribute__((target("avx512f,avx512vl,fma")))
static void squeezeAVX512(const float *x, float *y, int c, int hw, const float *w1, const float *b1, int s,
                          const float *w2, const float *b2, int activation, int gate, float *scratch) {
    squeezeExcite(x, y, c, hw, w1, b1, s, w2, b2, activation, gate, scratch);
}
#endif

void vc_squeeze_excite(const float *x, float *y, int c, int hw, const float *w1, const float *b1, int s,
                       const float *w2, const float *b2, int activation, int gate, float *scratch) {
    static SqueezeFunction chosen = 0;
    SqueezeFunction f = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (!f) {
        f = squeezeBaseline;
#if defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) f = squeezeAVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f = squeezeAVX2;
#endif
        __atomic_store_n(&chosen, f, __ATOMIC_RELAXED);
    }
    f(x, y, c, hw, w1, b1, s, w2, b2, activation, gate, scratch);
}
