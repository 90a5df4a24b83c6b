import Foundation
import NeuralNetwork
import VidclassConcurrency
import Tensors
import Testing
import VideoClassification
import VidclassTestSupport

/// What the commands do, called as the library: train, evaluate, label and timelines, without the
/// binary.
struct LibraryAPITests {
    /// The tiny recipe of the CLI tests: 4 steps of 16², difference input, LSTM(16).
    static func configuration(dataset: String, output: String?) -> TrainingConfiguration {
        var c = TrainingConfiguration(dataset: dataset, output: output)
        c.input = InputSpecification(representation: .diff, framesPerClip: 4, size: 16, shortSide: 20)
        c.hidden = 16
        c.validationFraction = 0.25
        c.options.batchSize = 4
        c.options.epochs = 2
        c.options.seed = 3
        return c
    }

    final class Events: Sendable {
        let all = Locked<[TrainingProgress]>([])
        func record(_ event: TrainingProgress) { all.withLock { $0.append(event) } }
        var notices: [String] { all.withLock { $0.compactMap { if case .notice(let s) = $0 { s } else { nil } } } }
        var epochs: [Int] { all.withLock { $0.compactMap { if case .training(.epoch(let s, _), _, _) = $0 { s.epoch } else { nil } } } }
    }

    @Test func aTrainingRunWritesAModelThatEvaluationScores() throws {
        let dataset = try TrainingCommandTests.makeDataset()
        let model = try TestPaths.temporaryDirectory("lib-train").appendingPathComponent("m.safetensors").path
        let events = Events()
        let result = try TrainingRun(Self.configuration(dataset: dataset, output: model)).run(progress: events.record)
        #expect(result.output == model && FileManager.default.fileExists(atPath: model))
        #expect(!FileManager.default.fileExists(atPath: model + ".checkpoint"), "the checkpoint goes once training ends")
        #expect(result.history.map(\.epoch) == [1, 2] && events.epochs == [1, 2])
        #expect(result.failures == [dataset + "/left/broken.mp4"])
        #expect(events.notices.contains { $0.hasPrefix("skipped \(dataset)/left/broken.mp4") }, "\(events.notices)")
        #expect(result.trainingClips + result.validationClips == 8 && (1..<8).contains(result.validationClips), "\(result.validationClips) validation clips")
        #expect(result.metrics["validation_accuracy"] != nil && result.metrics["train_loss"] != nil)

        let trained = try VideoModel(contentsOf: model)
        #expect(trained.card.labels == ["left", "right"] && trained.card.provenance?.epochs == 2)
        #expect(trained.card.provenance?.vidclassVersion == vidclassVersion)
        let evaluation = try Evaluation.run(dataset: VideoDataset.load(dataset), classifier: VideoClassifier(model: trained))
        #expect(evaluation.report.count == 8)
        #expect(evaluation.skipped.map(\.path) == [dataset + "/left/broken.mp4"])
        #expect(evaluation.report.confusion.flatMap { $0 }.reduce(0, +) == 8)
    }

    /// The hand-made model that says "right" at 75 %: known numbers through the library.
    @Test func evaluationGivesKnownNumbersAndDrawsTheMatrix() throws {
        let dataset = try VideoDataset.load(TrainingCommandTests.makeDataset())
        let model = VideoModel(card: tinyCard(labels: ["left", "right"]))
        for (name, parameter) in model.network.namedParameters() {
            parameter.value = name == "fc.bias" ? Tensor(shape: [2], scalars: [0, Float(log(3.0))]) : Tensor(shape: parameter.value.shape)
        }
        let report = try Evaluation.run(dataset: dataset, classifier: VideoClassifier(model: model), jobs: 1).report
        #expect(report.top1 == 0.5 && report.meanClassAccuracy == 0.5 && report.confusion == [[0, 4], [0, 4]])
        #expect(report.misclassified.allSatisfy { abs($0.confidence - 0.75) < 1e-6 })
        let svg = try TestPaths.temporaryDirectory("lib-cm").appendingPathComponent("cm.svg").path
        try report.writeConfusionMatrix(to: svg)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(text.contains(">[0] left<") && text.contains(">[1] right<") && text.contains(">4<") && text.contains("predicted"), "class names, counts and axes in the SVG")

        // The PNG reads on its own: a title, each row's class name, counts in the cells.
        let (pixels, width, height) = ConfusionMatrixPicture.png(report)
        func darkPixels(x: Range<Int>, y: Range<Int>) -> Int {
            var n = 0
            for yy in y where yy < height { for xx in x where xx < width { if pixels[(yy * width + xx) * 3] < 100 { n += 1 } } }
            return n
        }
        #expect(width > 200 && height > 80)
        #expect(darkPixels(x: 0..<width, y: 0..<22) > 50, "a title")
        let rowHeight = (height - 60) / 2
        let rows = (0..<2).map { darkPixels(x: 0..<80, y: (40 + $0 * rowHeight)..<(40 + ($0 + 1) * rowHeight)) }
        #expect(rows.allSatisfy { $0 > 20 } && rows[0] != rows[1], "two different class names: \(rows)")
        let png = try TestPaths.temporaryDirectory("lib-cm-png").appendingPathComponent("cm.png").path
        try report.writeConfusionMatrix(to: png)
        let decoded = try #require(try VideoReader(path: png).readAll().first)
        #expect(decoded.width == width && decoded.height == height && decoded.pixels == pixels, "FFmpeg reads the PNG back exactly")

        // Labels the model does not know are an error naming the dataset, not a trap.
        let other = VideoModel(card: tinyCard(labels: ["up", "down"]))
        #expect(throws: VideoClassificationError.self) { try Evaluation.run(dataset: dataset, classifier: VideoClassifier(model: other)) }
    }

