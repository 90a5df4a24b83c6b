// Elementwise activations (see include/CKernels.h), vectorized by the
// compiler once per instruction set (kernels.h's VC_MULTIVERSION).

#include "CKernels.h"
#include "kernels.h"

__attribute__((always_inline))
static inline void activateBody(float *restrict y, size_t n, int activation) { vcActivate(y, n, activation); }

VC_MULTIVERSION(activate, (float *y, size_t n, int activation), (y, n, activation))

void vc_activate(float *y, size_t n, int activation) { activate(y, n, activation); }

const char *vc_vector_instruction_set(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2+fma";
#endif
    return "baseline";
}
