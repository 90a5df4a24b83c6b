import Foundation

/// A bounded first-in-first-out queue between threads.
package final class BlockingQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var closed = false
    private let capacity: Int

    package init(capacity: Int) { self.capacity = capacity }

    package func push(_ item: Element) {
        condition.lock()
        while items.count >= capacity && !closed { condition.wait() }
        items.append(item)
        condition.broadcast()
        condition.unlock()
    }

    /// The next item, waiting for one; nil once closed and empty.
    /// Appends without waiting: when the queue is full, the oldest element for which `droppable`
    /// is true makes room and is returned (the caller counts it); elements that are not droppable
    /// are always kept, so the queue may then hold more than its capacity.
    package func pushDroppingOldest(_ item: Element, droppable: (Element) -> Bool) -> Element? {
        condition.lock()
        defer { condition.unlock() }
        var dropped: Element?
        if items.count >= capacity, let oldest = items.firstIndex(where: droppable) {
            dropped = items.remove(at: oldest)
        }
        items.append(item)
        condition.broadcast()
        return dropped
    }

    package func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        guard !items.isEmpty else { return nil }
        condition.broadcast()
        return items.removeFirst()
    }

    /// The next item if one is ready.
    package func tryPop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        guard !items.isEmpty else { return nil }
        condition.broadcast()
        return items.removeFirst()
    }

    package func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

