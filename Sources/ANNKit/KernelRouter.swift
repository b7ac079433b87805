import Dispatch
import Glibc

/// A cluster router made of weighted points inside each cluster (ann-formats(5), ANNM
/// architecture 1): cluster c scores log Σ_j exp(w·(2q·s_cj − ‖s_cj‖²) + a_cj), a kernel
/// density of "queries whose nearest neighbour lies in c". With one point per cluster at its
/// centroid it is centroid routing; several points follow a cluster's shape, and the learned
/// log-weights a_cj and w = 1/T turn distances into calibrated probabilities, which the
/// `--threshold` probe rule needs. For ip and cos the term is w·q·s_cj + a_cj.
public struct KernelRouter: ClusterRouter {
    public var dim: Int
    public var clusterCount: Int
    /// Points per cluster (unused slots have weight `KernelRouter.absent`).
    public var slots: Int
    public var metric: Metric
    public var fingerprint: UInt64
    /// w = 1/T.
    public var weight: Float
    /// `K·slots × d`, cluster-major.
    public var points: [Float]
    /// `K·slots` log-weights a_cj.
    public var logWeights: [Float]

    /// The log-weight of an unused slot: finite, so files and sums never hold NaN or ∞.
    public static let absent: Float = -1e30

    public init(dim: Int, clusterCount: Int, slots: Int, metric: Metric, fingerprint: UInt64, weight: Float,
                points: [Float], logWeights: [Float]) {
        precondition(points.count == clusterCount * slots * dim && logWeights.count == clusterCount * slots)
        self.dim = dim
        self.clusterCount = clusterCount
        self.slots = slots
        self.metric = metric
        self.fingerprint = fingerprint
        self.weight = weight
        self.points = points
        self.logWeights = logWeights
    }

    public var parameterCount: Int { points.count + logWeights.count + 1 }

    /// Buffers of one forward pass, kept for the backward pass.
    public final class Workspace {
        /// `n × K·slots`: after `forward`, each point's share of its cluster (softmax within the cluster).
        public var shares: [Float] = []
        /// `n × K` cluster logits (larger = more likely).
        public var logits: [Float] = []
        var bias: [Float] = []
        public init() {}
        func reserve(_ n: Int, _ r: KernelRouter) {
            let ks = r.clusterCount * r.slots
            if shares.count < n * ks { shares = [Float](repeating: 0, count: n * ks) }
            if logits.count < n * r.clusterCount { logits = [Float](repeating: 0, count: n * r.clusterCount) }
            if bias.count != ks { bias = [Float](repeating: 0, count: ks) }
        }
    }

    /// The constant part of each point's term: a − w‖s‖² (l2), a otherwise.
    func fillBias(_ bias: inout [Float]) {
        let ks = clusterCount * slots, d = dim
        points.withUnsafeBufferPointer { s in
            for i in 0..<ks {
                bias[i] = logWeights[i] - (metric == .l2 ? weight * Kernels.dot(s.baseAddress! + i * d, s.baseAddress! + i * d, d) : 0)
            }
        }
    }

    /// Logits of `n` queries, and each point's share of its cluster.
    public func forward(_ queries: UnsafePointer<Float>, n: Int, into ws: Workspace) {
        ws.reserve(n, self)
        let ks = clusterCount * slots, k = clusterCount
        fillBias(&ws.bias)
        ws.shares.withUnsafeMutableBufferPointer { zp in
            ws.logits.withUnsafeMutableBufferPointer { lp in
                ws.bias.withUnsafeBufferPointer { bp in
                    let z = zp.baseAddress!, l = lp.baseAddress!, bias = bp.baseAddress!
                    let parts = min(n, 8)
                    DispatchQueue.concurrentPerform(iterations: parts) { t in
                        let lo = n * t / parts, hi = n * (t + 1) / parts
                        forwardRows(queries + lo * dim, n: hi - lo, bias: bias, shares: z + lo * ks, logits: l + lo * k)
                    }
                }
            }
        }
    }

