// Placeholder: the layers land with the neural-network issue.
import Tensors
