import Foundation
import Testing
import VideoClassification
import VideoIO
import VidclassTestSupport

struct StreamingTests {
    /// The square at decode size (the tiny card decodes at 20x20).
    static let frames = movingSquare(count: 5)

    @Test(arguments: [StreamOptions.Memory.carried, .window(nil)])
    func streamingEqualsClassify(_ memory: StreamOptions.Memory) async throws {
        let classifier = VideoClassifier(model: VideoModel(card: tinyCard(), seed: 4))
        let expected = try classifier.classify(frames: Self.frames).scores
        var last: [LabelScore]?
        let stream = AsyncStream<VideoFrame> { continuation in
            for frame in Self.frames { continuation.yield(frame) }
            continuation.finish()
        }
        for try await event in classifier.predictions(for: stream, options: StreamOptions(emit: .everyFrames(1), memory: memory)) {
            if let scores = event.scores { last = scores }
        }
        let got = try #require(last)
        #expect(got.map(\.label) == expected.map(\.label))
        #expect(zip(got, expected).allSatisfy { abs($0.score - $1.score) < 1e-4 }, "\(got) vs \(expected)")
    }

    @Test func framesOfAnySizeAreResampled() throws {
        let classifier = VideoClassifier(model: VideoModel(card: tinyCard(), seed: 4))
        let stream = try classifier.makeStream(options: StreamOptions(emit: .everyFrames(1)))
        let big = VideoFrame(index: 0, time: 0, timestamp: 0, width: 64, height: 48, pixels: [UInt8](repeating: 77, count: 64 * 48 * 3))
        var next = big
        next.index = 1
        next.time = 0.1
        #expect(stream.push(big).isEmpty, "difference input needs two frames")
        #expect(stream.push(next).first?.scores?.count == 3)
    }

    @Test func memoryStaysBoundedAndEmissionFollowsTheClock() throws {
        let classifier = VideoClassifier(model: VideoModel(card: tinyCard(), seed: 4))
        let stream = try classifier.makeStream(options: StreamOptions(emit: .everySeconds(1), memory: .window(4)))
        var predictions = 0
        for n in 0..<3000 {
            var frame = Self.frames[n % 5]
            frame.index = n
            frame.time = Double(n) / 30
            predictions += stream.push(frame).filter { $0.scores != nil }.count
        }
        #expect(stream.retainedSteps <= 4)
        #expect((99...101).contains(predictions), "one prediction per second over 100 seconds, got \(predictions)")
    }

    /// `emitsPartialWindows: false` (what `vidclass watch` uses) predicts only from full windows;
    /// emissions at 0.5 s on average even when processed frames (every 0.4 s here) miss the grid.
    @Test func fullWindowsOnlyAndAnEvenGrid() throws {
        let classifier = VideoClassifier(model: VideoModel(card: tinyCard(), seed: 4))
        let options = StreamOptions(emit: .everySeconds(0.5), memory: .window(4), frameRate: 2.5, emitsPartialWindows: false)
        let stream = try classifier.makeStream(options: options)
        var times: [Double] = []
        for n in 0..<3000 {
            var frame = Self.frames[n % 5]
            frame.index = n
            frame.time = Double(n) / 30
            for case .prediction(_, let time, _) in stream.push(frame) { times.append(time) }
        }
        #expect(times.first.map { $0 >= 3 * 0.4 - 1e-9 } == true, "the first prediction waits for four processed frames: \(times.prefix(2))")
        let span = times.last! - times.first!
        #expect(abs(span / Double(times.count - 1) - 0.5) < 0.02, "0.5 s apart on average, got \(span / Double(times.count - 1))")
    }

    @Test func labelChangeEvents() throws {
        // Teach the tiny model right vs left, then stream right, then left.
        let (trainer, _) = TrainingTests.trainRightLeft()
        let model = trainer.model
        try #require(trainer.accuracy(TrainingTests.samples(8)) == 1)
        let stream = try VideoClassifier(model: model).makeStream(options: StreamOptions(emit: .everyFrames(1), memory: .window(4), threshold: 0.8))
        var events: [String] = []
        let right = movingSquare(count: 5), left = Array(movingSquare(count: 5).reversed())
        for (n, var frame) in (right + right + left + left).enumerated() {
            frame.index = n
            frame.time = Double(n)
            for event in stream.push(frame) {
                switch event {
                case .started(let label, _, _): events.append("+" + label)
                case .ended(let label, _): events.append("-" + label)
                case .prediction: break
                }
            }
        }
        #expect(events.first == "+right")
        #expect(events.contains("-right"))
        #expect(events.last == "+left")
    }
}

