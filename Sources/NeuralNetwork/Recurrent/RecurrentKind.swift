/// The recurrence of a ``Recurrent`` layer, with PyTorch's gate layout.
public enum RecurrentKind: String, Sendable, Codable, CaseIterable {
    /// Long short-term memory, gates `i, f, g, o` (`nn.LSTM`).
    case lstm
    /// Gated recurrent unit, gates `r, z, n` with `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))` (`nn.GRU`).
    case gru
    /// Elman RNN with tanh (`nn.RNN(nonlinearity="tanh")`).
    case rnnTanh = "rnn_tanh"
    /// Elman RNN with ReLU (`nn.RNN(nonlinearity="relu")`).
    case rnnReLU = "rnn_relu"

    /// Number of stacked gate blocks in the weight matrices.
    public var gateCount: Int {
        switch self {
        case .lstm: 4
        case .gru: 3
        case .rnnTanh, .rnnReLU: 1
        }
    }
}
