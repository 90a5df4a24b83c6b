#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// Elementwise kernels. Each loops over unsafe buffers; binary ops require equal shapes
// (no implicit broadcasting: the few broadcasts the layers need are explicit functions).

extension Tensor {
    /// Applies `f` to every element.
    @inlinable
    public func map(_ f: (Float) -> Float) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count { dst[i] = f(src[i]) }
            }
        }
        return out
    }

    /// Combines two equally shaped tensors element by element.
    @inlinable
    public func zipMap(_ other: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "shape mismatch: \(shape) vs \(other.shape)")
        var out = Tensor(uninitializedShape: shape)
        withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<a.count { dst[i] = f(a[i], b[i]) }
                }
            }
        }
        return out
    }

    /// In-place `self += alpha * other` (equal element counts).
    public mutating func addScaled(_ other: Tensor, alpha: Float = 1) {
        precondition(count == other.count, "count mismatch: \(shape) vs \(other.shape)")
        other.withUnsafeBufferPointer { b in
            withUnsafeMutableBufferPointer { a in
                for i in 0..<a.count { a[i] += alpha * b[i] }
            }
        }
    }

    /// In-place multiplication by a scalar.
    public mutating func scale(by factor: Float) {
        withUnsafeMutableBufferPointer { a in
            for i in 0..<a.count { a[i] *= factor }
        }
    }

    /// Sets every element to `value`.
    public mutating func fill(_ value: Float) {
        withUnsafeMutableBufferPointer { a in a.update(repeating: value) }
    }

    /// Elementwise sum; the shapes must be equal (no broadcasting).
    public static func + (a: Tensor, b: Tensor) -> Tensor { a.zipMap(b, +) }
    /// Elementwise difference; the shapes must be equal.
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.zipMap(b, -) }
    /// Elementwise (Hadamard) product; the shapes must be equal.
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.zipMap(b, *) }
    /// Elementwise quotient; the shapes must be equal.
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.zipMap(b, /) }
    /// Every element times the scalar `s`.
    public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }
    /// Every element times the scalar `s`.
    public static func * (s: Float, a: Tensor) -> Tensor { a.map { $0 * s } }
    /// Every element plus the scalar `s`.
    public static func + (a: Tensor, s: Float) -> Tensor { a.map { $0 + s } }
    /// Every element negated.
    public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }
    /// Adds `b` to `a` in place; the element counts must be equal.
    public static func += (a: inout Tensor, b: Tensor) { a.addScaled(b) }
    /// Subtracts `b` from `a` in place; the element counts must be equal.
    public static func -= (a: inout Tensor, b: Tensor) { a.addScaled(b, alpha: -1) }

    /// `max(x, 0)` elementwise.
    public func relu() -> Tensor { map { $0 > 0 ? $0 : 0 } }
    /// Logistic sigmoid elementwise.
    public func sigmoid() -> Tensor { map { 1 / (1 + expf(-$0)) } }
    /// Hyperbolic tangent elementwise.
    public func tanh() -> Tensor { map { tanhf($0) } }
    /// Exponential elementwise.
    public func exp() -> Tensor { map { expf($0) } }
    /// Square root elementwise.
    public func squareRoot() -> Tensor { map { $0.squareRoot() } }
}

// MARK: - Reductions

extension Tensor {
    /// Sum of all elements (accumulated in Double).
    public func sum() -> Float {
        withUnsafeBufferPointer { p in
            var s = 0.0
            for v in p { s += Double(v) }
            return Float(s)
        }
    }

    /// Mean of all elements.
    public func mean() -> Float { count == 0 ? 0 : sum() / Float(count) }

    /// Largest element.
    public func max() -> Float {
        withUnsafeBufferPointer { p in p.max() ?? -.infinity }
    }

    /// Sum of squares of all elements (accumulated in Double).
    public func squaredNorm() -> Double {
        withUnsafeBufferPointer { p in
            var s = 0.0
            for v in p { s += Double(v) * Double(v) }
            return s
        }
    }

    /// Sums over `axis`, removing it from the shape.
    public func sum(alongAxis axis: Int) -> Tensor {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for rank \(rank)")
        let outer = shape[..<axis].reduce(1, *)
        let n = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var outShape = shape
        outShape.remove(at: axis)
        var out = Tensor(shape: outShape)
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer {
                    for j in 0..<n {
                        let s = src.baseAddress! + (o * n + j) * inner
                        let d = dst.baseAddress! + o * inner
                        for i in 0..<inner { d[i] += s[i] }
                    }
                }
            }
        }
        return out
    }

    /// Index of the largest element in each row of a `[rows, columns]` tensor.
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "argmaxRows needs rank 2")
        let cols = shape[1]
        return withUnsafeBufferPointer { p in
            (0..<shape[0]).map { r in
                var best = 0
                for c in 1..<Swift.max(cols, 1) where p[r * cols + c] > p[r * cols + best] { best = c }
                return best
            }
        }
    }
}

