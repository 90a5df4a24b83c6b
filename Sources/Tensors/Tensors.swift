// Placeholder: the tensor library lands with the neural-network issue.
