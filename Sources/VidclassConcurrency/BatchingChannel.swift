/// A bounded first-in-first-out channel between two tasks, whose consumer takes everything that is
/// waiting at once: a producer task that reads a source ahead, and a consumer that handles what
/// has piled up as one batch.
///
/// The producer's ``send(_:)`` suspends while `capacity` elements are queued (holding the element
/// it sends, which is queued when there is room); the consumer's
/// ``nextBatch(limit:)`` suspends while none is. Neither blocks a thread. ``cancel()`` (or
/// cancelling either side's task while it waits) ends the channel for both: a waiting producer
/// gets false, a waiting consumer `CancellationError`. One producer and one consumer: a second
/// one waiting at the same time is a programming error (a precondition failure).
package final class BatchingChannel<Element: Sendable>: Sendable {
    private struct State: ~Copyable {
        var items: [Element] = []
        var completion: Result<Void, any Error>?
        var cancelled = false
        /// A producer waiting for room, with the element it sends.
        var producer: (CheckedContinuation<Bool, Never>, Element)?
        var consumer: CheckedContinuation<[Element]?, any Error>?
    }

    private enum SendAction { case done(Bool), wait, hand(CheckedContinuation<[Element]?, any Error>, [Element]) }
    private enum ReceiveAction {
        case batch([Element], CheckedContinuation<Bool, Never>?), end(Result<Void, any Error>), cancelled, wait
    }

    private let state = Locked(State())
    package let capacity: Int

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Queues an element, suspending while the channel is full. Returns false once the channel is
    /// cancelled (the element is dropped): stop producing.
    package func send(_ element: Element) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let action: SendAction = state.withLock { s in
                    if s.cancelled || s.completion != nil { return .done(false) }
                    if let consumer = s.consumer {
                        // The consumer is waiting, so nothing is queued: hand it over directly.
                        s.consumer = nil
                        return .hand(consumer, [element])
                    }
                    if s.items.count < capacity {
                        s.items.append(element)
                        return .done(true)
                    }
                    precondition(s.producer == nil, "BatchingChannel has one producer")
                    s.producer = (continuation, element)
                    return .wait
                }
                switch action {
                case .done(let sent): continuation.resume(returning: sent)
                case .wait: break
                case .hand(let consumer, let batch):
                    consumer.resume(returning: batch)
                    continuation.resume(returning: true)
                }
            }
        } onCancel: {
            cancel()
        }
    }

    /// Ends the channel: the consumer gets what is queued, then nil (or `error`).
    package func finish(throwing error: (any Error)? = nil) {
        let consumer: CheckedContinuation<[Element]?, any Error>? = state.withLock { s in
            guard s.completion == nil, !s.cancelled else { return nil }
            s.completion = error.map { .failure($0) } ?? .success(())
            defer { s.consumer = nil }
            return s.consumer
        }
        if let error { consumer?.resume(throwing: error) } else { consumer?.resume(returning: nil) }
    }

    /// Ends the channel for both sides: drops what is queued, wakes a waiting producer (false) and
    /// a waiting consumer (`CancellationError`).
    package func cancel() {
        let (producer, consumer) = state.withLock { s in
            s.cancelled = true
            s.items = []
            defer { s.producer = nil; s.consumer = nil }
            return (s.producer, s.consumer)
        }
        producer?.0.resume(returning: false)
        consumer?.resume(throwing: CancellationError())
    }

    /// Whether a producer waits for room, and whether a consumer waits for an element.
    package var waiting: (producer: Bool, consumer: Bool) {
        state.withLock { ($0.producer != nil, $0.consumer != nil) }
    }

    /// Everything queued, up to `limit` elements, in order; suspends while nothing is. Nil at the end.
    /// - Throws: the producer's error (after the elements sent before it), or `CancellationError`.
    package func nextBatch(limit: Int) async throws -> [Element]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Element]?, any Error>) in
                let action: ReceiveAction = state.withLock { s in
                    if s.cancelled { return .cancelled }
                    if !s.items.isEmpty {
                        let n = min(max(1, limit), s.items.count)
                        let batch = Array(s.items.prefix(n))
                        s.items.removeFirst(n)
                        // There is room now for a waiting producer's element.
                        guard let (producer, element) = s.producer else { return .batch(batch, nil) }
                        s.items.append(element)
                        s.producer = nil
                        return .batch(batch, producer)
                    }
                    if let completion = s.completion { return .end(completion) }
                    precondition(s.consumer == nil, "BatchingChannel has one consumer")
                    s.consumer = continuation
                    return .wait
                }
                switch action {
                case .batch(let batch, let producer):
                    producer?.resume(returning: true)
                    continuation.resume(returning: batch)
                case .end(.success): continuation.resume(returning: nil)
                case .end(.failure(let error)): continuation.resume(throwing: error)
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .wait: break
                }
            }
        } onCancel: {
            cancel()
        }
    }
}
