import Foundation
import NeuralNetwork
import Tensors
import Testing
import VideoClassification
import VideoIO
import VidclassTestSupport

/// `--clips N`: interleaved samplings spread over the video, decoded once, split again, averaged.
struct TestTimeAveragingTests {
    @Test(arguments: [(17, 4, 60), (17, 3, 53), (13, 5, 200), (5, 2, 5), (1, 3, 10), (16, 1, 90), (9, 4, 7)])
    func clipsInterleaveAndCoverTheVideo(count: Int, clips: Int, frameCount: Int) throws {
        let sets = FrameSampling.uniformClipIndices(count: count, clips: clips, frameCount: frameCount)
        #expect(sets.count == clips && sets.allSatisfy { $0.count == count })
        #expect(sets.first?.first == 0, "the first clip starts on the first frame")
        #expect(sets.last?.last == frameCount - 1, "the last clip ends on the last frame")
        #expect(sets.flatMap { $0 }.allSatisfy { (0..<frameCount).contains($0) })
        if clips == 1 { #expect(sets[0] == FrameSampling.uniformIndices(count: count, frameCount: frameCount)) }
        for clip in sets { #expect(zip(clip, clip.dropFirst()).allSatisfy { $0 <= $1 }, "each clip in order: \(clip)") }
        // Interleaved: clip j's k-th frame is never after clip j+1's, nor after clip 0's (k+1)-th.
        for j in 0..<(clips - 1) { #expect(zip(sets[j], sets[j + 1]).allSatisfy { $0 <= $1 }) }
        if count > 1, clips > 1 { #expect(zip(sets[clips - 1], sets[0].dropFirst()).allSatisfy { $0 <= $1 }) }
        // With room for them (phase steps of a frame or more), the clips are different samplings.
        if count > 1, Double(frameCount - 1) / Double(count - 1) / Double(clips) >= 1 {
            #expect(Set(sets.map { $0 }).count == clips, "\(sets)")
        }
        // The sampling decodes their union, each frame once.
        let times = (0..<frameCount).map { Double($0) / 25 }
        let union = try FrameSampling.uniformClips(count: count, clips: clips).resolveForTesting(times)
        #expect(union == Array(Set(sets.flatMap { $0 })).sorted())
    }

    /// A model file may record how many clips it is used with; files without it read as one.
    @Test func theModelFileCarriesItsClips() throws {
        var card = tinyCard(labels: ["right", "left"])
        #expect(card.input.clips == 1)
        let plain = try JSONSerialization.jsonObject(with: JSONEncoder().encode(card.input)) as? [String: Any]
        #expect(plain?["clips"] == nil, "one clip is not written: older readers see the same file")
        card.input.clips = 3
        let path = try TestPaths.temporaryDirectory("clips").appendingPathComponent("m.safetensors").path
        try VideoModel(card: card, seed: 1).save(to: path)
        let read = try VideoModel(contentsOf: path)
        #expect(read.card.input.clips == 3)
        #expect(VideoClassifier(model: read).clips == 3 && VideoClassifier(model: read, clips: 1).clips == 1)
        card.input.clips = 0
        #expect(card.problem() != nil)
    }

    @Test func theSamplingHasASpelling() {
        #expect(FrameSampling.parse("uniform:17x4") == .uniformClips(count: 17, clips: 4))
        #expect(FrameSampling.uniformClips(count: 17, clips: 4).description == "uniform:17x4")
        #expect(FrameSampling.parse("uniform:17x0") == nil && FrameSampling.parse("uniform:x2") == nil)
    }

    /// The decoded union splits back into exactly the clips' frames; a frame the decoder dropped is
    /// replaced by the one before it.
    @Test func decodedFramesSplitBackIntoTheirClips() {
        let card = tinyCard(labels: ["right", "left"])
        let preprocessor = Preprocessor(card.input)
        let video = movingSquare(count: 40, side: 48, step: 1)
        let sets = FrameSampling.uniformClipIndices(count: card.input.sampledFrames, clips: 3, frameCount: 40)
        let union = Array(Set(sets.flatMap { $0 })).sorted().map { video[$0] }
        let split = preprocessor.clips(union, count: 3)
        #expect(split.map { $0.map(\.index) } == sets)
        #expect(preprocessor.clips(union, count: 1).map { $0.map(\.index) } == [union.map(\.index)])
        let missing = sets[1][2]
        let damaged = preprocessor.clips(union.filter { $0.index != missing }, count: 3)
        let before = union.map(\.index).filter { $0 < missing }.max()!
        #expect(damaged[1][2].index == before)
        // A video shorter than the sampling: each clip lists a frame once, in order, like the
        // one-clip sampling (the batch then repeats the last frame).
        let short = Array(video.prefix(3))
        for clip in preprocessor.clips(short, count: 2) {
            #expect(clip.count <= 3 && zip(clip, clip.dropFirst()).allSatisfy { $0.index < $1.index }, "\(clip.map(\.index))")
        }
    }

    /// The probabilities are the mean of the clips' own probabilities.
    @Test func probabilitiesAreTheMeanOfTheClips() throws {
        let model = VideoModel(card: tinyCard(labels: ["right", "left"]), seed: 4)
        let averaging = VideoClassifier(model: model, clips: 3), single = VideoClassifier(model: model)
        let video = movingSquare(count: 40, side: 48, step: 1)
        let sets = FrameSampling.uniformClipIndices(count: model.card.input.sampledFrames, clips: 3, frameCount: 40)
        let union = Array(Set(sets.flatMap { $0 })).sorted().map { video[$0] }
        let averaged = averaging.probabilities(videos: [union, union])
        let each = try sets.map { set in try single.classify(frames: set.map { video[$0] }) }
        for label in model.card.labels.indices {
            let mean = each.map { p in p.scores.first { $0.label == model.card.labels[label] }!.score }.reduce(0, +) / 3
            #expect(abs(averaged[0][label] - mean) < 1e-6 && averaged[1][label] == averaged[0][label])
        }
        #expect(abs(averaged[0].reduce(0, +) - 1) < 1e-6)
        #expect(averaged[0] != single.probabilities(videos: [Array(video.prefix(model.card.input.sampledFrames))])[0])
    }

    /// A file classified with three clips: its prediction lists them, and its scores are the mean
    /// of classifying each clip's frames on its own.
    @Test func aFileClassifiedWithClipsRecordsThemAndAveragesThem() throws {
        let clip = TestPaths.fixture("synthetic") + "/move_right/move_right_0000.webm"
        let model = try DefaultModel.load()
        let averaging = VideoClassifier(model: model, clips: 3), single = VideoClassifier(model: model)
        let p = try averaging.classify(path: clip)
        let clips = try #require(p.clips)
        #expect(clips.count == 3 && clips.allSatisfy { $0.count == model.card.input.sampledFrames })
        #expect(Set(clips.flatMap { $0 }) == Set(p.frames.map(\.index)), "every frame decoded belongs to a clip")
        #expect(try single.classify(path: clip).clips == nil)
        var mean: [String: Double] = [:]
        for set in clips {
            let frames = try VideoReader(path: clip, options: DecodeOptions(sampling: .indices(set), format: model.card.input.decodeFormat))
                .readAll()
            #expect(frames.map(\.index) == set)
            for score in try single.classify(frames: frames).scores { mean[score.label, default: 0] += score.score / 3 }
        }
        for score in p.scores { #expect(abs(score.score - mean[score.label]!) < 1e-5, "\(score.label)") }
        // Classifying again gives the same scores.
        let again = try averaging.classify(path: clip)
        #expect(again.scores == p.scores)
    }
}

/// The exponential moving average of the weights (`--weight-averaging`).
struct WeightAverageTests {
    @Test func theAverageFollowsTheFormulaAndSwapsBack() {
        let weight = Parameter(Tensor(shape: [2], scalars: [0, 10]))
        let counter = Parameter(Tensor(shape: [1], scalars: [0]))
        let average = WeightAverage([("w", weight), ("bn.num_batches_tracked", counter)], decay: 0.5)
        var expected: [Float] = [0, 10]
        for step in 1...4 {
            weight.value = Tensor(shape: [2], scalars: [Float(step), 10 - Float(step)])
            counter.value = Tensor(shape: [1], scalars: [Float(step)])
            average.update()
            let d = min(0.5, Float(step) / Float(9 + step))
            expected = [d * expected[0] + (1 - d) * Float(step), d * expected[1] + (1 - d) * (10 - Float(step))]
        }
        #expect(average.updates == 4)
        let averaged = Dictionary(uniqueKeysWithValues: average.tensors)
        #expect(zip(averaged["w"]!.scalars, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(averaged["bn.num_batches_tracked"]!.scalars == [4], "counters are copied, not averaged")
        average.swap()
        #expect(average.isSwappedIn && zip(weight.value.scalars, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        average.swap()
        #expect(!average.isSwappedIn && weight.value.scalars == [4, 6])
    }

    /// A run with weight averaging ends with the averaged weights, and a run stopped and resumed
    /// from its checkpoint ends with exactly the same ones (the average is in the checkpoint).
    @Test func averagedRunsEndWithTheAverageAndResumeExactly() throws {
        func run(stop: StopFlag = StopFlag()) -> Trainer {
            var options = TrainingOptions()
            options.epochs = 4
            options.batchSize = 4
            options.weightAveraging = 0.9
            return Trainer(model: VideoModel(card: tinyCard(labels: ["right", "left"]), seed: 1), options: options, stopRequest: stop)
        }
        let whole = run()
        var last: TrainingCheckpoint?
        whole.fit(train: TrainingTests.pools, validation: [], checkpoint: { last = $0 })
        let final = try #require(last?.averagedWeights)
        for ((name, a), (_, b)) in zip(whole.model.network.stateTensors(), final) {
            #expect(a.scalars == b.scalars, "\(name): the model holds the average")
        }
        let stop = StopFlag()
        let first = run(stop: stop)
        let file = try TestPaths.temporaryDirectory("ema").appendingPathComponent("m.checkpoint").path
        try first.fit(train: TrainingTests.pools, validation: [], checkpoint: { checkpoint in
            guard checkpoint.state.epoch == 2 else { return }
            try first.model.save(to: file, checkpoint: checkpoint)
            stop.set()
        })
        let checkpoint = try #require(try TrainingCheckpoint(file: SafeTensorsFile(path: file)))
        #expect(checkpoint.state.averageUpdates == 2 * 2 && checkpoint.averagedWeights != nil, "two epochs of two batches")
        let resumed = Trainer(model: try VideoModel(contentsOf: file), options: run().options)
        try resumed.resume(from: checkpoint)
        resumed.fit(train: TrainingTests.pools, validation: [])
        #expect(resumed.history.map(\.loss) == whole.history.map(\.loss))
        for ((name, a), (_, b)) in zip(whole.model.network.stateTensors(), resumed.model.network.stateTensors()) {
            #expect(a.scalars == b.scalars, "\(name)")
        }
        // Fitting again goes on from the weights it trained (the average is swapped out first).
        #expect(whole.fit(train: TrainingTests.pools, validation: TrainingTests.samples(4)).count == 8)
        // A checkpoint without the average cannot resume an averaged run exactly: refused.
        // (the optimizer state is left as it was: nothing changes when resume throws)
        var stripped = checkpoint
        stripped.averagedWeights = nil
        #expect(throws: SafeTensorsError.self) { try run().resume(from: stripped) }
    }
}
