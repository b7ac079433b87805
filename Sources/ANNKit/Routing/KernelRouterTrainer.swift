import Glibc

public struct KernelTrainingParameters: Sendable {
    public var epochs = 3
    public var batch = 1024
    /// Adam step for the log-weights and log w.
    public var learningRate: Float = 0.01
    /// Adam step for the points themselves (0: they stay where k-means put them).
    public var pointLearningRate: Float = 0.1
    /// Gaussian noise added to training queries, as a fraction of the per-dimension spread.
    public var noise: Float = 0
    public var seed: UInt64 = 1
    public init() {}
}

/// Builds and trains a `KernelRouter`: points by k-means inside each cluster of the packed
/// index, log-weights from their counts, w calibrated, then Adam on the softmax
/// cross-entropy of the training queries. Forward and backward are one sgemm each over all
/// K·m points (on all cores); the rest is per-row work split in fixed parts, so a seed gives the
/// same model whatever the thread count.
public final class KernelRouterTrainer {
    public private(set) var model: KernelRouter
    private let p: KernelTrainingParameters
    private var rng: RandomGenerator
    private var adam: Adam
    private let ws = KernelRouter.Workspace()
    private var gradA: [Float], gradW: [Float] = [0], gradPoints: [Float]

    public init(model: KernelRouter, parameters: KernelTrainingParameters) {
        let wide = model.widened()
        self.model = wide
        p = parameters
        rng = RandomGenerator(seed: parameters.seed ^ 0x6B65_726E_656C)
        adam = Adam(sizes: [wide.logWeights.count, 1, wide.points.count])
        gradA = [Float](repeating: 0, count: wide.logWeights.count)
        gradPoints = [Float](repeating: 0, count: wide.points.count)
    }

    /// The starting router for `index`: `slots` points per cluster by k-means over the
    /// cluster's stored vectors (every vector where it holds fewer), each weighted by the log
    /// of the vectors it took; w is left at 1 for `calibrate`. Each query scores the
    /// `candidates` clusters whose centroids rank first (0: all). `progress` receives the
    /// clusters done so far; it is called from one worker thread only, never concurrently, so
    /// it need not be thread-safe.
    public static func initial(for index: PackedIndex, slots: Int, candidates: Int = 0, iterations: Int = 15, seed: UInt64,
                               progress: (Int) -> Void = { _ in }) throws -> KernelRouter {
        let k = index.clusterCount, d = index.dim, m = slots
        var points = [Float](repeating: 0, count: k * m * d)
        var logWeights = [Float](repeating: KernelRouter.absent, count: k * m)
        BLAS.setThreads(1)
        try points.withUnsafeMutableBufferPointer { pp in
            try logWeights.withUnsafeMutableBufferPointer { lw in
                let pts = pp.baseAddress!, lws = lw.baseAddress!
                try index.forEachCluster(threads: Machine.cores, progress: progress) { c, n, buffers in
                    index.metric.prepare(buffers.floats, n: n, d: d)
                    let (centres, counts) = try cluster(buffers.floats, n: n, d: d, m: m, metric: index.metric,
                                                        iterations: iterations, seed: seed &+ UInt64(c))
                    (pts + c * m * d).update(from: centres, count: centres.count)
                    for (j, cnt) in counts.enumerated() where cnt > 0 { lws[c * m + j] = Glibc.logf(Float(cnt)) }
                }
            }
        }
        return KernelRouter(dim: d, clusterCount: k, slots: m, candidates: candidates, metric: index.metric, fingerprint: index.fingerprint,
                            weight: 1, points: points, logWeights: logWeights, centroids: index.centroids)
    }