    @Test func crossValidationThroughTheLibrary() throws {
        let dataset = try TrainingCommandTests.makeDataset()
        var c = Self.configuration(dataset: dataset, output: nil)
        c.folds = 2
        c.groupBy = "clip([0-9])"
        c.options.epochs = 1
        let events = Events()
        let result = try TrainingRun(c).run(progress: events.record)
        let cv = try #require(result.crossValidation)
        #expect(cv.folds.count == 2 && cv.folds.allSatisfy { (0...1).contains($0) })
        #expect(abs(cv.mean - (cv.folds[0] + cv.folds[1]) / 2) < 1e-12)
        #expect(result.output == nil)
        let finished = events.all.withLock { $0.filter { if case .foldFinished = $0 { true } else { false } }.count }
        #expect(finished == 2)
    }

    /// A stop request ends the run with ``TrainingInterrupted`` naming the checkpoint; resuming
    /// finishes the same model a run that never stopped ends with.
    @Test func aStoppedRunResumesToTheSameModel() throws {
        let dataset = try TrainingCommandTests.makeDataset()
        let folder = try TestPaths.temporaryDirectory("lib-resume")
        let whole = folder.appendingPathComponent("whole.safetensors").path
        let resumed = folder.appendingPathComponent("resumed.safetensors").path
        _ = try TrainingRun(Self.configuration(dataset: dataset, output: whole)).run()

        let stop = StopFlag()
        let first = TrainingRun(Self.configuration(dataset: dataset, output: resumed))
        do {
            _ = try first.run(stop: stop) { event in
                if case .training(.epoch(let summary, _), _, _) = event, summary.epoch == 1 { stop.set() }
            }
            Issue.record("a stopped run must throw")
        } catch let interrupted as TrainingInterrupted {
            #expect(interrupted.epoch == 1 && interrupted.checkpoint == resumed + ".checkpoint", "\(interrupted)")
        }
        #expect(!FileManager.default.fileExists(atPath: resumed), "an interrupted run leaves the output alone")
        var again = Self.configuration(dataset: dataset, output: resumed)
        again.resume = true
        let result = try TrainingRun(again).run()
        #expect(result.history.map(\.epoch) == [1, 2])
        let a = try VideoModel(contentsOf: whole).network.stateTensors(), b = try VideoModel(contentsOf: resumed).network.stateTensors()
        #expect(a.map(\.0) == b.map(\.0) && zip(a, b).allSatisfy { $0.1.scalars == $1.1.scalars }, "bit for bit the same weights")
    }

    @Test func aBadConfigurationIsAnErrorNotATrap() throws {
        var c = Self.configuration(dataset: "/nonexistent", output: "m.safetensors")
        c.validationFraction = .nan
        #expect(throws: VideoClassificationError.self) { try TrainingRun(c).run() }
        #expect(c.problem()?.contains("validation fraction") == true)
    }

    @Test func labellingThroughTheLibrary() throws {
        let dataset = try TrainingCommandTests.makeDataset()
        let classifier = try VideoClassifier(modelPath: nil)
        let files = try InputDiscovery.files([dataset])
        #expect(files.count == 9)
        let output = try TestPaths.temporaryDirectory("lib-label").appendingPathComponent("labels.jsonl").path
        let sink = try LabelOutput(path: output, format: .jsonl, resume: false, modelHash: classifier.model.hash)
        let summary = try BatchLabeler(classifier: classifier, options: BatchOptions()).run(files, output: sink)
        #expect(summary.labelled == 8 && summary.failed == 1)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 9)
        let records = try lines.map { try JSONDecoder().decode(LabelRecord.self, from: Data($0.utf8)) }
        #expect(Set(records.map(\.path)) == Set(files))
        #expect(records.filter { $0.status == .ok }.allSatisfy { classifier.model.card.labels.contains($0.label ?? "") })
    }

