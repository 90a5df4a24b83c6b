import Foundation
import VidclassConcurrency

/// Results that parallel workers fill in by index.
final class ParallelResults<Value: Sendable>: Sendable {
    private struct State {
        var values: [Value?]
        var finished = 0
    }
    private let state: Locked<State>

    init(count: Int) { state = Locked(State(values: Array(repeating: nil, count: count))) }

    /// The values so far.
    var values: [Value?] { state.withLock { $0.values } }
    /// How many values are set.
    var done: Int { state.withLock { $0.finished } }

    func set(_ index: Int, _ value: Value) {
        state.withLock {
            $0.values[index] = value
            $0.finished += 1
        }
    }
}
