import Glibc

/// Adam on OpenBLAS sgemm (each product in the fixed parts of `BLAS.gemmParallel`).
/// Deterministic for a seed on one machine: the shuffles and the noise come from the seeded
/// generator.
public final class RouterTrainer {
    public private(set) var model: RouterModel
    private let p: RouterTrainingParameters
    private var rng: RandomGenerator
    private var adam: Adam
    private let acts = RouterModel.Activations()
    /// Gradients, reused by every step (sgemm overwrites them with beta = 0).
    private var g1: [Float], g2: [Float], g3: [Float], gb1: [Float], gb2: [Float], gb3: [Float]
    private var da1: [Float] = [], da2: [Float] = []

    public init(model: RouterModel, parameters: RouterTrainingParameters) {
        self.model = model
        p = parameters
        rng = RandomGenerator(seed: parameters.seed)
        let sizes = [model.w1.count, model.b1.count, model.w2.count, model.b2.count, model.w3.count, model.b3.count]
        adam = Adam(sizes: sizes)
        g1 = [Float](repeating: 0, count: sizes[0]); gb1 = [Float](repeating: 0, count: sizes[1])
        g2 = [Float](repeating: 0, count: sizes[2]); gb2 = [Float](repeating: 0, count: sizes[3])
        g3 = [Float](repeating: 0, count: sizes[4]); gb3 = [Float](repeating: 0, count: sizes[5])
    }

    /// Input normalisation from the training queries: per-dimension mean and 1/std.
    public static func normalisation(_ ex: RouterExamples) -> (mean: [Float], scale: [Float]) {
        let d = ex.dim, n = max(1, ex.count)
        var mean = [Double](repeating: 0, count: d), sq = [Double](repeating: 0, count: d)
        for i in 0..<ex.count { for j in 0..<d { let x = Double(ex.queries[i * d + j]); mean[j] += x; sq[j] += x * x } }
        var scale = [Float](repeating: 1, count: d)
        for j in 0..<d {
            mean[j] /= Double(n)
            let sd = (max(sq[j] / Double(n) - mean[j] * mean[j], 0)).squareRoot()
            scale[j] = Float(1 / max(sd, 1e-6))
        }
        return (mean.map(Float.init), scale)
    }

    /// The centroid-term weight 1/T that best fits the examples with no MLP at all
    /// (golden-section search on log T): the calibrated baseline training starts from.
    public static func calibrate(_ model: RouterModel, on ex: RouterExamples) -> Float {
        var probe = model
        probe.w3 = [Float](repeating: 0, count: model.w3.count)
        probe.b3 = [Float](repeating: 0, count: model.b3.count)
        let sample = min(ex.count, 4000)
        func loss(_ logW: Double) -> Double {
            probe.centroidWeight = Float(Glibc.exp(logW))
            return RouterTrainer.evaluate(probe, ex, limit: sample).loss
        }
        return Float(Glibc.exp(calibrationSearch(loss)))
    }

    /// The log-weight in [−20, 5] that minimises `loss`, by golden-section search (40 steps):
    /// how every router calibrates its temperature.
    static func calibrationSearch(_ loss: (Double) -> Double) -> Double {
        var lo = -20.0, hi = 5.0
        let g = (5.0.squareRoot() - 1) / 2
        var a = hi - g * (hi - lo), b = lo + g * (hi - lo)
        var fa = loss(a), fb = loss(b)
        for _ in 0..<40 {
            if fa < fb { hi = b; b = a; fb = fa; a = hi - g * (hi - lo); fa = loss(a) } else { lo = a; a = b; fa = fb; b = lo + g * (hi - lo); fb = loss(b) }
        }
        return (lo + hi) / 2
    }

    /// Mean loss and top-1 accuracy of a model on examples (the first `limit`).
    public static func evaluate(_ model: RouterModel, _ ex: RouterExamples, limit: Int? = nil) -> (loss: Double, accuracy: Double) {
        let n = min(ex.count, limit ?? ex.count)
        guard n > 0 else { return (0, 0) }
        let a = RouterModel.Activations()
        return meanLoss(ex, count: n, clusters: model.clusterCount) { q, rows, use in
            model.forward(q, n: rows.count, into: a)
            a.logits.withUnsafeMutableBufferPointer { use($0.baseAddress!) }
        }
    }

