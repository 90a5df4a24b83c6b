import CKernels
import Foundation
import Testing
@testable import Tensors

/// The vectorized LSTM step (`vc_lstm_cell`) against PyTorch's formulas in Float64, for hidden
/// sizes with and without a last partial vector, pre-activations from small to saturating; nothing
/// written past the hidden size.
@Suite struct LSTMCellKernelTests {
    @Test(arguments: [1, 5, 16, 37, 256])
    func lstmCellMatchesTheFormulas(hidden: Int) {
        var rng = SplitMix64(seed: UInt64(hidden))
        let inputGates = Tensor.normal(shape: [4 * hidden], std: 3, using: &rng).scalars
        let hiddenGates = Tensor.normal(shape: [4 * hidden], std: 3, using: &rng).scalars
        let bias = Tensor.normal(shape: [4 * hidden], using: &rng).scalars
        let cell0 = Tensor.normal(shape: [hidden], std: 2, using: &rng).scalars
        let sentinel: Float = 12345
        var cell = cell0 + [sentinel], out = [Float](repeating: sentinel, count: hidden + 1)
        vc_lstm_cell(Int32(hidden), inputGates, hiddenGates, bias, &cell, &out)
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        var worst = 0.0
        for j in 0..<hidden {
            func pre(_ q: Int) -> Double {
                Double(inputGates[q * hidden + j]) + Double(hiddenGates[q * hidden + j]) + Double(bias[q * hidden + j])
            }
            let c = sigmoid(pre(1)) * Double(cell0[j]) + sigmoid(pre(0)) * tanh(pre(2))
            let h = sigmoid(pre(3)) * tanh(c)
            worst = max(worst, abs(Double(cell[j]) - c), abs(Double(out[j]) - h))
        }
        #expect(worst <= 1e-6, "largest difference \(worst)")
        #expect(cell[hidden] == sentinel && out[hidden] == sentinel, "written past the hidden size")
    }
}