    /// `forward` for `n` rows on the calling thread, with the bias of `fillBias`.
    func forwardRows(_ queries: UnsafePointer<Float>, n: Int, bias: UnsafePointer<Float>, shares z: UnsafeMutablePointer<Float>,
                     logits l: UnsafeMutablePointer<Float>) {
        guard n > 0 else { return }
        let ks = clusterCount * slots, k = clusterCount, m = slots
        points.withUnsafeBufferPointer { s in
            BLAS.gemmABt(m: n, n: ks, k: dim, alpha: (metric == .l2 ? 2 : 1) * weight, a: queries, lda: dim,
                         b: s.baseAddress!, ldb: dim, beta: 0, c: z, ldc: ks)
        }
        for i in 0..<n {
            let row = z + i * ks
            for j in 0..<ks { row[j] += bias[j] }
            for c in 0..<k { l[i * k + c] = Self.logSumExpToShares(row + c * m, m) }
        }
    }

    /// Replaces `m` terms by their softmax and returns their log-sum-exp.
    @inline(__always)
    static func logSumExpToShares(_ x: UnsafeMutablePointer<Float>, _ m: Int) -> Float {
        var mx = x[0]
        for j in 1..<m where x[j] > mx { mx = x[j] }
        var sum: Float = 0
        var j = 0
        while j + 16 <= m {
            let v = Kernels.exp(UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self) - SIMD16(repeating: mx))
            UnsafeMutableRawPointer(x + j).storeBytes(of: v, as: SIMD16<Float>.self)
            sum += v.sum()
            j += 16
        }
        if j < m {
            var t = SIMD16<Float>(repeating: -100)
            for u in j..<m { t[u - j] = x[u] - mx }
            let v = Kernels.exp(t)
            for u in j..<m { x[u] = v[u - j]; sum += v[u - j] }
        }
        let inv = 1 / sum
        for j in 0..<m { x[j] *= inv }
        return mx + Glibc.logf(sum)
    }

    public func score(queries: UnsafePointer<Float>, n: Int, dim: Int, into scores: UnsafeMutablePointer<Float>) {
        // A few rows at a time on this thread: the K·m terms of a row stay in cache, and the
        // caller (the query engine) already runs one block of queries per core.
        let k = clusterCount, ks = k * slots
        let rows = max(1, min(n, (1 << 22) / ks))
        var bias = [Float](repeating: 0, count: ks)
        fillBias(&bias)
        let terms = UnsafeMutablePointer<Float>.allocate(capacity: rows * ks)
        defer { terms.deallocate() }
        bias.withUnsafeBufferPointer { bp in
            var i0 = 0
            while i0 < n {
                let b = min(rows, n - i0)
                forwardRows(queries + i0 * dim, n: b, bias: bp.baseAddress!, shares: terms, logits: scores + i0 * k)
                i0 += b
            }
        }
        for i in 0..<(n * k) { scores[i] = -scores[i] }
    }

    // MARK: - File

    /// Writes the model: header, fixed fields (slots, w), points, log-weights, CRC-32C.
    public func write(to output: OutputFile) throws {
        var fixed = [UInt8](repeating: 0, count: ModelFile.fixedSize)
        fixed.storeLE(fingerprint, at: 0)
        fixed.storeLE(UInt32(slots), at: 8)
        fixed[17] = ModelFile.Architecture.kernel.rawValue
        fixed.storeLE(weight.bitPattern, at: 20)
        try ModelFile.write(to: output, metric: metric, dim: dim, clusterCount: clusterCount, fixed: fixed, arrays: [points, logWeights])
    }

    public init(file: ModelFile) throws {
        let d = file.dim, k = file.clusterCount, m = file.uint32(at: 8)
        guard m >= 1 else { throw file.bad("a kernel router needs at least one point per cluster") }
        guard k * m * (d + 1) == file.floatCount else { throw file.bad("weights do not match \(k) clusters of \(m) points in \(d) dimensions") }
        let w = file.float(at: 20)
        guard w.isFinite && w > 0 else { throw file.bad("kernel weight \(w) is not a positive number") }
        let a = file.arrays([k * m * d, k * m])
        guard a[0].allSatisfy(\.isFinite), a[1].allSatisfy(\.isFinite) else { throw file.bad("the model holds NaN or infinite weights") }
        self.init(dim: d, clusterCount: k, slots: m, metric: file.metric, fingerprint: file.fingerprint, weight: w,
                  points: a[0], logWeights: a[1])
    }

    /// Reads a kernel router and binds it to `index`.
    public static func load(_ path: String, for index: PackedIndex) throws -> KernelRouter {
        let file = try ModelFile(path: path, for: index)
        guard file.architecture == .kernel else { throw file.bad("is an MLP router, not a kernel router") }
        return try KernelRouter(file: file)
    }
}
