// Elementwise activations and squeeze-and-excitation (see include/CKernels.h), vectorized by the
// compiler once per instruction set (kernels.h's VC_MULTIVERSION).

#include "CKernels.h"
#include "kernels.h"

__attribute__((always_inline))
static inline void activateBody(float *restrict y, size_t n, int activation) { vcActivate(y, n, activation); }

VC_MULTIVERSION(activate, (float *y, size_t n, int activation), (y, n, activation))

void vc_activate(float *y, size_t n, int activation) { activate(y, n, activation); }

// Squeeze-and-excitation of one image (see include/CKernels.h).
__attribute__((always_inline))
static inline void squeezeExciteBody(const float *restrict x, float *restrict y, int c, int hw, const float *restrict w1,
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
    vcActivate(hidden, (size_t)s, activation);
    for (int ch = 0; ch < c; ch++) {
        const float *restrict row = w2 + (size_t)ch * s;
        float sum = b2[ch];
        for (int i = 0; i < s; i++) sum += row[i] * hidden[i];
        scale[ch] = sum;
    }
    vcActivate(scale, (size_t)c, gate);
    for (int ch = 0; ch < c; ch++) {
        const float *restrict in = x + (size_t)ch * hw;
        float *restrict out = y + (size_t)ch * hw;
        float g = scale[ch];
        for (int j = 0; j < hw; j++) out[j] = in[j] * g;
    }
}

VC_MULTIVERSION(squeezeExcite, (const float *x, float *y, int c, int hw, const float *w1, const float *b1, int s,
                                const float *w2, const float *b2, int activation, int gate, float *scratch),
                (x, y, c, hw, w1, b1, s, w2, b2, activation, gate, scratch))

void vc_squeeze_excite(const float *x, float *y, int c, int hw, const float *w1, const float *b1, int s,
                       const float *w2, const float *b2, int activation, int gate, float *scratch) {
    squeezeExcite(x, y, c, hw, w1, b1, s, w2, b2, activation, gate, scratch);
}

const char *vc_vector_instruction_set(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2+fma";
#endif
    return "baseline";
}