    /// Mean loss and top-1 accuracy over the first `n` examples, in blocks of 1024 queries;
    /// `forward` runs a router on a block and hands its logits (overwritten here) to the closure.
    static func meanLoss(_ ex: RouterExamples, count n: Int, clusters k: Int,
                         forward: (UnsafePointer<Float>, Range<Int>, (UnsafeMutablePointer<Float>) -> Void) -> Void) -> (loss: Double, accuracy: Double) {
        var loss = 0.0, hits = 0
        var i0 = 0
        while i0 < n {
            let b = min(1024, n - i0)
            ex.queries.withUnsafeBufferPointer { q in
                forward(q.baseAddress! + i0 * ex.dim, i0..<(i0 + b)) { z in
                    let r = lossAndGradient(z, n: b, k: k, positives: ex.positives[i0..<(i0 + b)], gradient: false)
                    loss += r.loss
                    hits += r.hits
                }
            }
            i0 += b
        }
        return (loss / Double(n), Double(hits) / Double(n))
    }

    /// `lossAndGradient` with gradient over a whole batch, on all cores: rows split in fixed
    /// parts, summed in part order, so the result does not depend on the thread count.
    static func batchLossAndGradient(_ logits: UnsafeMutablePointer<Float>, n b: Int, k: Int,
                                     positives: ArraySlice<[UInt32]>) -> (loss: Double, hits: Int) {
        let parts = 8
        var partLoss = [Double](repeating: 0, count: parts), partHits = [Int](repeating: 0, count: parts)
        partLoss.withUnsafeMutableBufferPointer { pl in
            partHits.withUnsafeMutableBufferPointer { ph in
                Parallel.forEach(parts) { t in
                    let lo = b * t / parts, hi = b * (t + 1) / parts
                    guard hi > lo else { return }
                    let r = lossAndGradient(logits + lo * k, n: hi - lo, k: k,
                                            positives: positives[(positives.startIndex + lo)..<(positives.startIndex + hi)],
                                            gradient: true, batch: b)
                    pl[t] = r.loss
                    ph[t] = r.hits
                }
            }
        }
        return (partLoss.reduce(0, +), partHits.reduce(0, +))
    }

    /// Softmax cross-entropy over the positives; with `gradient`, `logits` is overwritten by
    /// dL/dz for the batch mean.
    @discardableResult
    static func lossAndGradient(_ logits: UnsafeMutablePointer<Float>, n: Int, k: Int, positives: ArraySlice<[UInt32]>, gradient: Bool,
                                batch: Int? = nil) -> (loss: Double, hits: Int) {
        var loss = 0.0, hits = 0
        for i in 0..<n {
            let row = logits + i * k
            var best = 0
            for j in 1..<k where row[j] > row[best] { best = j }
            let pos = positives[positives.startIndex + i]
            if pos.contains(UInt32(best)) { hits += 1 }
            Kernels.softmaxRows(row, n: 1, k: k)
            var mass: Float = 0
            for c in pos { mass += row[Int(c)] }
            loss -= Double(Glibc.log(max(mass, 1e-30)))
            guard gradient else { continue }
            // dL/dz_j = p_j − [j ∈ P]·p_j/mass, averaged over the batch.
            let inv = 1 / Float(batch ?? n)
            let share = 1 / max(mass, 1e-30)
            for c in pos { row[Int(c)] *= 1 - share }
            for j in 0..<k { row[j] *= inv }
        }
        return (loss, hits)
    }

    /// Trains one epoch over `ex` (shuffled, with noise); returns the mean loss and accuracy.
    public func epoch(_ ex: RouterExamples, spread: [Float]) -> (loss: Double, accuracy: Double) {
        Self.shuffledEpoch(ex, batch: p.batch, noise: p.noise, spread: spread, rng: &rng) { step($0, n: $1, positives: $2) }
    }

    /// One pass over `ex` in a fresh order drawn from `rng`, in batches of `bs` gathered with
    /// noise, each handed to `step` (queries, count, positives); the mean loss and top-1
    /// accuracy of the steps. Both routers' trainers run their epochs through it.
    static func shuffledEpoch(_ ex: RouterExamples, batch bs: Int, noise: Float, spread: [Float], rng: inout RandomGenerator,
                              step: ([Float], Int, ArraySlice<[UInt32]>) -> (loss: Double, hits: Int)) -> (loss: Double, accuracy: Double) {
        BLAS.setThreads(1)
        let n = ex.count
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
        var batch = [Float](repeating: 0, count: min(bs, n) * ex.dim)
        var loss = 0.0, hits = 0
        var i0 = 0
        while i0 < n {
            let b = min(bs, n - i0)
            let pos = ex.gather(order[i0..<(i0 + b)], into: &batch, noise: noise, spread: spread, rng: &rng)
            let r = step(batch, b, pos[...])
            loss += r.loss
            hits += r.hits
            i0 += b
        }
        return (loss / Double(max(1, n)), Double(hits) / Double(max(1, n)))
    }

