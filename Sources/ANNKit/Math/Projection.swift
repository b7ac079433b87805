/// The leading principal directions of a sample: an orthonormal `m × d` map. Distances in the
/// projected space never exceed the true distances, so a search can screen candidates on `m`
/// of `d` dimensions (a quarter of the sgemm work) and re-measure only the few that may win.
public struct Projection: Sendable {
    public let m: Int
    public let d: Int
    /// `m × d`, row-major; rows are orthonormal.
    public let rows: [Float]

    /// The widest data a projection is computed for: its covariance takes d² floats and d²
    /// doubles (12 MiB at 1024) and its eigendecomposition d³ work, so wider data, whatever
    /// its count, is screened on the full dimension instead.
    public static let maxDimension = 1024

    /// PCA of `n` vectors (row-major, `d` wide), keeping `m` directions; nil where it cannot
    /// be computed in bounded memory or in finite arithmetic (the screen is then skipped: it
    /// only ever saves work).
    public static func principal(of data: UnsafePointer<Float>, n: Int, d: Int, m: Int) -> Projection? {
        guard n >= 2, m < d, d <= maxDimension else { return nil }
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(data[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        var gram = [Float](repeating: 0, count: d * d)
        gram.withUnsafeMutableBufferPointer { g in
            BLAS.gemm(transA: true, transB: false, m: d, n: d, k: n, alpha: 1 / Float(n), a: data, lda: d,
                      b: data, ldb: d, beta: 0, c: g.baseAddress!, ldc: d)
        }
        // Sums over many large vectors can overflow float32 though each vector is within bounds.
        guard gram.allSatisfy(\.isFinite) else { return nil }
        var cov = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { cov[i * d + j] = Double(gram[i * d + j]) - mean[i] * mean[j] } }
        guard BLAS.symmetricEigen(&cov, n: d) != nil else { return nil }
        // Eigenvalues ascend: the last rows are the leading directions.
        var rows = [Float](repeating: 0, count: m * d)
        for r in 0..<m {
            let src = d - 1 - r
            var norm = 0.0
            for j in 0..<d { norm += cov[src * d + j] * cov[src * d + j] }
            let inv = 1 / norm.squareRoot()
            for j in 0..<d { rows[r * d + j] = Float(cov[src * d + j] * inv) }
        }
        guard rows.allSatisfy(\.isFinite) else { return nil }
        return Projection(m: m, d: d, rows: rows)
    }

    /// Projects `n` vectors into `out` (`n × m`).
    public func apply(_ x: UnsafePointer<Float>, n: Int, into out: UnsafeMutablePointer<Float>) {
        rows.withUnsafeBufferPointer { r in
            BLAS.gemmABt(m: n, n: m, k: d, alpha: 1, a: x, lda: d, b: r.baseAddress!, ldb: d, beta: 0, c: out, ldc: m)
        }
    }
}
