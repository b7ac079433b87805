import Glibc

/// A cluster router made of weighted points inside each cluster (ann-formats(5), ANNM
/// architecture 1): cluster c scores log Σ_j exp(w·(2q·s_cj − ‖s_cj‖²) + a_cj), a kernel
/// density of "queries whose nearest neighbour lies in c". With one point per cluster at its
/// centroid it is centroid routing; several points follow a cluster's shape, and the learned
/// log-weights a_cj and w = 1/T turn distances into calibrated probabilities, which the
/// `--threshold` probe rule needs. For ip and cos the term is w·q·s_cj + a_cj.
///
/// With `candidates` C < K only the C clusters whose centroids rank first for a query are
/// scored (the rest get probability 0): a cluster far down the centroid ranking is never worth
/// fetching, and skipping it makes the cost per query C·m·d instead of K·m·d, so many more
/// points per cluster are affordable in training and at query time.
public struct KernelRouter: ClusterRouter {
    public var dim: Int
    public var clusterCount: Int
    /// Points per cluster (unused slots have weight `KernelRouter.absent`).
    public var slots: Int
    /// Clusters scored per query, by centroid rank (0: all K).
    public var candidates: Int
    public var metric: Metric
    public var fingerprint: UInt64
    /// w = 1/T.
    public var weight: Float
    /// `K·slots × d`, cluster-major; empty while `halfPoints` holds them.
    public var points: [Float]
    /// The points as float16 (half the memory; converted a cluster at a time when scoring),
    /// or empty. Training needs `widened()`.
    public private(set) var halfPoints: [Float16] = []
    /// ‖s‖² of the float16 points, computed once: converting every point per batch would cost
    /// as much as scoring.
    private var halfNorms: [Float] = []
    /// `K·slots` log-weights a_cj.
    public var logWeights: [Float]
    /// Centroid routing over the index's centroids, which picks the candidates (nil without
    /// centroids: every cluster is scored); the model file does not repeat them.
    let coarse: CentroidRouter?

    /// The log-weight of an unused slot: finite, so files and sums never hold NaN or ∞.
    public static let absent: Float = -1e30

    public init(dim: Int, clusterCount: Int, slots: Int, candidates: Int = 0, metric: Metric, fingerprint: UInt64, weight: Float,
                points: [Float], halfPoints: [Float16] = [], logWeights: [Float], centroids: [Float] = []) {
        precondition((points.isEmpty || halfPoints.isEmpty) && logWeights.count == clusterCount * slots
                     && (halfPoints.isEmpty ? points.count : halfPoints.count) == clusterCount * slots * dim)
        precondition(candidates == 0 || centroids.count == clusterCount * dim, "candidates need the centroids")
        self.dim = dim
        self.clusterCount = clusterCount
        self.slots = slots
        self.candidates = candidates
        self.metric = metric
        self.fingerprint = fingerprint
        self.weight = weight
        self.points = points
        self.halfPoints = halfPoints
        self.logWeights = logWeights
        coarse = centroids.isEmpty ? nil : CentroidRouter(centroids: centroids, dim: dim, metric: metric)
        halfNorms = Self.squaredNorms(halfPoints, dim: dim)
    }

    static func squaredNorms(_ half: [Float16], dim: Int) -> [Float] {
        half.withUnsafeBufferPointer { h in
            (0..<(half.count / max(dim, 1))).map { i in
                var sum: Float = 0
                for u in 0..<dim { let x = Float(h[i * dim + u]); sum += x * x }
                return sum
            }
        }
    }

    /// Whether the points are held as float16.
    public var isHalf: Bool { !halfPoints.isEmpty }

    /// The router with its points rounded to float16.
    public func halved() -> KernelRouter {
        guard !isHalf else { return self }
        var r = self
        r.halfPoints = points.map { Float16($0) }
        r.points = []
        r.halfNorms = Self.squaredNorms(r.halfPoints, dim: dim)
        return r
    }

    /// The router with its points as float32 (exact: every float16 is a float32).
    public func widened() -> KernelRouter {
        guard isHalf else { return self }
        var r = self
        r.points = halfPoints.map { Float($0) }
        r.halfPoints = []
        r.halfNorms = []
        return r
    }