    private func step(_ x: [Float], n b: Int, positives: ArraySlice<[UInt32]>) -> (loss: Double, hits: Int) {
        let md = model
        let d = md.dim, h1 = md.hidden1, h2 = md.hidden2, k = md.clusterCount
        x.withUnsafeBufferPointer { model.forward($0.baseAddress!, n: b, into: acts) }
        let r = acts.logits.withUnsafeMutableBufferPointer { Self.batchLossAndGradient($0.baseAddress!, n: b, k: k, positives: positives) }
        if da2.count < b * h2 { da2 = [Float](repeating: 0, count: b * h2) }
        if da1.count < b * h1 { da1 = [Float](repeating: 0, count: b * h1) }
        acts.logits.withUnsafeBufferPointer { dz in
            acts.h2.withUnsafeBufferPointer { a2 in
                acts.h1.withUnsafeBufferPointer { a1 in
                    acts.input.withUnsafeBufferPointer { x0 in
                        let dzp = dz.baseAddress!
                        BLAS.gemmParallel(transA: true, transB: false, m: k, n: h2, k: b, alpha: 1, a: dzp, lda: k, b: a2.baseAddress!, ldb: h2, beta: 0, c: &g3, ldc: h2)
                        Self.columnSums(dzp, rows: b, cols: k, into: &gb3)
                        md.w3.withUnsafeBufferPointer { w3 in
                            BLAS.gemmParallel(transA: false, transB: false, m: b, n: h2, k: k, alpha: 1, a: dzp, lda: k, b: w3.baseAddress!, ldb: h2, beta: 0, c: &da2, ldc: h2)
                        }
                        Self.maskInactive(&da2, by: a2.baseAddress!, count: b * h2)
                        BLAS.gemmParallel(transA: true, transB: false, m: h2, n: h1, k: b, alpha: 1, a: da2, lda: h2, b: a1.baseAddress!, ldb: h1, beta: 0, c: &g2, ldc: h1)
                        da2.withUnsafeBufferPointer { Self.columnSums($0.baseAddress!, rows: b, cols: h2, into: &gb2) }
                        md.w2.withUnsafeBufferPointer { w2 in
                            BLAS.gemmParallel(transA: false, transB: false, m: b, n: h1, k: h2, alpha: 1, a: da2, lda: h2, b: w2.baseAddress!, ldb: h1, beta: 0, c: &da1, ldc: h1)
                        }
                        Self.maskInactive(&da1, by: a1.baseAddress!, count: b * h1)
                        BLAS.gemmParallel(transA: true, transB: false, m: h1, n: d, k: b, alpha: 1, a: da1, lda: h1, b: x0.baseAddress!, ldb: d, beta: 0, c: &g1, ldc: d)
                        da1.withUnsafeBufferPointer { Self.columnSums($0.baseAddress!, rows: b, cols: h1, into: &gb1) }
                    }
                }
            }
        }
        adam.advance()
        let lr = p.learningRate, wd = p.weightDecay
        adam.update(&model.w1, gradient: g1, slot: 0, learningRate: lr, weightDecay: wd)
        adam.update(&model.b1, gradient: gb1, slot: 1, learningRate: lr)
        adam.update(&model.w2, gradient: g2, slot: 2, learningRate: lr, weightDecay: wd)
        adam.update(&model.b2, gradient: gb2, slot: 3, learningRate: lr)
        adam.update(&model.w3, gradient: g3, slot: 4, learningRate: lr, weightDecay: wd)
        adam.update(&model.b3, gradient: gb3, slot: 5, learningRate: lr)
        return r
    }

    /// out[j] = Σ_i x[i][j].
    static func columnSums(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: inout [Float]) {
        out.withUnsafeMutableBufferPointer { o in
            let op = o.baseAddress!
            op.update(repeating: 0, count: cols)
            for i in 0..<rows {
                let r = x + i * cols
                for j in 0..<cols { op[j] += r[j] }
            }
        }
    }

    /// Zeroes the gradient where the ReLU was off.
    static func maskInactive(_ g: inout [Float], by a: UnsafePointer<Float>, count: Int) {
        g.withUnsafeMutableBufferPointer { gp in
            let p = gp.baseAddress!
            for i in 0..<count { p[i] = a[i] > 0 ? p[i] : 0 }
        }
    }
}
