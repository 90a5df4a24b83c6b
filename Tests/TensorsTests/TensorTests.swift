import Testing
@testable import Tensors

@Suite struct TensorTests {
    @Test func copyOnWriteLeavesOriginalUntouched() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        var b = a
        b[1, 2] = 60
        #expect(a[1, 2] == 6)
        #expect(b[1, 2] == 60)
        #expect(a.storage !== b.storage)
    }

    @Test func uniqueTensorMutatesInPlace() {
        var a = Tensor(shape: [4], repeating: 1)
        let before = ObjectIdentifier(a.storage)
        a.scale(by: 2)
        #expect(ObjectIdentifier(a.storage) == before)
        #expect(a.scalars == [2, 2, 2, 2])
    }

    /// Gamma and beta samples (mixup's λ) have their distributions' means and variances.
    @Test(arguments: [0.3, 1, 2.5] as [Double])
    func gammaAndBetaSamplesHaveTheirMoments(shape: Double) {
        var rng = SplitMix64(seed: UInt64(shape * 10))
        let n = 40000
        let gammas = (0..<n).map { _ in rng.nextGamma(shape: shape) }
        let mean = gammas.reduce(0, +) / Double(n)
        let variance = gammas.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
        #expect(gammas.allSatisfy { $0 >= 0 && $0.isFinite })
        #expect(abs(mean - shape) < 0.03 * max(shape, 1), "mean \(mean) for shape \(shape)")
        #expect(abs(variance - shape) < 0.08 * max(shape, 1), "variance \(variance) for shape \(shape)")
        let (a, b) = (shape, 2.0)
        let betas = (0..<n).map { _ in rng.nextBeta(a, b) }
        let betaMean = betas.reduce(0, +) / Double(n)
        let betaVariance = betas.map { ($0 - betaMean) * ($0 - betaMean) }.reduce(0, +) / Double(n - 1)
        #expect(betas.allSatisfy { (0...1).contains($0) })
        #expect(abs(betaMean - a / (a + b)) < 0.01, "beta mean \(betaMean)")
        #expect(abs(betaVariance - a * b / ((a + b) * (a + b) * (a + b + 1))) < 0.005, "beta variance \(betaVariance)")
    }

    /// Beta(α, α) for a tiny α is nearly always within a hair of 0 or 1 (its gamma samples
    /// underflow as numbers, so they are taken as logarithms), never a middling 0.5.
    @Test func betaWithTinyParametersStaysAtTheEnds() {
        var rng = SplitMix64(seed: 9)
        let samples = (0..<5000).map { _ in rng.nextBeta(0.001, 0.001) }
        #expect(samples.allSatisfy { $0.isFinite && (0...1).contains($0) })
        let middling = samples.filter { $0 > 0.01 && $0 < 0.99 }.count
        #expect(middling < 50, "\(middling) of 5000 samples between 0.01 and 0.99")
        let low = samples.filter { $0 < 0.5 }.count
        #expect(low > 2000 && low < 3000, "symmetric: \(low) below 0.5")
    }

    @Test func reshapeIsAView() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = a.reshaped([3, -1])
        #expect(b.shape == [3, 2])
        #expect(a.storage === b.storage)
        #expect(b[2, 1] == 6)
    }

    @Test func reductionsAndAxes() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(a.sum() == 21)
        #expect(a.sum(alongAxis: 0).scalars == [5, 7, 9])
        #expect(a.sum(alongAxis: 1).scalars == [6, 15])
        #expect(a.transposed().scalars == [1, 4, 2, 5, 3, 6])
        #expect(a.argmaxRows() == [2, 2])
        let c = Tensor.concatenateLastAxis([a, a.sliceLastAxis(1, width: 2)])
        #expect(c.scalars == [1, 2, 3, 2, 3, 4, 5, 6, 5, 6])
        #expect(Tensor.stack([a, a]).shape == [2, 2, 3])
        #expect(a.slice(1).scalars == [4, 5, 6])
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulMatchesNaiveProduct(transposeA: Bool, transposeB: Bool) {
        var rng = SplitMix64(seed: 7)
        let m = 5, k = 7, n = 3
        let a = Tensor.normal(shape: transposeA ? [k, m] : [m, k], using: &rng)
        let b = Tensor.normal(shape: transposeB ? [n, k] : [k, n], using: &rng)
        let c = Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
        #expect(c.shape == [m, n])
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0
                for p in 0..<k {
                    s += (transposeA ? a[p, i] : a[i, p]) * (transposeB ? b[j, p] : b[p, j])
                }
                #expect(abs(c[i, j] - s) < 1e-4)
            }
        }
    }

    @Test func randomGeneratorIsReproducible() {
        var r1 = SplitMix64(seed: 42), r2 = SplitMix64(seed: 42), r3 = SplitMix64(seed: 43)
        let a = Tensor.uniform(shape: [100], bound: 0.5, using: &r1)
        let b = Tensor.uniform(shape: [100], bound: 0.5, using: &r2)
        let c = Tensor.uniform(shape: [100], bound: 0.5, using: &r3)
        #expect(a.scalars == b.scalars)
        #expect(a.scalars != c.scalars)
        #expect(a.scalars.allSatisfy { $0 >= -0.5 && $0 < 0.5 })
        #expect(abs(a.mean()) < 0.1)
    }

    /// im2col and col2im are adjoint: <im2col(x), y> == <x, col2im(y)>.
    @Test(arguments: [
        WindowGeometry(channels: 2, height: 5, width: 6, kernel: (3, 3), stride: (1, 1), padding: (1, 1)),
        WindowGeometry(
            channels: 3, height: 7, width: 5, kernel: (3, 2), stride: (2, 3), padding: (2, 1), dilation: (2, 1)),
        WindowGeometry(channels: 1, height: 4, width: 4, kernel: (1, 1)),
    ])
    func im2colIsAdjointOfCol2im(g: WindowGeometry) {
        var rng = SplitMix64(seed: 1)
        let x = Tensor.normal(shape: [g.channels, g.height, g.width], using: &rng)
        let cols = g.outputHeight * g.outputWidth
        let y = Tensor.normal(shape: [g.columnRows, cols], using: &rng)
        var colX = Tensor(shape: [g.columnRows, cols])
        x.withUnsafeBufferPointer { px in
            colX.withUnsafeMutableBufferPointer { pc in
                im2col(px.baseAddress!, g, columns: pc.baseAddress!, rowStride: cols)
            }
        }
        var imgY = Tensor(shape: x.shape)
        y.withUnsafeBufferPointer { py in
            imgY.withUnsafeMutableBufferPointer { pi in
                col2im(py.baseAddress!, rowStride: cols, g, image: pi.baseAddress!)
            }
        }
        let lhs = (colX * y).sum(), rhs = (x * imgY).sum()
        #expect(abs(lhs - rhs) < 1e-3 * max(1, abs(lhs)))
        // The centre tap of a padded 3×3 stride-1 window is the input itself.
        if g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.padH == 1 && g.dilationH == 1 {
            let centre = 4 * cols
            #expect(colX.scalars[centre..<(centre + cols)].elementsEqual(x.scalars.prefix(cols)))
        }
    }

    @Test func blasThreadCountIsSettable() {
        let old = BLASThreads.count
        BLASThreads.count = 1
        #expect(BLASThreads.count == 1)
        BLASThreads.count = old
    }
}

@Suite struct TensorMemoryTests {
    /// Freed large buffers go to the cache and can be released. (Other tests run concurrently in the
    /// same process, so only this test's own, uniquely sized buffer is asserted on.)
    @Test func largeBuffersAreCachedAndReleasable() {
        let count = (1 << 17) + 13
        do {
            let big = Tensor(shape: [count], repeating: 1)
            #expect(big.sum() == Float(count))
        }
        #expect(TensorMemory.cachedBytes >= count * 4)
        #expect(TensorMemory.releaseCachedBuffers() >= count * 4)
        let fresh = Tensor(shape: [count], repeating: 2)
        #expect(fresh.scalars.allSatisfy { $0 == 2 })
    }
}
