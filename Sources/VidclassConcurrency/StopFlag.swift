import Synchronization

/// A flag that one thread or task sets and others read: a stop request for long work (decoding,
/// training, labelling) that a signal handler, a cancellation handler or a caller raises.
///
/// ```swift
/// let stop = StopFlag()
/// Task { try await Task.sleep(for: .seconds(60)); stop.set() }
/// let result = try TrainingRun(configuration).run(stop: stop)
/// ```
public final class StopFlag: Sendable {
    private let value = Atomic(false)

    public init() {}

    /// Whether the flag has been set.
    public var isSet: Bool { value.load(ordering: .acquiring) }

    /// Sets the flag (it stays set).
    public func set() { value.store(true, ordering: .releasing) }
}

/// A counter several threads take numbers from.
package final class AtomicCounter: Sendable {
    private let value = Atomic(0)

    package init() {}

    /// The current value, then one more for the next caller.
    package func increment() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }

    /// The current value.
    package var current: Int { value.load(ordering: .relaxed) }
}
