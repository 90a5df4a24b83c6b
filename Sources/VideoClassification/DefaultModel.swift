import CDefaultModel
import Foundation
import NeuralNetwork

/// The model that ships inside the package, its file's bytes linked into every binary that uses
/// this library (trained by `vidclass train` on `vidclass synth` data; the README has the commands).
///
/// No resource bundle and no file: a copied or installed executable keeps its default model.
public enum DefaultModel {
    /// How errors and `info` name the default model.
    public static let name = "<default model>"

    /// The model file's bytes (a safetensors file), valid for the life of the program.
    public static var fileBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: vidclass_default_model_bytes(), count: vidclass_default_model_size())
    }

    /// The default model's card, read from the header alone; nil if the embedded file is damaged.
    public static var card: ModelCard? {
        (try? SafeTensorsFile(staticBytes: fileBytes)).flatMap { ModelCard(metadata: $0.metadata) }
    }

    /// Loads the default model.
    /// - Throws: ``VideoClassificationError`` (`invalidModel`) when this build has no usable embedded
    ///   model; never traps.
    public static func load() throws -> VideoModel {
        guard fileBytes.count > 0 else {
            throw VideoClassificationError(.invalidModel, path: name, message: "this build has no embedded default model; pass --model")
        }
        return try VideoModel(embedded: fileBytes)
    }
}
