import Foundation
import Testing
import VidclassConcurrency
@testable import VideoClassification
import VideoIO
import VidclassTestSupport

/// Frames that pile up while the network works go through the encoder together; the events are
/// the ones of one frame at a time, a live source gets each frame's events before the next frame,
/// and a source without end stops being read when the stream is dropped or cancelled.
struct StreamBatchingTests {
    /// 40 frames of the moving square, numbered, a tenth of a second apart.
    static func frames(_ count: Int = 40) -> [VideoFrame] {
        let square = movingSquare(count: 8)
        return (0..<count).map { n in
            var frame = square[n % 8]
            frame.index = n
            frame.time = Double(n) / 10
            return frame
        }
    }

    /// Prediction events as (frame, time, [(label, score)]), other events as their description.
    static func same(_ a: [StreamEvent], _ b: [StreamEvent]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in
            switch (x, y) {
            case (.prediction(let i, let t, let s), .prediction(let j, let u, let r)):
                return i == j && t == u && s.map(\.label) == r.map(\.label)
                    && zip(s, r).allSatisfy { abs($0.score - $1.score) < 1e-5 }
            case (.started(let l, let t, _), .started(let m, let u, _)): return l == m && t == u
            case (.ended(let l, let t), .ended(let m, let u)): return l == m && t == u
            default: return false
            }
        }
    }

    @Test(arguments: [(StreamOptions.Memory.carried, InputSpecification.Representation.rgb), (.carried, .diff),
                      (.window(nil), .rgb), (.window(3), .rgbDiff)])
    func pushingFramesTogetherGivesTheEventsOfOneAtATime(_ memory: StreamOptions.Memory,
                                                          _ representation: InputSpecification.Representation) throws {
        let classifier = VideoClassifier(model: VideoModel(card: tinyCard(representation: representation), seed: 9))
        // Every second frame is skipped by the frame rate, inside batches as well.
        let options = StreamOptions(emit: .everyFrames(2), memory: memory, frameRate: 5, threshold: 0.34)
        let one = try classifier.makeStream(options: options), together = try classifier.makeStream(options: options)
        let frames = Self.frames()
        let expected = frames.flatMap { one.push($0) }
        // Batches of 1, 7, 16 and the rest.
        var got: [StreamEvent] = []
        var start = 0
        for size in [1, 7, 16, frames.count] where start < frames.count {
            got += together.push(contentsOf: frames[start..<min(frames.count, start + size)])
            start += size
        }
        // One prediction per 2 of the 20 processed frames (19 with differences, which start at the second).
        #expect(expected.filter { $0.scores != nil }.count == (representation.usesDifferences ? 9 : 10))
        #expect(Self.same(got, expected), "\(got.count) events against \(expected.count)")
        #expect(together.push(contentsOf: [VideoFrame]()).isEmpty)
    }

    /// A source that outruns the network (here: 40 frames ready at once) is streamed in batches
    /// with the same events; with batchLimit 1 too.
    @Test(arguments: [16, 1])
    func anAsyncStreamGivesTheEventsOfOneAtATime(_ limit: Int) async throws {
        let classifier = VideoClassifier(model: VideoModel(card: tinyCard(representation: .rgb), seed: 9))
        let options = StreamOptions(emit: .everyFrames(3), memory: .carried, batchLimit: limit)
        let expected = try Self.frames().flatMap(classifier.makeStream(options: options).push)
        let source = AsyncStream<VideoFrame> { continuation in
            for frame in Self.frames() { continuation.yield(frame) }
            continuation.finish()
        }
        var got: [StreamEvent] = []
        for try await event in classifier.predictions(for: source, options: options) { got.append(event) }
        #expect(Self.same(got, expected), "\(got.count) events against \(expected.count)")
        await #expect(throws: VideoClassificationError.self) {
            for try await _ in classifier.predictions(for: source, options: StreamOptions(batchLimit: 0)) {}
        }
    }

    /// Frames that pile up while the network works go through the encoder together: with the
    /// consumer held after its first event until the reader has filled the queue, 40 frames take
    /// far fewer than 40 encoder passes, and the events are still those of one frame at a time.
    @Test func framesThatPileUpShareAnEncoderPass() async throws {
        let classifier = VideoClassifier(model: VideoModel(card: tinyCard(representation: .rgb), seed: 9))
        let options = StreamOptions(emit: .everyFrames(1), memory: .carried, batchLimit: 16)
        let frames = Self.frames(40)
        let expected = try frames.flatMap(classifier.makeStream(options: options).push)
        let pulled = Locked(0)
        let source = AsyncStream<VideoFrame>(unfolding: {
            let n = pulled.withLock { n in
                n += 1
                return n - 1
            }
            return n < frames.count ? frames[n] : nil
        })
        var events = classifier.predictions(for: source, options: options).makeAsyncIterator()
        var got: [StreamEvent] = []
        if let first = try await events.next() { got.append(first) }
        // The queue (16) and the frame waiting for room: 17 frames past the first batch.
        let deadline = ContinuousClock.now + .seconds(60)
        while pulled.withLock({ $0 }) < 18 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        while let event = try await events.next() { got.append(event) }
        #expect(Self.same(got, expected), "\(got.count) events against \(expected.count)")
        let passes = events.pipeline.worker.state.encoderPasses
        #expect(passes <= 40 - 15, "40 frames in \(passes) encoder passes")
        #expect(passes >= 3, "at most 16 frames a pass: \(passes) passes")
    }

    /// A live source: each frame's prediction arrives while the source waits for the next frame
    /// (reading ahead never holds back events until more frames come).
    @Test func aLiveSourceGetsEachFramesEventsBeforeItsNextFrame() async throws {
        let classifier = VideoClassifier(model: VideoModel(card: tinyCard(representation: .rgb), seed: 9))
        let (source, continuation) = AsyncStream.makeStream(of: VideoFrame.self)
        // Ends the source after a minute, so a stream that waits for more frames fails instead of hanging.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            continuation.finish()
        }
        defer { watchdog.cancel() }
        var events = classifier.predictions(for: source, options: StreamOptions(emit: .everyFrames(1), memory: .carried))
            .makeAsyncIterator()
        for frame in Self.frames(5) {
            continuation.yield(frame)
            // Label events of the frame before may come first; then this frame's prediction.
            var prediction: Int?
            while prediction == nil, let event = try await events.next() {
                if case .prediction(let index, _, _) = event { prediction = index }
            }
            #expect(prediction == frame.index, "frame \(frame.index)'s prediction before frame \(frame.index + 1) exists")
        }
        continuation.finish()
        while let event = try await events.next() {
            #expect(event.scores == nil, "no prediction after the source ended: \(event)")
        }
    }

    /// A source without end: dropping the iterator, or cancelling the task that iterates it, stops
    /// the reading of the source, which was never more than the batch limit ahead.
    @Test func anEndlessSourceStopsBeingReadWhenTheStreamIsDroppedOrCancelled() async throws {
        let classifier = VideoClassifier(model: VideoModel(card: tinyCard(representation: .rgb), seed: 9))
        let square = Self.frames(8)
        for cancelling in [false, true] {
            let pulled = Locked(0)
            let endless = AsyncStream<VideoFrame>(unfolding: {
                let n = pulled.withLock { n in
                    n += 1
                    return n - 1
                }
                var frame = square[n % 8]
                frame.index = n
                frame.time = Double(n) / 30
                return frame
            })
            let options = StreamOptions(emit: .everyFrames(1), memory: .carried, batchLimit: 4)
            let consumer = Task {
                var predictions = 0
                for try await event in classifier.predictions(for: endless, options: options) where event.scores != nil {
                    predictions += 1
                    if !cancelling && predictions == 50 { break }
                }
                return predictions
            }
            if cancelling {
                let deadline = ContinuousClock.now + .seconds(60)
                while pulled.withLock({ $0 }) < 100 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
                try #require(pulled.withLock { $0 } >= 100, "the stream reads its source")
                consumer.cancel()
            }
            let result = await consumer.result
            if cancelling {
                #expect(throws: CancellationError.self) { try result.get() }
            } else {
                #expect(try result.get() == 50)
            }
            try await Task.sleep(for: .milliseconds(300))
            let after = pulled.withLock { $0 }
            try await Task.sleep(for: .milliseconds(500))
            #expect(pulled.withLock { $0 } == after, "the source is no longer read (cancelling: \(cancelling))")
            if !cancelling {
                // 50 frames' events; ahead of them at most the rest of their batch (3), the channel's
                // capacity (4), a frame waiting for room and one being read.
                #expect(after <= 50 + 3 + 4 + 2, "read \(after) frames for 50 predictions with a batch limit of 4")
            }
        }
    }
}

