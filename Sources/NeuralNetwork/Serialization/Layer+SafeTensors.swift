import Foundation
import Tensors

extension Layer {
    /// Loads parameters and buffers by `state_dict` name (with optional `prefix.`) from a safetensors file.
    ///
    /// BatchNorm's `num_batches_tracked` is ignored. With `strict`, tensors in the file that the layer
    /// does not have are an error, except those under `ignoring` (a name prefix, e.g. a checkpoint's
    /// `training.` state).
    /// - Throws: ``SafeTensorsError/missingTensor(name:)``, ``SafeTensorsError/shapeMismatch(name:expected:found:)``,
    ///   ``SafeTensorsError/unexpectedTensors(names:)`` or a conversion error. Nothing is modified on error.
    public func load(from file: SafeTensorsFile, prefix: String = "", strict: Bool = true,
                     ignoring ignoredPrefix: String? = nil) throws(SafeTensorsError) {
        let state = stateDictionary()
        var loaded: [(Parameter, Tensor)] = []
        for (name, p) in state {
            let key = prefix.isEmpty ? name : "\(prefix).\(name)"
            guard let info = file.tensors[key] else { throw .missingTensor(name: key) }
            guard info.shape == p.value.shape else {
                throw .shapeMismatch(name: key, expected: p.value.shape, found: info.shape)
            }
            loaded.append((p, try file.tensor(named: key)))
        }
        if strict {
            let known = Set(state.map { prefix.isEmpty ? $0.0 : "\(prefix).\($0.0)" })
            let extra = file.names.filter {
                !known.contains($0) && !$0.hasSuffix("num_batches_tracked") && (prefix.isEmpty || $0.hasPrefix(prefix + "."))
                    && !(ignoredPrefix.map($0.hasPrefix) ?? false)
            }
            if !extra.isEmpty { throw .unexpectedTensors(names: extra) }
        }
        for (p, t) in loaded { p.value = t }
    }

    /// Parameters and buffers as `(name, tensor)` pairs ready for ``SafeTensors/write(_:metadata:to:)``.
    public func stateTensors(prefix: String = "") -> [(String, Tensor)] {
        stateDictionary().map { (prefix.isEmpty ? $0.0 : "\(prefix).\($0.0)", $0.1.value) }
    }
}
