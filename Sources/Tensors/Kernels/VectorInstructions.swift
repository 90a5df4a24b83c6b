import CKernels

/// The vector instructions vidclass's own kernels use, chosen at run time from what the CPU has.
///
/// The kernels (1×1 and depthwise convolutions, activations, squeeze-and-excitation, recurrent
/// steps) are compiled for AVX-512, for AVX2 with FMA and for any other CPU, and each call takes the
/// best the CPU supports. ``limit(to:)`` caps the choice, so that one machine can run, and test,
/// every path; the environment variable `VIDCLASS_VECTOR_ISA` (`avx512`, `avx2` or `baseline`) sets
/// the same cap for a whole process. The matrix product (an AVX2 + FMA kernel, OpenBLAS below it)
/// chooses once, at its first use: the environment variable caps it, and ``limit(to:)`` does only
/// when called before any model runs.
public enum VectorInstructions: String, CaseIterable, Sendable {
    /// AVX-512 F and VL (for example AMD Zen 4, Intel Ice Lake and later).
    case avx512
    /// AVX2 with FMA (for example AMD Zen 3, Intel Haswell and later).
    case avx2
    /// Neither: the compiler's portable vectors.
    case baseline

    /// The instructions the kernels use now: the best this CPU has, within any limit set.
    public static var current: VectorInstructions {
        switch String(cString: vc_vector_instruction_set()) {
        case "avx512": .avx512
        case "avx2+fma": .avx2
        default: .baseline
        }
    }

    /// Caps the instructions the kernels use at `limit` (a CPU without them keeps its best). Takes
    /// effect at the next call of each kernel, on every thread.
    public static func limit(to limit: VectorInstructions) {
        _ = vc_limit_vector_instruction_set(limit.rawValue)
    }
}