/// The channel under the stream: the consumer takes everything queued at once (up to its limit),
/// the producer waits at capacity, and the end, errors and cancellation reach both sides.
struct BatchingChannelTests {
    struct Failure: Error {}

    /// Waits (a minute at most) until `condition` holds.
    static func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        try #require(condition(), "waited a minute")
    }

    @Test func theConsumerTakesWhatHasPiledUpAndTheProducerWaitsAtCapacity() async throws {
        let channel = BatchingChannel<Int>(capacity: 4)
        let sent = Locked(0)
        let producer = Task {
            for i in 0..<10 {
                guard await channel.send(i) else { return }
                sent.withLock { $0 += 1 }
            }
            channel.finish(throwing: Failure())
        }
        // The producer runs ahead until the channel is full: 4 queued, the fifth waiting.
        try await Self.until { channel.waiting.producer }
        #expect(sent.withLock { $0 } == 4, "the fifth send waits for room")
        #expect(try await channel.nextBatch(limit: 3) == [0, 1, 2])
        var got: [Int] = [0, 1, 2]
        do {
            while let batch = try await channel.nextBatch(limit: 16) {
                #expect(!batch.isEmpty && batch.count <= 4, "never more than the capacity queued")
                got += batch
            }
            Issue.record("the producer's error reaches the consumer")
        } catch is Failure {}
        #expect(got == Array(0..<10), "every element once, in order")
        await producer.value
    }

    @Test func cancellingWakesBothSides() async throws {
        let full = BatchingChannel<Int>(capacity: 1)
        #expect(await full.send(1))
        let waiting = Task { await full.send(2) }
        try await Self.until { full.waiting.producer }
        full.cancel()
        #expect(await waiting.value == false, "a producer waiting for room is told to stop")
        await #expect(throws: CancellationError.self) { try await full.nextBatch(limit: 4) }

        let empty = BatchingChannel<Int>(capacity: 2)
        let consumer = Task { try await empty.nextBatch(limit: 4) }
        try await Self.until { empty.waiting.consumer }
        consumer.cancel()
        await #expect(throws: CancellationError.self) { try await consumer.value }
        #expect(await empty.send(3) == false, "a cancelled consumer cancels the channel")

        let ended = BatchingChannel<Int>(capacity: 2)
        #expect(await ended.send(7))
        ended.finish()
        #expect(try await ended.nextBatch(limit: 4) == [7])
        #expect(try await ended.nextBatch(limit: 4) == nil)
    }
}
