import Dispatch
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
/// K·m points (both cores); the rest is per-row work split in fixed parts, so a seed gives the
/// same model whatever the thread count.
public final class KernelRouterTrainer {
    public private(set) var model: KernelRouter
    private let p: KernelTrainingParameters
    private var rng: RandomGenerator
    private var adam: Adam
    private let ws = KernelRouter.Workspace()
    private var gradA: [Float], gradW: [Float] = [0], gradPoints: [Float], pointSums: [Float]

    public init(model: KernelRouter, parameters: KernelTrainingParameters) {
        self.model = model
        p = parameters
        rng = RandomGenerator(seed: parameters.seed ^ 0x6B65_726E_656C)
        adam = Adam(sizes: [model.logWeights.count, 1, model.points.count])
        gradA = [Float](repeating: 0, count: model.logWeights.count)
        gradPoints = [Float](repeating: 0, count: model.points.count)
        pointSums = gradPoints
    }

    /// The starting router for `index`: `slots` points per cluster by k-means over the
    /// cluster's stored vectors (every vector where it holds fewer), each weighted by the log
    /// of the vectors it took; w is left at 1 for `calibrate`.
    public static func initial(for index: PackedIndex, slots: Int, iterations: Int = 15, seed: UInt64,
                               progress: (Int) -> Void = { _ in }) throws -> KernelRouter {
        let k = index.clusterCount, d = index.dim, m = slots
        var points = [Float](repeating: 0, count: k * m * d)
        var logWeights = [Float](repeating: KernelRouter.absent, count: k * m)
        let lock = Lock()
        var failure: Error?
        var done = 0
        let workers = 2
        var next = 0
        BLAS.setThreads(1)
        points.withUnsafeMutableBufferPointer { pp in
            logWeights.withUnsafeMutableBufferPointer { lw in
                let pts = pp.baseAddress!, lws = lw.baseAddress!
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    let buffers = ClusterBuffers()
                    while true {
                        let c: Int? = lock.withLock {
                            guard failure == nil, next < k else { return nil }
                            next += 1
                            return next - 1
                        }
                        guard let c else { break }
                        do {
                            let n = try index.fetch(c, into: buffers)
                            if index.metric == .cos { Kernels.normalizeRows(buffers.floats, n: n, d: d) }
                            let (centres, counts) = try cluster(buffers.floats, n: n, d: d, m: m, metric: index.metric,
                                                                iterations: iterations, seed: seed &+ UInt64(c))
                            (pts + c * m * d).update(from: centres, count: centres.count)
                            for (j, cnt) in counts.enumerated() where cnt > 0 { lws[c * m + j] = Glibc.logf(Float(cnt)) }
                            let count = lock.withLock { done += 1; return done }
                            if c % 64 == 0 { progress(count) }
                        } catch {
                            lock.withLock { if failure == nil { failure = error } }
                        }
                    }
                }
            }
        }
        if let failure { throw failure }
        return KernelRouter(dim: d, clusterCount: k, slots: m, metric: index.metric, fingerprint: index.fingerprint, weight: 1,
                            points: points, logWeights: logWeights)
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
        KMeans.assign(data: x, n: n, d: d, centroids: r.centroids, k: m, metric: metric, projection: r.projection,
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

    /// Mean loss and top-1 accuracy of a router on examples (the first `limit`).
    public static func evaluate(_ model: KernelRouter, _ ex: RouterExamples, limit: Int? = nil) -> (loss: Double, accuracy: Double) {
        let n = min(ex.count, limit ?? ex.count)
        guard n > 0 else { return (0, 0) }
        let ws = KernelRouter.Workspace()
        return RouterTrainer.meanLoss(ex, count: n, clusters: model.clusterCount) { q, b, use in
            model.forward(q, n: b, into: ws)
            ws.logits.withUnsafeMutableBufferPointer { use($0.baseAddress!) }
        }
    }

    /// Trains one epoch over `ex` (shuffled, with noise if set); returns the mean loss and accuracy.
    public func epoch(_ ex: RouterExamples, spread: [Float]) -> (loss: Double, accuracy: Double) {
        BLAS.setThreads(1)
        let n = ex.count, bs = p.batch
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
        var batch = [Float](repeating: 0, count: bs * ex.dim)
        var loss = 0.0, hits = 0
        var i0 = 0
        while i0 < n {
            let b = min(bs, n - i0)
            let pos = ex.gather(order[i0..<(i0 + b)], into: &batch, noise: p.noise, spread: spread, rng: &rng)
            let r = step(batch, n: b, positives: pos[...])
            loss += r.loss
            hits += r.hits
            i0 += b
        }
        return (loss / Double(max(1, n)), Double(hits) / Double(max(1, n)))
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
    /// the gradients (of the mean loss) kept for the update and for `lastGradients`.
    public func gradients(_ x: [Float], n b: Int, positives: ArraySlice<[UInt32]>) -> (loss: Double, hits: Int) {
        let md = model
        let k = md.clusterCount, m = md.slots, ks = k * m, d = md.dim
        let l2 = md.metric == .l2
        x.withUnsafeBufferPointer { model.forward($0.baseAddress!, n: b, into: ws) }
        let parts = 8
        var partLoss = [Double](repeating: 0, count: parts), partHits = [Int](repeating: 0, count: parts)
        ws.logits.withUnsafeMutableBufferPointer { zl in
            ws.shares.withUnsafeMutableBufferPointer { sh in
                partLoss.withUnsafeMutableBufferPointer { pl in
                    partHits.withUnsafeMutableBufferPointer { ph in
                        DispatchQueue.concurrentPerform(iterations: parts) { t in
                            let lo = b * t / parts, hi = b * (t + 1) / parts
                            guard hi > lo else { return }
                            let r = RouterTrainer.lossAndGradient(zl.baseAddress! + lo * k, n: hi - lo, k: k,
                                                                  positives: positives[(positives.startIndex + lo)..<(positives.startIndex + hi)],
                                                                  gradient: true, batch: b)
                            pl[t] = r.loss
                            ph[t] = r.hits
                            // dL/dz_cj = share_cj · dL/dlogit_c: the cluster's gradient split among its points.
                            for i in lo..<hi {
                                let row = sh.baseAddress! + i * ks, g = zl.baseAddress! + i * k
                                for c in 0..<k {
                                    let gc = g[c]
                                    for j in 0..<m { row[c * m + j] *= gc }
                                }
                            }
                        }
                    }
                }
            }
        }
        let r = (loss: partLoss.reduce(0, +), hits: partHits.reduce(0, +))
        ws.shares.withUnsafeBufferPointer { dz in
            // Column sums in column ranges on all cores, rows added in order: thread-count independent.
            gradA.withUnsafeMutableBufferPointer { ga in
                let out = ga.baseAddress!, z = dz.baseAddress!
                DispatchQueue.concurrentPerform(iterations: 8) { t in
                    let lo = ks * t / 8, hi = ks * (t + 1) / 8
                    (out + lo).update(repeating: 0, count: hi - lo)
                    for i in 0..<b {
                        let row = z + i * ks
                        for j in lo..<hi { out[j] += row[j] }
                    }
                }
            }
            // Σ_i dz_icj · q_i, which both w's and the points' gradients need.
            x.withUnsafeBufferPointer { xp in
                BLAS.gemmParallel(transA: true, transB: false, m: ks, n: d, k: b, alpha: 1, a: dz.baseAddress!, lda: ks,
                                  b: xp.baseAddress!, ldb: d, beta: 0, c: &pointSums, ldc: d)
            }
        }
        let alpha: Float = l2 ? 2 : 1, w = md.weight
        var dLogW = 0.0
        md.points.withUnsafeBufferPointer { s in
            pointSums.withUnsafeBufferPointer { gs in
                gradPoints.withUnsafeMutableBufferPointer { gp in
                    for i in 0..<ks where md.logWeights[i] != KernelRouter.absent {
                        let sp = s.baseAddress! + i * d, gsp = gs.baseAddress! + i * d, out = gp.baseAddress! + i * d
                        let sq = l2 ? Kernels.dot(sp, sp, d) : 0
                        dLogW += Double(w * (alpha * Kernels.dot(gsp, sp, d) - gradA[i] * sq))
                        for j in 0..<d { out[j] = w * (alpha * gsp[j] - (l2 ? 2 * gradA[i] * sp[j] : 0)) }
                    }
                }
            }
        }
        gradW[0] = Float(dLogW)
        return r
    }
}
