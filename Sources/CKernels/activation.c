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
