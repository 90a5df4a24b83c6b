import Foundation
import VidclassConcurrency
import Testing
import VideoClassification
import VidclassTestSupport

/// The async APIs never block the threads Swift concurrency runs them on: many streams and files
/// classified at once on an executor of two threads finish, and a ticker on the same two threads
/// keeps ticking meanwhile. scripts/test.sh runs this suite on its own (other suites running at
/// the same time starve every thread alike), and again under ThreadSanitizer.
@Suite(.serialized) struct ConcurrencyTests {
    /// Ticks on the executor every few milliseconds and records the longest gap between two ticks.
    final class Ticker: Sendable {
        private let state = Locked((count: 0, longestGap: Duration.zero, first: ContinuousClock.now, last: ContinuousClock.now,
                                    elsewhere: 0))
        let stop = StopFlag()
        let executor: ThreadPoolTaskExecutor

        init(on executor: ThreadPoolTaskExecutor) { self.executor = executor }

        func run() async {
            state.withLock { $0.first = .now; $0.last = $0.first }
            while !stop.isSet {
                await Self.pause(milliseconds: 5)
                let onExecutor = executor.isCurrentThread()
                state.withLock { s in
                    let now = ContinuousClock.now
                    s.longestGap = max(s.longestGap, now - s.last)
                    s.last = now
                    s.count += 1
                    if !onExecutor { s.elsewhere += 1 }
                }
            }
        }

        /// A pause that resumes on the task's own executor (`Task.sleep` resumes on the global
        /// pool, which would not test the two threads).
        static func pause(milliseconds: Int) async {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) { c.resume() }
            }
        }

        /// Ticks, the longest gap between two, how long it ticked, ticks off the executor.
        var summary: (count: Int, longestGap: Duration, span: Duration, elsewhere: Int) {
            state.withLock { ($0.count, $0.longestGap, $0.last - $0.first, $0.elsewhere) }
        }
    }

    /// Runs `body` on `executor`, failing (instead of hanging) when it has not finished in `limit`.
    static func run<T: Sendable>(on executor: ThreadPoolTaskExecutor, limit: Duration,
                                 _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let work = Task(executorPreference: executor) { try await body() }
        let outcome = Locked<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let result = await work.result
            outcome.withLock { $0 = result }
            done.signal()
        }
        // Waits on a thread of its own, so a stalled executor cannot stall the wait.
        let finished = try await withCheckedThrowingContinuation { (c: CheckedContinuation<Bool, any Error>) in
            Thread.detachNewThread {
                let seconds = Double(limit.components.seconds)
                c.resume(returning: done.wait(timeout: .now() + seconds) == .success)
            }
        }
        guard finished else {
            Issue.record("the work did not finish within \(limit) on two threads: something blocks them")
            work.cancel()
            throw CancellationError()
        }
        return try outcome.withLock { $0! }.get()
    }

    @Test func manyStreamsAndFilesOnTwoThreadsFinishWhileOtherWorkRuns() async throws {
        let executor = ThreadPoolTaskExecutor(threads: 2)
        defer { executor.shutdown() }
        let classifier = try VideoClassifier(modelPath: nil)
        let clips = try FileManager.default.subpathsOfDirectory(atPath: TestPaths.fixture("synthetic"))
            .filter { $0.hasSuffix(".mp4") || $0.hasSuffix(".webm") }.sorted()
            .map { TestPaths.fixture("synthetic") + "/" + $0 }.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        #expect(clips.count == 5)
        // The reference: each clip classified synchronously.
        let expected = try clips.map { try classifier.classify(path: $0).top.label }
        let ticker = Ticker(on: executor)
        let (streamed, classified) = try await Self.run(on: executor, limit: .seconds(300)) {
            async let ticking: Void = ticker.run()
            defer { ticker.stop.set() }
            // Every clip as a stream (one prediction per 4 frames) and as a file, all at once.
            let streamed = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for (i, clip) in clips.enumerated() {
                    group.addTask {
                        var predictions = 0
                        for try await event in classifier.predictions(for: VideoFrames(path: clip), options: StreamOptions(emit: .everyFrames(4))) {
                            if event.scores != nil { predictions += 1 }
                        }
                        return (i, predictions)
                    }
                }
                return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
            }
            let classified = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (i, clip) in clips.enumerated() {
                    group.addTask { (i, try await classifier.classify(path: clip).top.label) }
                }
                return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
            }
            ticker.stop.set()
            await ticking
            return (streamed, classified)
        }
        #expect(streamed.count == clips.count && streamed.values.allSatisfy { $0 >= 4 }, "every stream yielded predictions: \(streamed)")
        #expect(clips.indices.map { classified[$0] } == expected, "the async results are the synchronous ones")
        let ticks = ticker.summary
        print("ConcurrencyTests: \(ticks.count) ticks in \(ticks.span), longest gap \(ticks.longestGap)")
        #expect(ticks.elsewhere == 0, "the ticker ran on the two-thread executor only (\(ticks.elsewhere) ticks elsewhere)")
        // At least one tick per 100 ms of the run (a tick every 5 ms when the threads are free),
        // however long the work took.
        #expect(ticks.count >= 3 && Double(ticks.count) >= ticks.span / .milliseconds(100),
                "the ticker kept running: \(ticks.count) ticks in \(ticks.span)")
        #expect(ticks.longestGap < .seconds(2), "no stall of the two threads: the longest gap between ticks was \(ticks.longestGap)")
    }

    /// The check above can fail: work that blocks both threads stalls the ticker for that long.
    @Test func theTickerSeesBlockingWorkOnTwoThreads() async throws {
        let executor = ThreadPoolTaskExecutor(threads: 2)
        defer { executor.shutdown() }
        let ticker = Ticker(on: executor)
        try await Self.run(on: executor, limit: .seconds(60)) {
            async let ticking: Void = ticker.run()
            try await Task.sleep(for: .milliseconds(50))
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<2 { group.addTask { usleep(1_500_000) } }  // blocks both threads
            }
            ticker.stop.set()
            await ticking
        }
        #expect(ticker.summary.longestGap >= .milliseconds(1_200), "blocking both threads stalls the ticker: \(ticker.summary.longestGap)")
    }

    /// Cancelling a task that iterates frames stops it promptly, and the decoder thread with it.
    @Test func cancellingAStreamStopsIt() async throws {
        let path = TestPaths.fixture("synthetic/move_right") 
        let clip = try #require(try FileManager.default.contentsOfDirectory(atPath: path).first.map { path + "/" + $0 })
        let task = Task {
            var frames = 0
            for try await _ in VideoFrames(path: clip, bufferSize: 1) {
                frames += 1
                try await Task.sleep(for: .seconds(10))
            }
            return frames
        }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
    }
}
