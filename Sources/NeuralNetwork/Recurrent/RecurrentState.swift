import Tensors

/// Hidden (and, for LSTM, cell) state of a recurrent layer: each `[layers · directions, batch, hidden]`,
/// ordered like PyTorch's `h_n`/`c_n` (layer-major, forward direction before reverse).
public struct RecurrentState: Sendable {
    /// The hidden state `h`, `[layers · directions, batch, hidden]`.
    public var hidden: Tensor
    /// The LSTM cell state `c`, same shape; nil for GRU and RNN.
    public var cell: Tensor?

    /// A state; `cell` is needed for LSTM only.
    public init(hidden: Tensor, cell: Tensor? = nil) {
        self.hidden = hidden
        self.cell = cell
    }
}
