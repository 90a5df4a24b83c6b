import Foundation

/// Where a model came from.
public struct Provenance: Codable, Sendable, Equatable {
    public var dataset: String?
    /// A hash of the dataset's file list and sizes.
    public var datasetHash: String?
    public var date: String?
    public var epochs: Int?
    /// Final metrics (e.g. `validation_accuracy`).
    public var metrics: [String: Double]
    public var vidclassVersion: String?
    /// The training options, as given.
    public var recipe: [String: String]

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
