// Elementwise activations (see include/CKernels.h), vectorized by the
// compiler once per instruction set (kernels.h's VC_MULTIVERSION).

#include "CKernels.h"
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

__attribute__((always_inline))
static inline void activateBody(float *restrict y, size_t n, int activation) { vcActivate(y, n, activation); }

VC_MULTIVERSION(activate, (float *y, size_t n, int activation), (y, n, activation))

void vc_activate(float *y, size_t n, int activation) { activate(y, n, activation); }

static int cpuInstructionSet(void) {
    static int cached = -1;
    int best = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (best < 0) {
        best = VC_BASELINE;
#if defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) best = VC_AVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = VC_AVX2;
#endif
        __atomic_store_n(&cached, best, __ATOMIC_RELAXED);
    }
    return best;
}

// The cap: VC_AVX512 (none) unless set by vc_limit_vector_instruction_set or VIDCLASS_VECTOR_ISA.
static int limit = -1;

static int parseInstructionSet(const char *name) {
    if (name == NULL) return -1;
    if (strcmp(name, "avx512") == 0) return VC_AVX512;
    if (strcmp(name, "avx2") == 0 || strcmp(name, "avx2+fma") == 0) return VC_AVX2;
    if (strcmp(name, "baseline") == 0) return VC_BASELINE;
    return -1;
}

int vcInstructionSet(void) {
    int cap = __atomic_load_n(&limit, __ATOMIC_RELAXED);
    if (cap < 0) {
        cap = parseInstructionSet(getenv("VIDCLASS_VECTOR_ISA"));
        if (cap < 0) cap = VC_AVX512;
        __atomic_store_n(&limit, cap, __ATOMIC_RELAXED);
    }
    int best = cpuInstructionSet();
    return best < cap ? best : cap;
}

int vc_limit_vector_instruction_set(const char *name) {
    int cap = parseInstructionSet(name);
    if (cap < 0) return -1;
    __atomic_store_n(&limit, cap, __ATOMIC_RELAXED);
    return 0;
}

const char *vc_vector_instruction_set(void) {
    switch (vcInstructionSet()) {
    case VC_AVX512: return "avx512";
    case VC_AVX2: return "avx2+fma";
    default: return "baseline";
    }
}