    @Test func timelinesThroughTheLibrary() async throws {
        let classifier = try VideoClassifier(modelPath: nil)
        let clip = TestPaths.fixture("synthetic/move_right") + "/" + (try FileManager.default.contentsOfDirectory(atPath: TestPaths.fixture("synthetic/move_right")).first!)
        let windows = try await classifier.timeline(path: clip, window: 0.5, stride: 0.25)
        #expect(windows.count >= 2)
        #expect(zip(windows, windows.dropFirst()).allSatisfy { abs(($1.start - $0.start) - 0.25) < 1e-6 })
        #expect(windows.allSatisfy { abs($0.scores.map(\.score).reduce(0, +) - 1) < 1e-4 })
        await #expect(throws: VideoClassificationError.self) { try await classifier.timeline(path: clip, window: .infinity, stride: 1) }
        await #expect(throws: VideoClassificationError.self) { try await classifier.timeline(path: clip, window: 1, stride: 0) }
    }

    /// Wrapped errors keep the error they wrap as a value.
    @Test func errorsKeepTheirCause() throws {
        let file = try TestPaths.temporaryDirectory("lib-errors").appendingPathComponent("bad.safetensors").path
        try Data([0xFF, 0, 0, 0, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: file))
        do {
            _ = try VideoModel(contentsOf: file)
            Issue.record("a bad model file must throw")
        } catch let error as VideoClassificationError {
            #expect(error.code == .invalidModel && error.path == file)
            #expect(error.underlying is SafeTensorsError, "the underlying error is kept: \(String(describing: error.underlying))")
        }
    }

    /// An endless model input ends with an error at once instead of growing without bound.
    @Test(.timeLimit(.minutes(1))) func anEndlessModelInputEndsAtOnce() throws {
        #expect(throws: VideoClassificationError.self) { try VideoModel(contentsOf: "/dev/zero") }
        #expect(throws: VideoClassificationError.self) { try VideoModel(contentsOf: "/dev/urandom") }
    }

    @Test func theDefaultModelIsLinkedIn() throws {
        let card = try #require(DefaultModel.card)
        #expect(card.labels.count == 10)
        let model = try DefaultModel.load()
        #expect(model.card == card && model.path == nil)
        #expect(DefaultModel.fileBytes.count > 1_000_000 && DefaultModel.fileBytes.count < 5_000_000)
    }

    /// RFC 4180: quoted commas, doubled quotes, CRLF, a line break inside a field; what `field`
    /// writes, `records` reads back.
    @Test func csvFollowsRFC4180() throws {
        #expect(CSV.records("a,b\r\n\"c,d\",\"say \"\"hi\"\"\"\n\n\"two\nlines\",x\n") == [["a", "b"], ["c,d", "say \"hi\""], ["two\nlines", "x"]])
        let awkward = ["plain", "with, comma", "with \"quotes\"", "line\nbreak", ""]
        #expect(CSV.records(CSV.line(awkward) + "\n") == [awkward])
        // A dataset CSV whose paths hold commas and quotes.
        let folder = try TestPaths.temporaryDirectory("lib-csv")
        let clip = TestPaths.fixture("synthetic/move_right") + "/" + (try FileManager.default.contentsOfDirectory(atPath: TestPaths.fixture("synthetic/move_right")).first!)
        for name in ["a, b.webm", "say \"hi\".webm"] {
            try FileManager.default.copyItem(atPath: clip, toPath: folder.appendingPathComponent(name).path)
        }
        let csv = "path,label\n" + CSV.line(["a, b.webm", "right"]) + "\n" + CSV.line(["say \"hi\".webm", "left"]) + "\n"
        try Data(csv.utf8).write(to: folder.appendingPathComponent("list.csv"))
        let data = try VideoDataset.load(folder.appendingPathComponent("list.csv").path)
        #expect(data.clips.map { ($0.path as NSString).lastPathComponent } == ["a, b.webm", "say \"hi\".webm"])
        #expect(data.clips.map(\.label) == ["right", "left"])
        // A label output in CSV reads back the same path and error text.
        let record = LabelRecord(path: "x, \"y\".mp4", status: .error, model: "m", modelHash: "h", size: 1, mtime: 2, error: "bad, \"very\"")
        #expect(LabelRecord.parseCSV(record.csvLine)?.path == record.path)
        #expect(LabelRecord.parseCSV(record.csvLine)?.error == record.error)
    }
}
