import Foundation
import Testing
import VideoClassification
import VidclassTestSupport

/// The model embedded in the package labels the committed synthetic clips (`Fixtures/synthetic`,
/// made by `vidclass synth --seed 2024`, a seed the model never trained on).
struct DefaultModelTests {
    @Test func labelsTheCommittedSyntheticClips() throws {
        let model = try DefaultModel.load()
        #expect(model.path == nil, "the default model is linked in, not read from a file")
        let bytes = DefaultModel.fileBytes.count
        #expect(bytes < 5_000_000, "the embedded model stays well under 5 MB: \(bytes) bytes")
        #expect(model.card.architecture.backbone == .small && model.card.architecture.sequenceKind == .lstm
                && model.card.architecture.head == .lastStep, "lrcn-small + LSTM")
        #expect(model.card.labels == SyntheticMotion.classes.sorted())
        #expect(model.card.provenance?.datasetHash != nil)
        // The bytes linked in are the committed file's: `.incbin` is not a dependency SwiftPM
        // tracks, so a build made before the file was replaced (and default_model.c touched) would
        // still carry the old model.
        let committed = try Data(contentsOf: TestPaths.repositoryRoot
            .appendingPathComponent("Sources/CDefaultModel/model/vidclass-default.safetensors"))
        #expect(committed.elementsEqual(DefaultModel.fileBytes), "the binary's model is not the committed file: touch Sources/CDefaultModel/default_model.c and rebuild")
        let classifier = VideoClassifier(model: model)
        let data = try VideoDataset.load(TestPaths.fixture("synthetic"))
        #expect(data.clips.count == 10)
        var correct = 0
        for clip in data.clips {
            let prediction = try classifier.classify(path: clip.path)
            if prediction.top.label == clip.label { correct += 1 }
        }
        #expect(correct >= 9, "\(correct) of \(data.clips.count) committed synthetic clips labelled right")
    }

    /// Clips drawn by another generator (the ffmpeg command line's filters: other backgrounds,
    /// shapes, sizes and codecs, whole-picture pans, zooms, rolls and fades, a camera that sways or
    /// shakes), made here from a seed the model was never measured on.
    @Test func labelsClipsOfAnotherGenerator() throws {
        let directory = try TestPaths.temporaryDirectory("ffmpeg-motion")
        let script = TestPaths.repositoryRoot.appendingPathComponent("Tools/ffmpeg_motion_clips.sh").path
        let made = try runVidclass([script, directory.path, "4", "2026"], executable: URL(fileURLWithPath: "/bin/bash"))
        try #require(made.status == 0, "the ffmpeg command line made no clips: \(made.stderr)")
        let data = try VideoDataset.load(directory.appendingPathComponent("labels.csv").path)
        #expect(data.clips.count == 40)
        let result = try Evaluation.run(dataset: data, classifier: VideoClassifier(model: try DefaultModel.load()))
        #expect(result.skipped.isEmpty)
        #expect(result.report.top1 >= 0.7, "\(result.report.top1 * 100) % of the other generator's clips labelled right")
    }
}
