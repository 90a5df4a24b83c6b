import Tensors

/// Hidden (and, for LSTM, cell) state of a recurrent layer: each `[layers · directions, batch, hidden]`,
/// ordered like PyTorch's `h_n`/`c_n` (layer-major, forward direction before reverse).
public struct RecurrentState: Sendable {
    public var hidden: Tensor
    public var cell: Tensor?

    public init(hidden: Tensor, cell: Tensor? = nil) {
        self.hidden = hidden
        self.cell = cell
    }
}
