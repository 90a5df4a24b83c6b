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

    /// Appends without waiting: when the queue is full, the oldest element for which `droppable`
    /// is true makes room and is passed to `dropped` (under the queue's lock, so a consumer never
    /// sees the new element before the drop is counted); elements that are not droppable are
    /// always kept, so the queue may then hold more than its capacity.
    package func pushDroppingOldest(_ item: Element, droppable: (Element) -> Bool, dropped: (Element) -> Void) {
        condition.lock()
        defer { condition.unlock() }
        if items.count >= capacity, let oldest = items.firstIndex(where: droppable) {
            dropped(items.remove(at: oldest))
        }
        items.append(item)
        condition.broadcast()
    }

    /// The next item, waiting for one; nil once closed and empty.
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

