import CBLAS

/// The only door to OpenBLAS. Matrices are row-major float32.
public enum BLAS {
    /// C (m×n) = alpha · A (m×k) · Bᵀ (B is n×k) + beta · C.
    @inline(__always)
    public static func gemmABt(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                               b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// General row-major sgemm: C (m×n) = alpha · op(A) · op(B) + beta · C.
    @inline(__always)
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `gemm` with the rows of C split in `parts`, each part a single-threaded sgemm run
    /// concurrently: OpenBLAS's own threads spin between calls and fight the element-wise work
    /// around them. The split is fixed, not one part per core: OpenBLAS's last bits depend on
    /// where a split falls, and a seed gives the same model whatever the cores (ann-tools(7)).
    public static func gemmParallel(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, parts: Int = 2) {
        let p = max(1, min(parts, m / 64))
        Parallel.forEach(p) { t in
            let r0 = m * t / p, r1 = m * (t + 1) / p
            gemm(transA: transA, transB: transB, m: r1 - r0, n: n, k: k, alpha: alpha,
                 a: transA ? a + r0 : a + r0 * lda, lda: lda, b: b, ldb: ldb, beta: beta, c: c + r0 * ldc, ldc: ldc)
        }
    }

    /// OpenBLAS's own thread count. Our kernels split work across cores themselves and call
    /// sgemm from each worker, so they set this to 1; one large gemm may set it higher.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(n))
    }

    /// Eigen-decomposition of a symmetric `n × n` matrix (row-major, overwritten): returns the
    /// eigenvalues in ascending order, and leaves the eigenvectors in the rows of `a`.
    public static func symmetricEigen(_ a: inout [Double], n: Int) -> [Double]? {
        var w = [Double](repeating: 0, count: n)
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0, lwork: Int32 = -1
        var query = 0.0
        "V".withCString { jobz in
            "U".withCString { uplo in
                dsyev_(jobz, uplo, &nn, &a, &lda, &w, &query, &lwork, &info)
                lwork = Int32(query)
                var work = [Double](repeating: 0, count: Int(lwork))
                dsyev_(jobz, uplo, &nn, &a, &lda, &w, &work, &lwork, &info)
            }
        }
        // Column-major eigenvectors of a row-major symmetric matrix read back as rows.
        return info == 0 ? w : nil
    }

    /// Singular value decomposition of a square `n × n` matrix A (row-major, overwritten):
    /// A = U·diag(s)·Vᵀ, U and Vᵀ returned row-major, s descending; nil if LAPACK fails.
    public static func singularValues(_ a: inout [Double], n: Int) -> (u: [Double], s: [Double], vt: [Double])? {
        // LAPACK reads the row-major A as Aᵀ = U'·S·V'ᵀ (column-major), so A = V'·S·U'ᵀ: its U is
        // V', whose column-major Vᵀ' array reads row-major as V', and its Vᵀ likewise U'ᵀ.
        var s = [Double](repeating: 0, count: n)
        var u = [Double](repeating: 0, count: n * n), vt = [Double](repeating: 0, count: n * n)
        var nn = Int32(n), info: Int32 = 0, lwork: Int32 = -1
        var query = 0.0
        "A".withCString { job in
            dgesvd_(job, job, &nn, &nn, &a, &nn, &s, &u, &nn, &vt, &nn, &query, &lwork, &info)
            lwork = Int32(query)
            var work = [Double](repeating: 0, count: max(1, Int(lwork)))
            dgesvd_(job, job, &nn, &nn, &a, &nn, &s, &u, &nn, &vt, &nn, &work, &lwork, &info)
        }
        return info == 0 ? (u: vt, s: s, vt: u) : nil
    }
}