// MARK: - Shape operations (copying)

extension Tensor {
    /// Swaps the first two axes: `[A, B, rest…]` → `[B, A, rest…]`.
    public func swappingFirstAxes() -> Tensor {
        precondition(rank >= 2, "swappingFirstAxes needs rank ≥ 2")
        let a = shape[0], b = shape[1]
        let inner = shape[2...].reduce(1, *)
        var outShape = shape
        outShape.swapAt(0, 1)
        var out = Tensor(uninitializedShape: outShape)
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<a {
                    for j in 0..<b {
                        (dst.baseAddress! + (j * a + i) * inner).update(
                            from: src.baseAddress! + (i * b + j) * inner, count: inner)
                    }
                }
            }
        }
        return out
    }

    /// The transpose of a rank-2 tensor.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed needs rank 2")
        return reshaped([shape[0], shape[1], 1]).swappingFirstAxes().reshaped([shape[1], shape[0]])
    }

    /// The sub-tensor at `index` along the first axis (a copy).
    public func slice(_ index: Int) -> Tensor {
        precondition(rank >= 1 && index >= 0 && index < shape[0], "slice index \(index) out of range")
        let inner = count / Swift.max(shape[0], 1)
        var out = Tensor(uninitializedShape: Array(shape.dropFirst()))
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                dst.baseAddress!.update(from: src.baseAddress! + index * inner, count: inner)
            }
        }
        return out
    }

    /// Stacks equally shaped tensors along a new first axis.
    public static func stack(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty, "stack of nothing")
        let inner = parts[0].count
        var out = Tensor(uninitializedShape: [parts.count] + parts[0].shape)
        out.withUnsafeMutableBufferPointer { dst in
            for (i, p) in parts.enumerated() {
                precondition(p.shape == parts[0].shape, "stack shape mismatch")
                p.withUnsafeBufferPointer { src in
                    (dst.baseAddress! + i * inner).update(from: src.baseAddress!, count: inner)
                }
            }
        }
        return out
    }

    /// Concatenates along the last axis (all other dimensions equal).
    public static func concatenateLastAxis(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty, "concatenation of nothing")
        let lead = Array(parts[0].shape.dropLast())
        let rows = lead.reduce(1, *)
        let widths = parts.map { $0.shape.last ?? 1 }
        let total = widths.reduce(0, +)
        var out = Tensor(uninitializedShape: lead + [total])
        out.withUnsafeMutableBufferPointer { dst in
            var offset = 0
            for (p, w) in zip(parts, widths) {
                precondition(Array(p.shape.dropLast()) == lead, "concatenation shape mismatch")
                p.withUnsafeBufferPointer { src in
                    for r in 0..<rows {
                        (dst.baseAddress! + r * total + offset).update(from: src.baseAddress! + r * w, count: w)
                    }
                }
                offset += w
            }
        }
        return out
    }

    /// Columns `start ..< start + width` of the last axis (a copy).
    public func sliceLastAxis(_ start: Int, width: Int) -> Tensor {
        let w = shape.last ?? 1
        precondition(start >= 0 && start + width <= w, "last-axis slice out of range")
        let lead = Array(shape.dropLast())
        let rows = lead.reduce(1, *)
        var out = Tensor(uninitializedShape: lead + [width])
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    (dst.baseAddress! + r * width).update(from: src.baseAddress! + r * w + start, count: width)
                }
            }
        }
        return out
    }

    /// True when shapes are equal and `|a - b| ≤ atol + rtol·|b|` elementwise.
    public func isClose(to other: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6) -> Bool {
        guard shape == other.shape else { return false }
        return withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                for i in 0..<a.count where !(abs(a[i] - b[i]) <= atol + rtol * abs(b[i])) { return false }
                return true
            }
        }
    }

    /// Largest elementwise `|a - b|`.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(count == other.count, "count mismatch")
        return withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                var m: Float = 0
                for i in 0..<a.count { m = Swift.max(m, abs(a[i] - b[i])) }
                return m
            }
        }
    }
}
