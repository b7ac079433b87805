extension ProductQuantizer {
    /// Learns a rotation R with the codebooks (FAISS's OPQ, non-parametric): starting from no
    /// rotation, each of `rounds` rounds codes the rotated sample, sets R to the orthogonal
    /// matrix that brings the sample nearest its reconstructions (orthogonal Procrustes), and
    /// moves the codebooks after it. SIFT's dimensions differ widely in spread and are correlated
    /// within a patch; a plain split gives some subspaces little to code and others too much.
    /// The rounds see the first `roundSample` vectors (the sample is random already); the final
    /// codebooks are refined on all `n`. Deterministic for a seed.
    public static func trainRotated(_ data: UnsafePointer<Float>, n: Int, dim d: Int, m: Int, rounds: Int, roundSample: Int,
                                    roundIterations: Int, iterations: Int = 20, seed: UInt64,
                                    threads: Int = Machine.cores) throws -> ProductQuantizer {
        var r = [Float](repeating: 0, count: d * d)
        for i in 0..<d { r[i * d + i] = 1 }
        var z = [Float](repeating: 0, count: n * d)
        let nr = max(min(n, roundSample), min(n, words))
        var y = [Float](repeating: 0, count: nr * d)
        var codes = [UInt8](repeating: 0, count: n * m)
        func rotateSample(_ n: Int) {
            r.withUnsafeBufferPointer { rb in
                z.withUnsafeMutableBufferPointer { zb in
                    BLAS.gemmABt(m: n, n: d, k: d, alpha: 1, a: data, lda: d, b: rb.baseAddress!, ldb: d, beta: 0, c: zb.baseAddress!, ldc: d)
                }
            }
        }
        // The codebooks of the unrotated sample, then a few Lloyd steps a round from the last
        // round's: R moves a little each round, and so do the words that suit it.
        rotateSample(nr)
        var pq = try z.withUnsafeBufferPointer { try train($0.baseAddress!, n: nr, dim: d, m: m, iterations: iterations, seed: seed) }
        for _ in 0..<max(0, rounds) {
            let n = nr
            z.withUnsafeBufferPointer { zb in
                codes.withUnsafeMutableBufferPointer { cb in pq.nearestWords(zb.baseAddress!, n: n, into: cb.baseAddress!, parts: threads) }
            }
            y.withUnsafeMutableBufferPointer { yb in
                codes.withUnsafeBufferPointer { cb in
                    for i in 0..<n { pq.decodeRotated(cb.baseAddress! + i * m, into: yb.baseAddress! + i * d) }
                }
            }
            // A = Xᵀ·Y: the R minimising Σ‖R·x − y‖² maximises tr(R·A).
            var a = [Float](repeating: 0, count: d * d)
            y.withUnsafeBufferPointer { yb in
                a.withUnsafeMutableBufferPointer { ab in
                    BLAS.gemm(transA: true, transB: false, m: d, n: d, k: n, alpha: 1 / Float(n), a: data, lda: d,
                              b: yb.baseAddress!, ldb: d, beta: 0, c: ab.baseAddress!, ldc: d)
                }
            }
            guard let next = procrustes(a, d: d) else { break }
            r = next
            rotateSample(n)
            z.withUnsafeBufferPointer { zb in
                codes.withUnsafeMutableBufferPointer { cb in
                    for _ in 0..<roundIterations { pq.lloydStep(zb.baseAddress!, n: n, codes: cb.baseAddress!, parts: threads) }
                }
            }
        }
        y = []
        rotateSample(n)
        z.withUnsafeBufferPointer { zb in
            codes.withUnsafeMutableBufferPointer { cb in
                for _ in 0..<(rounds > 0 ? iterations : 0) { pq.lloydStep(zb.baseAddress!, n: n, codes: cb.baseAddress!, parts: threads) }
            }
        }
        return ProductQuantizer(dim: d, m: m, codebooks: pq.codebooks, rotation: r)
    }

    /// One Lloyd step of every subspace's codebook over `n` (rotated) vectors: each word moves
    /// to the mean of the vectors coded with it; a word no vector chose stays. `codes`: scratch
    /// of `n·m` bytes.
    mutating func lloydStep(_ data: UnsafePointer<Float>, n: Int, codes: UnsafeMutablePointer<UInt8>, parts: Int) {
        nearestWords(data, n: n, into: codes, parts: parts)
        var sums = [Double](repeating: 0, count: Self.words * dim)
        var counts = [Int](repeating: 0, count: Self.words * m)
        for i in 0..<n {
            for s in 0..<m {
                let word = Int(codes[i * m + s])
                counts[s * Self.words + word] += 1
                for u in bounds[s]..<bounds[s + 1] { sums[u * Self.words + word] += Double(data[i * dim + u]) }
            }
        }
        for s in 0..<m {
            for word in 0..<Self.words where counts[s * Self.words + word] > 0 {
                let c = Double(counts[s * Self.words + word])
                for u in bounds[s]..<bounds[s + 1] { codebooks[u * Self.words + word] = Float(sums[u * Self.words + word] / c) }
            }
        }
    }

    /// The code of each of `n` (rotated) vectors as `encodeRotated` gives it, up to rounding
    /// (‖c‖² − 2x·c by sgemm, a block of rows and a subspace at a time), in `parts` slices run
    /// concurrently: the learning of the rotation codes its sample over a hundred times.
    func nearestWords(_ data: UnsafePointer<Float>, n: Int, into codes: UnsafeMutablePointer<UInt8>, parts: Int) {
        let words = Self.words, block = 2048
        var norms = [Float](repeating: 0, count: m * words)
        for s in 0..<m {
            for u in bounds[s]..<bounds[s + 1] {
                for j in 0..<words { norms[s * words + j] += codebooks[u * words + j] * codebooks[u * words + j] }
            }
        }
        let blocks = (n + block - 1) / block, p = max(1, min(parts, blocks))
        nonisolated(unsafe) let (data, codes) = (data, codes)
        codebooks.withUnsafeBufferPointer { cb in
            norms.withUnsafeBufferPointer { nb in
                nonisolated(unsafe) let (cb, nb) = (cb, nb)
                Parallel.forEach(p) { t in
                    let dots = UnsafeMutablePointer<Float>.allocate(capacity: block * words)
                    defer { dots.deallocate() }
                    for b in stride(from: t, to: blocks, by: p) {
                        let lo = b * block, rows = min(block, n - lo)
                        for s in 0..<m {
                            let first = bounds[s]
                            BLAS.gemm(transA: false, transB: false, m: rows, n: words, k: width(s), alpha: -2, a: data + lo * dim + first, lda: dim,
                                      b: cb.baseAddress! + first * words, ldb: words, beta: 0, c: dots, ldc: words)
                            let norm = nb.baseAddress! + s * words
                            for i in 0..<rows {
                                let row = dots + i * words
                                var best = row[0] + norm[0], arg = 0
                                for j in 1..<words where row[j] + norm[j] < best { best = row[j] + norm[j]; arg = j }
                                codes[(lo + i) * m + s] = UInt8(arg)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The orthogonal R maximising tr(R·A) for a `d × d` A (row-major): V·Uᵀ for A = U·S·Vᵀ.
    /// Nil when the decomposition fails.
    static func procrustes(_ a: [Float], d: Int) -> [Float]? {
        var m = a.map(Double.init)
        guard let (u, _, vt) = BLAS.singularValues(&m, n: d) else { return nil }
        // R[i][j] = Σ_k V[i][k]·U[j][k] = Σ_k Vᵀ[k][i]·U[j][k].
        var r = [Float](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0..<d {
                var s = 0.0
                for k in 0..<d { s += vt[k * d + i] * u[j * d + k] }
                r[i * d + j] = Float(s)
            }
        }
        return r.allSatisfy(\.isFinite) ? r : nil
    }
}