    /// At most `m` centres of `n` vectors and how many vectors each took.
    static func cluster(_ x: UnsafePointer<Float>, n: Int, d: Int, m: Int, metric: Metric, iterations: Int,
                        seed: UInt64) throws -> ([Float], [Int]) {
        guard n > m else {
            return (Array(UnsafeBufferPointer(start: x, count: n * d)), [Int](repeating: 1, count: n))
        }
        var kp = KMeansParameters(k: m)
        kp.iterations = iterations
        kp.seed = seed
        kp.metric = metric
        let r = try KMeans.train(data: x, n: n, d: d, parameters: kp)
        var labels = [UInt32](repeating: 0, count: n), dist = [Float](repeating: 0, count: n)
        try KMeans.assign(data: x, n: n, d: d, centroids: r.centroids, k: m, metric: metric, projection: r.projection,
                      labels: &labels, distances: &dist)
        var counts = [Int](repeating: 0, count: m)
        for l in labels { counts[Int(l)] += 1 }
        return (r.centroids, counts)
    }

    /// The w that best fits the examples with the points and weights as they are
    /// (golden-section search on log w over a sample).
    public static func calibrate(_ model: KernelRouter, on ex: RouterExamples) -> Float {
        var probe = model
        let sample = min(ex.count, 4000)
        func loss(_ logW: Double) -> Double {
            probe.weight = Float(Glibc.exp(logW))
            return evaluate(probe, ex, limit: sample).loss
        }
        return Float(Glibc.exp(RouterTrainer.calibrationSearch(loss)))
    }

    /// Mean loss and top-1 accuracy of a router on examples (the first `limit`). As in
    /// training, each query's positives join its candidates: a neighbour outside them would
    /// add a loss no weight can change (see `outsideCandidates`).
    public static func evaluate(_ model: KernelRouter, _ ex: RouterExamples, limit: Int? = nil) -> (loss: Double, accuracy: Double) {
        let n = min(ex.count, limit ?? ex.count)
        guard n > 0 else { return (0, 0) }
        let ws = KernelRouter.Workspace()
        return RouterTrainer.meanLoss(ex, count: n, clusters: model.clusterCount) { q, rows, use in
            model.forward(q, n: rows.count, into: ws, include: ex.positives[rows])
            ws.logits.withUnsafeMutableBufferPointer { use($0.baseAddress!) }
        }
    }

    /// How many examples have none of their positives among their candidate clusters: queries
    /// that no training can route, whatever the probe rule (0 when every cluster is scored).
    public static func outsideCandidates(_ model: KernelRouter, _ ex: RouterExamples) -> Int {
        guard model.scoredClusters < model.clusterCount else { return 0 }
        let ws = KernelRouter.Workspace()
        var outside = 0
        var i0 = 0
        while i0 < ex.count {
            let b = min(1024, ex.count - i0)
            ex.queries.withUnsafeBufferPointer { model.pair($0.baseAddress! + i0 * ex.dim, n: b, include: nil, parts: 8, into: ws) }
            var inside = [Bool](repeating: false, count: b)
            for c in 0..<model.clusterCount {
                for e in ws.start[c]..<ws.start[c + 1] {
                    let i = Int(ws.rows[e])
                    if ex.positives[i0 + i].contains(UInt32(c)) { inside[i] = true }
                }
            }
            outside += inside.filter { !$0 }.count
            i0 += b
        }
        return outside
    }

    /// Trains one epoch over `ex` (shuffled, with noise if set); returns the mean loss and accuracy.
    public func epoch(_ ex: RouterExamples, spread: [Float]) -> (loss: Double, accuracy: Double) {
        RouterTrainer.shuffledEpoch(ex, batch: p.batch, noise: p.noise, spread: spread, rng: &rng) { step($0, n: $1, positives: $2) }
    }

    private func step(_ x: [Float], n b: Int, positives: ArraySlice<[UInt32]>) -> (loss: Double, hits: Int) {
        let r = gradients(x, n: b, positives: positives)
        adam.advance()
        adam.update(&model.logWeights, gradient: gradA, slot: 0, learningRate: p.learningRate)
        var logW = [Glibc.logf(model.weight)]
        adam.update(&logW, gradient: gradW, slot: 1, learningRate: p.learningRate)
        model.weight = Glibc.expf(logW[0])
        if p.pointLearningRate > 0 {
            adam.update(&model.points, gradient: gradPoints, slot: 2, learningRate: p.pointLearningRate)
        }
        return r
    }

