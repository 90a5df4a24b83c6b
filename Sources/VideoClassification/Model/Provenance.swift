import Foundation

/// Where a model came from.
public struct Provenance: Codable, Sendable, Equatable {
    /// The dataset the model was trained on, as given to training (a folder or a CSV path).
    public var dataset: String?
    /// A hash of the dataset's file list and sizes.
    public var datasetHash: String?
    /// When training started, as ISO 8601 in UTC (`2026-11-23T06:21:18Z`).
    public var date: String?
    /// Epochs trained.
    public var epochs: Int?
    /// Final metrics (e.g. `validation_accuracy`).
    public var metrics: [String: Double]
    /// The vidclass version that trained the model.
    public var vidclassVersion: String?
    /// The training options, as given.
    public var recipe: [String: String]

    /// A provenance record; every parameter sets the property of the same name.
    public init(dataset: String? = nil, datasetHash: String? = nil, date: String? = nil, epochs: Int? = nil,
                metrics: [String: Double] = [:], vidclassVersion: String? = nil, recipe: [String: String] = [:]) {
        self.dataset = dataset
        self.datasetHash = datasetHash
        self.date = date
        self.epochs = epochs
        self.metrics = metrics
        self.vidclassVersion = vidclassVersion
        self.recipe = recipe
    }
}
