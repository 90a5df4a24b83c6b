import CKernels

/// The arithmetic of an inference snapshot's convolutions.
///
/// In ``bfloat16``, the weights of the convolutions that gain from it (more than 32 outputs and at
/// least 24 inputs per output: the products whose multiply-adds outweigh rounding their input) are
/// rounded to bfloat16 once, when the snapshot is made, and their input when they run: 8
/// significant bits instead of 24, the exponent range of `Float` kept. The products are summed in
/// single precision, and everything else (narrower convolutions, depthwise convolutions,
/// squeeze-and-excitation, bias, residual additions, activations, pooling, the recurrent layer and
/// the head) stays in single precision. On a CPU with AVX-512 BF16 (AMD Zen 4, Intel Cooper Lake
/// and Sapphire Rapids and later) the products use its `VDPBF16PS` instruction, which does two
/// multiply-adds per lane where an fp32 FMA does one, from weights half the size:
/// ``bfloat16IsNative`` tells. On any other CPU the same rounded values are multiplied in single
/// precision, which gives the same results (to within the order of the additions, and values under
/// 2⁻¹²⁶, which the AVX-512 instructions treat as zero) and is slower than ``float32``: it is there
/// so that a model behaves the same everywhere.
public enum InferencePrecision: String, CaseIterable, Sendable {
    /// Single precision throughout: the numbers PyTorch gives, to within the order of the additions.
    case float32 = "fp32"
    /// The convolutions' weights and inputs in bfloat16, their products summed in single precision.
    case bfloat16 = "bf16"

    /// Whether ``bfloat16`` runs on this CPU's own bfloat16 instructions (AVX-512 BF16, with the
    /// kernels' instruction set not capped below AVX-512: `VectorInstructions`).
    public static var bfloat16IsNative: Bool { vc_bf16_native() != 0 }

    /// `value` rounded to the nearest bfloat16 (ties to even), as the ``bfloat16`` path rounds
    /// weights and inputs (values under 2⁻¹²⁶ are kept here; the AVX-512 BF16 path makes them zero).
    public static func roundedToBFloat16(_ value: Float) -> Float { vc_bf16_round(value) }
}