    /// Cluster c's `slots × d` points as float32: in place, or converted into `scratch`.
    @inline(__always)
    func clusterPoints(_ c: Int, _ base: UnsafePointer<Float>?, _ half: UnsafePointer<Float16>?, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        let n = slots * dim
        if let base { return base + c * n }
        let h = half! + c * n
        for i in 0..<n { scratch[i] = Float(h[i]) }
        return UnsafePointer(scratch)
    }

    /// Runs `body` with pointers to whichever of the two point arrays is in use.
    func withPoints<T>(_ body: (UnsafePointer<Float>?, UnsafePointer<Float16>?) -> T) -> T {
        if isHalf { return halfPoints.withUnsafeBufferPointer { body(nil, $0.baseAddress!) } }
        return points.withUnsafeBufferPointer { body($0.baseAddress!, nil) }
    }

    /// Clusters scored per query: `candidates`, or K when that is 0 or at least K.
    public var scoredClusters: Int { candidates == 0 || candidates >= clusterCount || coarse == nil ? clusterCount : candidates }

    /// Buffers of one forward pass, kept for the backward pass.
    public final class Workspace {
        /// `n × K` cluster logits (larger = more likely; `absent` for a cluster not scored).
        public var logits: [Float] = []
        /// The (query, cluster) pairs scored, grouped by cluster: pairs `start[c]..<start[c+1]`
        /// are cluster c's, `rows` holds their query numbers in increasing order.
        public var start: [Int] = []
        public var rows: [Int32] = []
        /// `pairs × slots`: after `forward`, each point's share of its cluster for the pair's
        /// query (softmax within the cluster).
        public var shares: [Float] = []
        var bias: [Float] = []
        public init() {}
    }

    /// The constant part of each point's term: a − w‖s‖² (l2), a otherwise.
    func fillBias(_ bias: inout [Float]) {
        let ks = clusterCount * slots, d = dim
        if bias.count != ks { bias = [Float](repeating: 0, count: ks) }
        guard metric == .l2 else {
            for i in 0..<ks { bias[i] = logWeights[i] }
            return
        }
        if isHalf {
            for i in 0..<ks { bias[i] = logWeights[i] - weight * halfNorms[i] }
            return
        }
        points.withUnsafeBufferPointer { s in
            for i in 0..<ks { bias[i] = logWeights[i] - weight * Kernels.dot(s.baseAddress! + i * d, s.baseAddress! + i * d, d) }
        }
    }

    /// Picks the clusters each of `n` queries scores (the `candidates` nearest centroids, plus
    /// any of `include` missing from them) and groups the pairs by cluster into `ws`.
    func pair(_ queries: UnsafePointer<Float>, n: Int, include: ArraySlice<[UInt32]>?, parts: Int, into ws: Workspace) {
        let k = clusterCount, c = scoredClusters
        ws.start = [Int](repeating: 0, count: k + 1)
        if c == k {
            for i in 0...k { ws.start[i] = i * n }
            ws.rows = [Int32](unsafeUninitializedCapacity: k * n) { buf, count in
                for i in 0..<(k * n) { buf[i] = Int32(i % n) }
                count = k * n
            }
            return
        }
        if ws.logits.count < n * k { ws.logits = [Float](repeating: 0, count: n * k) }
        var picks = [[Int]](repeating: [], count: n)
        let p = max(1, min(n, parts)), coarse = coarse!
        ws.logits.withUnsafeMutableBufferPointer { lp in
            picks.withUnsafeMutableBufferPointer { pk in
                Parallel.forEach(p) { t in
                    let lo = n * t / p, hi = n * (t + 1) / p
                    guard hi > lo else { return }
                    let s = lp.baseAddress! + lo * k
                    coarse.score(queries: queries + lo * dim, n: hi - lo, dim: dim, into: s)
                    for i in lo..<hi {
                        var chosen = ProbeSelection.ranked(c, scores: s + (i - lo) * k, count: k)
                        if let include {
                            for p in include[include.startIndex + i] where !chosen.contains(Int(p)) { chosen.append(Int(p)) }
                        }
                        pk[i] = chosen
                    }
                }
            }
        }
        // Counting sort by cluster, queries in increasing order within each: the same pairs in
        // the same order whatever the thread count.
        for p in picks { for cl in p { ws.start[cl + 1] += 1 } }
        for i in 0..<k { ws.start[i + 1] += ws.start[i] }
        var fill = Array(ws.start.dropLast())
        ws.rows = [Int32](repeating: 0, count: ws.start[k])
        for (i, p) in picks.enumerated() {
            for cl in p { ws.rows[fill[cl]] = Int32(i); fill[cl] += 1 }
        }
    }