struct TimelineTests {
    @Test func windowsCoverTheVideoExactly() throws {
        let classifier = VideoClassifier(model: VideoModel(card: tinyCard(), seed: 4))
        let path = FixtureTests_video("h264_bframes_gop30.mp4")  // 3 s at 30 fps
        let windows = try classifier.timeline(path: path, window: 1, stride: 0.5)
        #expect(windows.map(\.start) == [0, 0.5, 1, 1.5, 2])
        #expect(windows.first?.start == 0 && abs((windows.last?.end ?? 0) - 3) < 1e-9)
        for (a, b) in zip(windows, windows.dropFirst()) { #expect(b.start <= a.end, "no gaps") }
        #expect(windows.allSatisfy { abs($0.scores.map(\.score).reduce(0, +) - 1) < 1e-4 })
        // The first window equals classifying the same grid frames as a clip.
        let grid = (0..<5).map { Double($0) * 0.25 }  // 4 steps of 0.25 s, plus one for differences
        let frames = try VideoReader(path: path, options: DecodeOptions(sampling: .times(grid), format: classifier.model.card.input.decodeFormat)).readAll()
        let clip = try classifier.classify(frames: frames)
        #expect(zip(clip.scores, windows[0].scores).allSatisfy { $0.label == $1.label && abs($0.score - $1.score) < 1e-4 })
    }

    @Test func formats() {
        let windows = [TimelineWindow(start: 0, end: 2, scores: [LabelScore(label: "fight", score: 0.75)]),
                       TimelineWindow(start: 1, end: 3.5, scores: [LabelScore(label: "calm", score: 0.5)])]
        #expect(TimelineFormat.webVTT(windows) == "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\nfight (75%)\n\n2\n00:00:01.000 --> 00:00:03.500\ncalm (50%)\n\n")
        #expect(TimelineFormat.csv(windows) == "start,end,label,score\n0.000,2.000,fight,0.750000\n1.000,3.500,calm,0.500000\n")
        #expect(TimelineFormat.csv(windows, path: "a, \"b\".mp4") == "path,start,end,label,score\n\"a, \"\"b\"\".mp4\",0.000,2.000,fight,0.750000\n\"a, \"\"b\"\".mp4\",1.000,3.500,calm,0.500000\n")
    }
}

func FixtureTests_video(_ name: String) -> String { TestPaths.fixture("videos/\(name)") }

struct OverlappedClassifyTests {
    @Test(arguments: [InputSpecification.Representation.rgb, .diff, .rgbDiff])
    func classifyingAPathEqualsClassifyingItsFrames(_ representation: InputSpecification.Representation) throws {
        let classifier = VideoClassifier(model: VideoModel(card: tinyCard(representation: representation), seed: 6))
        for name in ["h264_bframes_gop30.mp4", "mjpeg.avi"] {
            let path = FixtureTests_video(name)
            let frames = try VideoReader(path: path, options: classifier.preprocessor.decodeOptions()).readAll()
            let batch = try classifier.classify(frames: frames, path: path)
            let overlapped = try classifier.classify(path: path)
            #expect(overlapped.frames == batch.frames)
            #expect(zip(overlapped.scores, batch.scores).allSatisfy { $0.label == $1.label && abs($0.score - $1.score) < 1e-5 })
        }
    }

    /// A bidirectional model cannot carry its state frame to frame: streaming it that way is an
    /// error, not a trap; windows work.
    @Test func aBidirectionalModelStreamsOnlyByWindows() async throws {
        var card = tinyCard(labels: ["a", "b"], representation: .rgb)
        card.architecture.bidirectional = true
        let classifier = VideoClassifier(model: VideoModel(card: card))
        #expect(throws: VideoClassificationError.self) { try classifier.makeStream(options: StreamOptions(memory: .carried)) }
        #expect(throws: VideoClassificationError.self) { try classifier.makeStream(options: StreamOptions(smoothing: 0)) }
        let frames = AsyncStream<VideoFrame> { continuation in
            for i in 0..<3 { continuation.yield(movingSquare(count: 3)[i]) }
            continuation.finish()
        }
        await #expect(throws: VideoClassificationError.self) {
            for try await _ in classifier.predictions(for: frames, options: StreamOptions(memory: .carried)) {}
        }
        let stream = try classifier.makeStream(options: StreamOptions(emit: .everyFrames(1), memory: .window(2)))
        #expect(stream.push(movingSquare(count: 1)[0]).count >= 1)
    }
}
