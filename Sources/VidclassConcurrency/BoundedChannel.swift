import Dispatch
import Foundation

/// A bounded first-in-first-out channel from a thread of our own (a decoder, say) to an async
/// consumer, with back-pressure and cancellation.
///
/// The producer's ``send(_:)`` waits, on the producer's own thread, while `capacity` elements are
/// queued; the consumer's ``next()`` never blocks a thread: it suspends with a continuation until
/// an element, the end or an error arrives. Cancelling the consumer's task (or calling
/// ``cancel()``) wakes the producer, whose next ``send(_:)`` returns false so it can stop.
package final class BoundedChannel<Element: Sendable>: Sendable {
    private struct State: ~Copyable {
        /// At most `capacity` elements: removing the first is cheap.
        var items: [Element] = []
        var completion: Result<Void, any Error>?
        var cancelled = false
        var waiting: CheckedContinuation<Element?, any Error>?
    }

    private enum SendAction { case dropped, queued, resume(CheckedContinuation<Element?, any Error>) }
    private enum ReceiveAction { case element(Element), end(Result<Void, any Error>), cancelled, wait }

    private let state = Locked(State())
    /// Free places; the producer takes one before each element, the consumer gives it back.
    private let slots: DispatchSemaphore
    package let capacity: Int

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
        slots = DispatchSemaphore(value: self.capacity)
    }

    /// Sends an element, waiting (on the calling thread, which must not be a Swift concurrency
    /// thread) while the channel is full. Returns false once the consumer is gone: stop producing.
    @discardableResult
    package func send(_ element: Element) -> Bool {
        slots.wait()
        let action: SendAction = state.withLock { s in
            if s.cancelled || s.completion != nil { return .dropped }
            if let waiting = s.waiting {
                s.waiting = nil
                return .resume(waiting)
            }
            s.items.append(element)
            return .queued
        }
        switch action {
        case .dropped:
            slots.signal()
            return false
        case .queued:
            return true
        case .resume(let continuation):
            slots.signal()
            continuation.resume(returning: element)
            return true
        }
    }

    /// Ends the channel: the consumer gets the queued elements, then nil (or `error`).
    package func finish(throwing error: (any Error)? = nil) {
        let waiting: CheckedContinuation<Element?, any Error>? = state.withLock { s in
            guard s.completion == nil else { return nil }
            s.completion = error.map { .failure($0) } ?? .success(())
            guard s.items.isEmpty else { return nil }
            defer { s.waiting = nil }
            return s.waiting
        }
        if let waiting {
            if let error { waiting.resume(throwing: error) } else { waiting.resume(returning: nil) }
        }
    }

    /// Whether the consumer has gone away (the producer should stop).
    package var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// The consumer is gone: drops what is queued and wakes a waiting producer and consumer.
    package func cancel() {
        let (waiting, dropped): (CheckedContinuation<Element?, any Error>?, Int) = state.withLock { s in
            s.cancelled = true
            let dropped = s.items.count
            s.items = []
            defer { s.waiting = nil }
            return (s.waiting, dropped)
        }
        // Give back the places of the dropped elements, and one more so a producer waiting for a
        // place wakes up and sees the channel cancelled.
        for _ in 0..<(dropped + 1) { slots.signal() }
        waiting?.resume(throwing: CancellationError())
    }

    /// The next element; nil at the end. Suspends (never blocks) while the channel is empty.
    /// - Throws: the producer's error, or `CancellationError` when the task is cancelled.
    package func next() async throws -> Element? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element?, any Error>) in
                let action: ReceiveAction = state.withLock { s in
                    if s.cancelled { return .cancelled }
                    if !s.items.isEmpty { return .element(s.items.removeFirst()) }
                    if let completion = s.completion { return .end(completion) }
                    s.waiting = continuation
                    return .wait
                }
                switch action {
                case .element(let element):
                    slots.signal()
                    continuation.resume(returning: element)
                case .end(.success):
                    continuation.resume(returning: nil)
                case .end(.failure(let error)):
                    continuation.resume(throwing: error)
                case .cancelled:
                    continuation.resume(throwing: CancellationError())
                case .wait:
                    break
                }
            }
        } onCancel: {
            cancel()
        }
    }
}

/// Runs `body` on a new thread of its own and returns its result to the awaiting task, which
/// suspends meanwhile: blocking or long synchronous work (opening a file, decoding, a network
/// pass) never holds a Swift concurrency thread.
package func onOwnThread<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
