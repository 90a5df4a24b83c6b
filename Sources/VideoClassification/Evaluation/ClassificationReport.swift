/// Classification metrics from true and predicted labels (and the scores behind them).
public struct ClassificationReport: Sendable, Codable {
    /// One class's metrics.
    public struct ClassMetrics: Sendable, Codable {
        /// The class name.
        public var label: String
        /// Of the clips predicted as this class, the fraction that are (0 to 1; 0 when none was predicted).
        public var precision: Double
        /// Of the clips of this class, the fraction predicted as it (0 to 1; 0 when the class has no clips).
        public var recall: Double
        /// The harmonic mean of precision and recall (0 to 1).
        public var f1: Double
        /// Clips of this class in the data.
        public var support: Int
    }

    /// A clip whose top prediction was wrong.
    public struct Miss: Sendable, Codable {
        /// The clip's file.
        public var path: String
        /// Its true label.
        public var truth: String
        /// The label predicted for it.
        public var predicted: String
        /// The predicted label's probability (0 to 1).
        public var confidence: Double
    }

    /// One clip's outcome: what it is, what the model said, and the frames it looked at.
    public struct Clip: Sendable, Codable {
        /// The clip's file.
        public var path: String
        /// Its true label.
        public var truth: String
        /// The most probable label.
        public var predicted: String
        /// The predicted label's probability (0 to 1).
        public var confidence: Double
        /// The frames the model used (index and time), when known.
        public var frames: [UsedFrame]?
        /// With test-time averaging, each clip's frame indices (``Prediction/clips``); nil for one clip.
        public var clips: [[Int]]?
        /// For a stretch of a long video (an annotated interval): where it starts, in seconds.
        public var start: Double?
        /// Where the stretch ends, in seconds.
        public var end: Double?
    }

    /// The class names, in the model's order (the rows and columns of ``confusion``).
    public var labels: [String]
    /// Clips scored.
    public var count: Int
    /// Fraction of clips whose most probable label is the true one (0 to 1).
    public var top1: Double
    /// Fraction of clips whose true label is among the five most probable (0 to 1).
    public var top5: Double
    /// The mean of the per-class recalls.
    public var meanClassAccuracy: Double
    /// Precision, recall, F1 and support per class, in ``labels`` order.
    public var perClass: [ClassMetrics]
    /// `confusion[truth][predicted]` counts.
    public var confusion: [[Int]]
    /// The clips predicted wrong, most confident first.
    public var misclassified: [Miss]
    /// Every clip scored, in input order (nil in reports written before vidclass 0.2): what
    /// `vidclass report` opens from each cell of the confusion matrix.
    public var clips: [Clip]?
    /// The arithmetic of the network's convolutions when it was not single precision (`bf16`:
    /// ``VideoClassifier/precision``); nil for single precision.
    public var inferencePrecision: String?

    /// Scores one prediction per clip against its true label.
    /// - Parameters:
    ///   - labels: the class names, in the model's order; indices in `truths` refer to it.
    ///   - truths: true class index per clip.
    ///   - probabilities: per clip, a probability per class (model order).
    ///   - paths: per clip, its file, used to name ``misclassified`` clips.
    ///   - frames: per clip, the frames the model used (recorded in ``clips``), or nil.
    public init(labels: [String], truths: [Int], probabilities: [[Double]], paths: [String], frames: [[UsedFrame]]? = nil) {
        precondition(truths.count == probabilities.count && truths.count == paths.count, "one row per clip")
        precondition(frames == nil || frames!.count == truths.count, "one frame list per clip")
        let k = labels.count
        var confusion = Array(repeating: Array(repeating: 0, count: k), count: k)
        var top5Hits = 0
        var misses: [Miss] = []
        var clips: [Clip] = []
        for (i, truth) in truths.enumerated() {
            let row = probabilities[i]
            let order = row.indices.sorted { row[$0] > row[$1] }
            let predicted = order[0]
            confusion[truth][predicted] += 1
            if order.prefix(5).contains(truth) { top5Hits += 1 }
            clips.append(Clip(path: paths[i], truth: labels[truth], predicted: labels[predicted], confidence: row[predicted],
                              frames: frames?[i]))
            if predicted != truth {
                misses.append(Miss(path: paths[i], truth: labels[truth], predicted: labels[predicted], confidence: row[predicted]))
            }
        }
        let n = truths.count
        let correct = (0..<k).map { confusion[$0][$0] }.reduce(0, +)
        var perClass: [ClassMetrics] = []
        var recalls: [Double] = []
        for c in 0..<k {
            let support = confusion[c].reduce(0, +)
            let predictedCount = (0..<k).map { confusion[$0][c] }.reduce(0, +)
            let tp = Double(confusion[c][c])
            let precision = predictedCount > 0 ? tp / Double(predictedCount) : 0
            let recall = support > 0 ? tp / Double(support) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            perClass.append(ClassMetrics(label: labels[c], precision: precision, recall: recall, f1: f1, support: support))
            if support > 0 { recalls.append(recall) }
        }
        self.labels = labels
        self.count = n
        self.top1 = n > 0 ? Double(correct) / Double(n) : 0
        self.top5 = n > 0 ? Double(top5Hits) / Double(n) : 0
        self.meanClassAccuracy = recalls.isEmpty ? 0 : recalls.reduce(0, +) / Double(recalls.count)
        self.perClass = perClass
        self.confusion = confusion
        self.misclassified = misses.sorted { $0.confidence > $1.confidence }
        self.clips = clips
    }

    /// The confusion matrix as aligned text (rows: truth, columns: predicted).
    public var confusionText: String {
        let width = max(5, (labels.map(\.count).max() ?? 0))
        let cell = max(4, String(confusion.flatMap { $0 }.max() ?? 0).count + 1)
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            s.count >= n ? s : (left ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
        }
        var lines = [pad("truth \\ predicted", width) + labels.indices.map { pad("[\($0)]", cell, left: true) }.joined()]
        for (i, row) in confusion.enumerated() {
            lines.append(pad("[\(i)] " + labels[i], width) + row.map { pad(String($0), cell, left: true) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
