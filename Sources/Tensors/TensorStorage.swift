/// The heap buffer behind a ``Tensor``: a fixed number of `Float`s, 64-byte aligned.
///
/// Shared between tensor values until one of them mutates (copy-on-write, see
/// ``Tensor/withUnsafeMutableBufferPointer(_:)``).
public final class TensorStorage: @unchecked Sendable {
    /// Number of elements.
    public let count: Int
    /// The first element. Valid for `count` elements for the storage's lifetime.
    @usableFromInline package let pointer: UnsafeMutablePointer<Float>

    /// Allocates uninitialised storage for `count` elements.
    package init(uninitializedCount count: Int) {
        precondition(count >= 0, "negative element count")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Allocates storage with every element set to `value`.
    package convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit {
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    /// A new storage holding the same elements.
    @inline(never)
    package func copy() -> TensorStorage {
        let other = TensorStorage(uninitializedCount: count)
        other.pointer.update(from: pointer, count: count)
        return other
    }
}