    /// The gradients of the last `gradients(_:n:positives:)`: of the summed loss / batch size
    /// with respect to the log-weights, log w and the points.
    public var lastGradients: (logWeights: [Float], logWeight: Float, points: [Float]) { (gradA, gradW[0], gradPoints) }

    /// Forward and backward over one batch of `b` queries: the summed loss and top-1 hits,
    /// the gradients (of the mean loss) kept for the update and for `lastGradients`. Each
    /// query's positives join its candidate clusters, so that its loss is defined.
    public func gradients(_ x: [Float], n b: Int, positives: ArraySlice<[UInt32]>) -> (loss: Double, hits: Int) {
        let md = model
        let k = md.clusterCount, m = md.slots, d = md.dim
        let l2 = md.metric == .l2
        x.withUnsafeBufferPointer { model.forward($0.baseAddress!, n: b, into: ws, include: positives) }
        let r = ws.logits.withUnsafeMutableBufferPointer {
            RouterTrainer.batchLossAndGradient($0.baseAddress!, n: b, k: k, positives: positives)
        }
        let parts = 8
        // Per cluster, on all cores: dL/dz_cj = share_cj · dL/dlogit_c splits the cluster's
        // gradient among its points; each cluster's sums run over its pairs in query order, so
        // the result does not depend on the thread count.
        let alpha: Float = l2 ? 2 : 1, w = md.weight
        var clusterLogW = [Double](repeating: 0, count: k)
        ws.shares.withUnsafeMutableBufferPointer { sh in
            ws.logits.withUnsafeBufferPointer { gl in
                gradA.withUnsafeMutableBufferPointer { ga in
                    gradPoints.withUnsafeMutableBufferPointer { gp in
                        clusterLogW.withUnsafeMutableBufferPointer { lw in
                            md.points.withUnsafeBufferPointer { sp in
                                x.withUnsafeBufferPointer { xp in
                                    Parallel.forEach(parts) { t in
                                        let gathered = KernelRouter.Gathered(n: b, d: d)
                                        let sums = UnsafeMutablePointer<Float>.allocate(capacity: m * d)
                                        defer { sums.deallocate() }
                                        for c in (k * t / parts)..<(k * (t + 1) / parts) {
                                            let lo = ws.start[c], hi = ws.start[c + 1]
                                            let gA = ga.baseAddress! + c * m, gP = gp.baseAddress! + c * m * d
                                            gA.update(repeating: 0, count: m)
                                            gP.update(repeating: 0, count: m * d)
                                            guard hi > lo else { continue }
                                            let dz = sh.baseAddress! + lo * m
                                            for e in 0..<(hi - lo) {
                                                let g = gl[Int(ws.rows[lo + e]) * k + c], row = dz + e * m
                                                for j in 0..<m { row[j] *= g; gA[j] += row[j] }
                                            }
                                            // Σ_pairs dz_cj · q, which both w's and the points' gradients need.
                                            let q = gathered.rows(ws.rows, lo..<hi, of: xp.baseAddress!, n: b)
                                            BLAS.gemm(transA: true, transB: false, m: m, n: d, k: hi - lo, alpha: 1, a: dz, lda: m,
                                                      b: q, ldb: d, beta: 0, c: sums, ldc: d)
                                            var dLogW = 0.0
                                            for j in 0..<m where md.logWeights[c * m + j] != KernelRouter.absent {
                                                let s = sp.baseAddress! + (c * m + j) * d, gs = sums + j * d, out = gP + j * d
                                                let sq = l2 ? Kernels.dot(s, s, d) : 0
                                                dLogW += Double(w * (alpha * Kernels.dot(gs, s, d) - gA[j] * sq))
                                                for u in 0..<d { out[u] = w * (alpha * gs[u] - (l2 ? 2 * gA[j] * s[u] : 0)) }
                                            }
                                            lw[c] = dLogW
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        gradW[0] = Float(clusterLogW.reduce(0, +))
        return r
    }
}
