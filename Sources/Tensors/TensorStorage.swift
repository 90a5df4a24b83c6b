import VidclassConcurrency

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
        let raw = StoragePool.allocate(byteCount: max(count, 1) * 4)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Allocates storage with every element set to `value`.
    package convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit {
        StoragePool.release(UnsafeMutableRawPointer(pointer), byteCount: max(count, 1) * 4)
    }

    /// A new storage holding the same elements.
    @inline(never)
    package func copy() -> TensorStorage {
        let other = TensorStorage(uninitializedCount: count)
        other.pointer.update(from: pointer, count: count)
        return other
    }
}

/// A cache of large freed tensor buffers, keyed by exact byte size.
///
/// Training and batched inference allocate the same large activation sizes on every step; reusing
/// them avoids the kernel zeroing fresh pages (mmap/munmap) each time. Buffers under 256 KiB go
/// straight to the allocator; at most `limit` (3 GiB) bytes are kept.
enum StoragePool {
    static let minimumBytes = 256 << 10
    static let limit = 3 << 30
    private struct Block: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
    }
    private struct State: ~Copyable {
        var free: [Int: [Block]] = [:]
        var bytes = 0
    }
    private static let state = Locked(State())

    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        if byteCount >= minimumBytes {
            let reused = state.withLock { s -> Block? in
                guard let p = s.free[byteCount]?.popLast() else { return nil }
                s.bytes -= byteCount
                return p
            }
            if let reused { return reused.pointer }
        }
        return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
    }

    /// Frees every cached buffer; returns the number of bytes released.
    static func drain() -> Int {
        let blocks = state.withLock { s -> ([Block], Int) in
            let all = s.free.values.flatMap { $0 }
            let bytes = s.bytes
            s.free = [:]
            s.bytes = 0
            return (all, bytes)
        }
        for b in blocks.0 { b.pointer.deallocate() }
        return blocks.1
    }

    /// Bytes currently cached.
    static var cachedBytes: Int { state.withLock { $0.bytes } }

    static func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        if byteCount >= minimumBytes {
            let block = Block(pointer: pointer)
            let kept = state.withLock { s -> Bool in
                guard s.bytes + byteCount <= limit else { return false }
                s.free[byteCount, default: []].append(block)
                s.bytes += byteCount
                return true
            }
            if kept { return }
        }
        pointer.deallocate()
    }
}

/// Control of the cache of large tensor buffers that vidclass keeps between steps.
public enum TensorMemory {
    /// Bytes held in freed-but-cached tensor buffers (at most 3 GiB).
    public static var cachedBytes: Int { StoragePool.cachedBytes }

    /// Returns all cached tensor buffers to the system allocator (e.g. after training finishes).
    @discardableResult
    public static func releaseCachedBuffers() -> Int { StoragePool.drain() }
}
