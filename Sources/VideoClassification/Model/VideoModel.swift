import Foundation
import NeuralNetwork
import Tensors
import VideoIO

/// A classifier model: its ``ModelCard`` and the network's weights, read from and written to one
/// `.safetensors` file.
public final class VideoModel: @unchecked Sendable {
    /// The model's description: architecture, labels, input specification and provenance.
    public let card: ModelCard
    /// The trainable network (training mode available).
    public let network: LRCN
    /// Where the model was read from, if anywhere.
    public let path: String?
    /// SHA-like short identity: the MD5 of the file's bytes (first 12 hex digits).
    public let hash: String

    /// A new model with freshly initialized weights.
    public init(card: ModelCard, seed: UInt64 = 0) {
        precondition(card.problem() == nil, card.problem() ?? "")
        self.card = card
        self.network = LRCN(card.architecture, seed: seed)
        self.path = nil
        self.hash = "untrained"
    }

    /// The largest model file read from a pipe or another non-regular file (regular files are
    /// memory-mapped, whatever their size).
    public static let maximumStreamedFileSize = 4 << 30

    /// Reads a model file.
    /// - Throws: ``VideoClassificationError`` with code `invalidModel` naming the problem.
    public convenience init(contentsOf path: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let reason = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw VideoClassificationError(.invalidModel, path: path, message: reason)
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw VideoClassificationError(.invalidModel, path: path, message: "it is a directory, not a model file")
        }
        let file: SafeTensorsFile
        do {
            // A regular file is memory-mapped (no copies of its bytes); pipes (`--model <(curl …)`)
            // and other special files are read through one descriptor up to what the header
            // declares, so a writer never sees its reader close early and an endless input ends.
            file = (status.st_mode & S_IFMT) == S_IFREG
                ? try SafeTensorsFile(path: path)
                : try SafeTensorsFile(readingFrom: path, limit: Self.maximumStreamedFileSize)
        } catch {
            throw VideoClassificationError(.invalidModel, path: path, message: "not a safetensors file: \(error)", underlying: error)
        }
        try self.init(file: file, path: path)
    }

    /// The card of the model file at `path`, read from the file's header alone (a few kilobytes),
    /// or nil when the header cannot be read or does not hold a valid card. Lets a caller set up
    /// decoding while the weights load; ``init(contentsOf:)`` gives the reasons a file is bad.
    /// Only regular files: reading a pipe's header would take bytes the full load needs.
    public static func card(atPath path: String) -> ModelCard? {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
              let header = try? SafeTensorsHeader.read(path: path) else { return nil }
        return ModelCard(metadata: header.metadata)
    }

    /// Reads a model from the bytes of a model file.
    public convenience init(bytes: [UInt8], path: String) throws {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(bytes: bytes)
        } catch {
            throw VideoClassificationError(.invalidModel, path: path, message: "not a safetensors file: \(error)", underlying: error)
        }
        try self.init(file: file, path: path)
    }

    /// Reads the model file linked into the binary (``DefaultModel``).
    convenience init(embedded bytes: UnsafeRawBufferPointer) throws {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(staticBytes: bytes)
        } catch {
            throw VideoClassificationError(.invalidModel, path: DefaultModel.name, message: "the embedded model is damaged: \(error)", underlying: error)
        }
        try self.init(file: file, path: DefaultModel.name, recordsPath: false)
    }

    /// Reads a model from a parsed model file.
    private init(file: SafeTensorsFile, path: String, recordsPath: Bool = true) throws {
        guard let json = file.metadata[ModelCard.metadataKey] else {
            throw VideoClassificationError(.invalidModel, path: path,
                                           message: "no '\(ModelCard.metadataKey)' description in the metadata (a bare PyTorch state_dict? see Tools/import_pytorch.py)")
        }
        let card: ModelCard
        do {
            card = try JSONDecoder().decode(ModelCard.self, from: Data(json.utf8))
        } catch {
            throw VideoClassificationError(.invalidModel, path: path, message: "the model description is not valid: \(error)")
        }
        if let problem = card.problem() {
            throw VideoClassificationError(.invalidModel, path: path, message: problem)
        }
        // Before building the network: a file must hold at least the weights its card describes.
        let held = file.tensors.values.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let needed = card.architecture.minimumParameterCount
        guard held >= needed else {
            throw VideoClassificationError(.invalidModel, path: path,
                                           message: "weights do not fit the architecture: the file holds \(held) values, the described network needs at least \(needed)")
        }
        self.card = card
        self.network = LRCN(card.architecture, initializingWeights: false)  // all of them are loaded next
        do {
            // A training checkpoint is a model file too: its optimizer state is not the model's.
            try network.load(from: file, ignoring: TrainingCheckpoint.tensorPrefix)
        } catch {
            throw VideoClassificationError(.invalidModel, path: path, message: "weights do not fit the architecture: \(error)")
        }
        self.path = recordsPath ? path : nil
        self.hash = String(file.withUnsafeFileBytes { MD5.hex(of: $0) }.prefix(12))
    }

    /// Copies weights from another model file (or a bare `state_dict` safetensors file) into this
    /// model: the encoder's, which must all be there with this model's shapes, then the recurrent
    /// layer's and the head's where they fit (a head for other labels stays new).
    /// - Throws: ``VideoClassificationError`` (`invalidModel`) when the file cannot be read or its
    ///   encoder does not fit.
    public func loadWeights(from path: String) throws {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: path) } catch {
            throw VideoClassificationError(.invalidModel, path: path, message: "cannot read it as safetensors: \(error)")
        }
        do {
            try network.encoder.load(from: file, prefix: "encoder", strict: false)
        } catch {
            throw VideoClassificationError(.invalidModel, path: path, message: "its encoder does not fit this model's: \(error)")
        }
        try? network.lstm.load(from: file, prefix: "lstm", strict: false)
        let sameLabels = file.metadata[ModelCard.metadataKey]
            .flatMap { try? JSONDecoder().decode(ModelCard.self, from: Data($0.utf8)) }?.labels == card.labels
        if sameLabels { try? network.fc.load(from: file, prefix: "fc", strict: false) }
    }

    /// The safetensors bytes of the model (weights F32, the card in the metadata), with a training
    /// checkpoint's state beside them when given.
    public func encoded(card: ModelCard? = nil, checkpoint: TrainingCheckpoint? = nil) throws -> [UInt8] {
        let json = String(decoding: try JSONEncoder.sorted.encode(card ?? self.card), as: UTF8.self)
        let metadata = [ModelCard.metadataKey: json].merging(checkpoint?.metadata ?? [:]) { a, _ in a }
        return SafeTensors.encode(network.stateTensors() + (checkpoint?.tensors ?? []), metadata: metadata)
    }

    /// Writes the model file atomically: the bytes go to a temporary file, which is flushed to disk
    /// and renamed over `path` (`rename(2)`), so `path` always holds either the old file or the whole
    /// new one. With `checkpoint`, a training checkpoint (still a model file `classify` and `info` read).
    public func save(to path: String, card: ModelCard? = nil, checkpoint: TrainingCheckpoint? = nil) throws {
        let bytes = try encoded(card: card, checkpoint: checkpoint)
        do {
            try AtomicFile.write(bytes, to: path, durable: true)
        } catch {
            throw VideoClassificationError(.ioError, path: path, message: "cannot write the model file: \(error)")
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