    /// Logits of `n` queries, and each point's share of its cluster. `include` adds clusters to
    /// each query's candidates (training adds the positives, so that their loss is defined);
    /// `parallel: false` keeps the work on the calling thread.
    public func forward(_ queries: UnsafePointer<Float>, n: Int, into ws: Workspace, include: ArraySlice<[UInt32]>? = nil,
                        parallel: Bool = true) {
        let k = clusterCount, m = slots, d = dim
        let parts = parallel ? 8 : 1
        pair(queries, n: n, include: include, parts: parts, into: ws)
        fillBias(&ws.bias)
        if ws.logits.count < n * k { ws.logits = [Float](repeating: 0, count: n * k) }
        ws.logits.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: Self.absent, count: n * k) }
        let pairs = ws.start[k]
        if ws.shares.count < pairs * m { ws.shares = [Float](repeating: 0, count: pairs * m) }
        let alpha = (metric == .l2 ? 2 : 1) * weight
        ws.shares.withUnsafeMutableBufferPointer { zp in
            ws.logits.withUnsafeMutableBufferPointer { lp in
                ws.bias.withUnsafeBufferPointer { bp in
                    withPoints { base, half in
                        let z = zp.baseAddress!, l = lp.baseAddress!, bias = bp.baseAddress!
                        Parallel.forEach(parts) { t in
                            let gathered = Gathered(n: n, d: d)
                            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: m * d)
                            defer { scratch.deallocate() }
                            for c in (k * t / parts)..<(k * (t + 1) / parts) {
                                let lo = ws.start[c], hi = ws.start[c + 1]
                                guard hi > lo else { continue }
                                let q = gathered.rows(ws.rows, lo..<hi, of: queries, n: n)
                                let terms = z + lo * m
                                BLAS.gemmABt(m: hi - lo, n: m, k: d, alpha: alpha, a: q, lda: d, b: clusterPoints(c, base, half, scratch: scratch), ldb: d,
                                             beta: 0, c: terms, ldc: m)
                                for e in 0..<(hi - lo) {
                                    let row = terms + e * m
                                    for j in 0..<m { row[j] += bias[c * m + j] }
                                    l[Int(ws.rows[lo + e]) * k + c] = Self.logSumExpToShares(row, m)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The queries of one cluster's pairs, contiguous: the queries themselves when the cluster
    /// pairs with all of them, else copied into a buffer kept for the worker's next cluster.
    final class Gathered {
        let buffer: UnsafeMutablePointer<Float>
        let d: Int
        init(n: Int, d: Int) {
            buffer = .allocate(capacity: n * d)
            self.d = d
        }
        deinit { buffer.deallocate() }

        func rows(_ rows: [Int32], _ range: Range<Int>, of queries: UnsafePointer<Float>, n: Int) -> UnsafePointer<Float> {
            if range.count == n { return queries }
            for (e, i) in range.enumerated() { (buffer + e * d).update(from: queries + Int(rows[i]) * d, count: d) }
            return UnsafePointer(buffer)
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
        // A few rows at a time on this thread: the pairs' terms stay in cache, and the caller
        // (the query engine) already runs one block of queries per core.
        let k = clusterCount
        let rows = max(1, min(n, (1 << 22) / (scoredClusters * slots)))
        let ws = Workspace()
        var i0 = 0
        while i0 < n {
            let b = min(rows, n - i0)
            forward(queries + i0 * dim, n: b, into: ws, parallel: false)
            for i in 0..<(b * k) { scores[i0 * k + i] = -ws.logits[i] }
            i0 += b
        }
    }

    /// The points (float16 or float32), their log-weights, the norms of float16 points, the
    /// per-point bias a scoring pass builds, and the centroid norms.
    public var footprint: Int {
        Self.footprint(clusterCount: clusterCount, slots: slots, dim: dim, half: isHalf)
    }

    /// The footprint of a kernel router of these sizes (`KernelRouter.footprint`).
    public static func footprint(clusterCount k: Int, slots m: Int, dim d: Int, half: Bool) -> Int {
        (half ? halfBytes(k * m * d) + 4 * k * m : 4 * k * m * d) + 8 * k * m + 4 * k
    }

    /// Bytes of `n` float16 values padded to a multiple of 4.
    static func halfBytes(_ n: Int) -> Int { (2 * n + 3) / 4 * 4 }
}
