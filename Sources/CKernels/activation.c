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

// The logistic function and tanh on 16 lanes, from vcExponential16 (tanh x = 1 − 2 / (1 + e^2x):
// within about 1e-7 of tanhf, ±1 at the extremes).
__attribute__((always_inline)) static inline vc16 sigmoid16(vc16 x) { return 1.0f / (1.0f + vcExponential16(-x)); }
__attribute__((always_inline)) static inline vc16 tanh16(vc16 x) { return 1.0f - 2.0f / (1.0f + vcExponential16(x + x)); }

// Sixteen units of an LSTM step from lane `j` on (`lanes` of them valid; the rest read and written
// through 16-float copies).
__attribute__((always_inline))
static inline void lstmLanes(int hidden, int j, int lanes, const float *restrict inputGates,
                             const float *restrict hiddenGates, const float *restrict bias, float *restrict cell,
                             float *restrict out) {
    vc16 pre[4], c;
    for (int q = 0; q < 4; q++) {
        size_t at = (size_t)q * hidden + j;
        if (lanes == 16) {
            pre[q] = *(const vc16 *)(inputGates + at) + *(const vc16 *)(hiddenGates + at) + *(const vc16 *)(bias + at);
        } else {
            pre[q] = vcLoadPartial16(inputGates + at, lanes) + vcLoadPartial16(hiddenGates + at, lanes)
                + vcLoadPartial16(bias + at, lanes);
        }
    }
    c = lanes == 16 ? *(const vc16 *)(cell + j) : vcLoadPartial16(cell + j, lanes);
    c = sigmoid16(pre[1]) * c + sigmoid16(pre[0]) * tanh16(pre[2]);
    vc16 h = sigmoid16(pre[3]) * tanh16(c);
    if (lanes == 16) {
        *(vc16 *)(cell + j) = c;
        *(vc16 *)(out + j) = h;
    } else {
        float cs[16] __attribute__((aligned(64))), hs[16] __attribute__((aligned(64)));
        *(vc16 *)cs = c;
        *(vc16 *)hs = h;
        for (int l = 0; l < lanes; l++) {
            cell[j + l] = cs[l];
            out[j + l] = hs[l];
        }
    }
}

__attribute__((always_inline))
static inline void lstmCellBody(int hidden, const float *restrict inputGates, const float *restrict hiddenGates,
                                const float *restrict bias, float *restrict cell, float *restrict out) {
    int j = 0;
    for (; j + 16 <= hidden; j += 16) lstmLanes(hidden, j, 16, inputGates, hiddenGates, bias, cell, out);
    if (j < hidden) lstmLanes(hidden, j, hidden - j, inputGates, hiddenGates, bias, cell, out);
}

VC_MULTIVERSION(lstmCell, (int hidden, const float *inputGates, const float *hiddenGates, const float *bias, float *cell,
                           float *out),
                (hidden, inputGates, hiddenGates, bias, cell, out))

void vc_lstm_cell(int hidden, const float *inputGates, const float *hiddenGates, const float *bias, float *cell,
                  float *out) {
    lstmCell(hidden, inputGates, hiddenGates, bias, cell, out);
}

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
