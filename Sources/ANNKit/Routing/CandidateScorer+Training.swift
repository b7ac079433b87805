import Glibc

/// Fitting the scorer: softmax cross-entropy over each query's scored clusters, the target
/// being every cluster that holds its key (Adam, minibatches of queries).
extension CandidateScorer {
    /// Mean loss over `e`'s queries.
    public func loss(_ e: PQRouterTrainer.Evidence) -> Double {
        var total = 0.0
        var act = [Float](repeating: 0, count: hidden), z = [Float](repeating: 0, count: e.lists)
        e.features.withUnsafeBufferPointer { fb in
            act.withUnsafeMutableBufferPointer { a in
                for j in 0..<e.count {
                    for li in 0..<e.lists { z[li] = logit(fb.baseAddress! + (j * e.lists + li) * Self.featureCount, act: a.baseAddress!) }
                    total += Self.crossEntropy(z, positive: e.positive[(j * e.lists)..<((j + 1) * e.lists)]).loss
                }
            }
        }
        return total / Double(max(1, e.count))
    }

    /// −log Σ_pos softmax(z), and its gradient with respect to z (written into `z`'s place in
    /// the returned array).
    static func crossEntropy(_ z: [Float], positive: ArraySlice<Bool>) -> (loss: Double, gradient: [Float]) {
        let mx = z.max() ?? 0
        var all = 0.0, hit = 0.0
        var w = [Double](repeating: 0, count: z.count)
        for (i, v) in z.enumerated() {
            w[i] = Glibc.exp(Double(v - mx))
            all += w[i]
            if positive[positive.startIndex + i] { hit += w[i] }
        }
        let g = z.indices.map { i in Float(w[i] / all - (positive[positive.startIndex + i] ? w[i] / hit : 0)) }
        return (-Glibc.log(max(hit / all, 1e-300)), g)
    }

    /// Trains a scorer on `train`, keeping the epoch with the lowest loss on `held` (on
    /// `train` when nothing is held out); `report` hears each epoch's training and held-out
    /// loss.
    public static func fit(_ train: PQRouterTrainer.Evidence, held: PQRouterTrainer.Evidence, parameters p: PQRouterParameters,
                           report: (Int, Double, Double) -> Void = { _, _, _ in }) -> CandidateScorer {
        let f = featureCount, lists = train.lists
        let norm = train.features.withUnsafeBufferPointer { standardisation($0.baseAddress!, n: train.count * lists) }
        var s = CandidateScorer(hidden: p.hidden, mean: norm.mean, scale: norm.scale, seed: p.seed)
        let judge = held.count > 0 ? held : train
        var best = (loss: s.loss(judge), scorer: s)
        report(0, best.loss, best.loss)
        var adam = Adam(sizes: [s.w1.count, s.b1.count, s.w2.count])
        var rng = RandomGenerator(seed: p.seed &+ 7)
        var order = Array(0..<train.count)
        var act = [Float](repeating: 0, count: p.hidden)
        for epoch in 1...max(1, p.epochs) where p.epochs > 0 {
            order.shuffle(using: &rng)
            var epochLoss = 0.0
            var start = 0
            while start < order.count {
                let batch = order[start..<min(order.count, start + p.batch)]
                start += p.batch
                var g1 = [Float](repeating: 0, count: s.w1.count), gb = [Float](repeating: 0, count: s.b1.count)
                var g2 = [Float](repeating: 0, count: s.w2.count)
                let inv = 1 / Float(batch.count)
                var z = [Float](repeating: 0, count: lists)
                var acts = [Float](repeating: 0, count: lists * p.hidden)
                train.features.withUnsafeBufferPointer { fb in
                    for j in batch {
                        let rows = fb.baseAddress! + j * lists * f
                        act.withUnsafeMutableBufferPointer { a in
                            for li in 0..<lists {
                                z[li] = s.logit(rows + li * f, act: a.baseAddress!)
                                for h in 0..<p.hidden { acts[li * p.hidden + h] = a[h] }
                            }
                        }
                        let (l, gz) = crossEntropy(z, positive: train.positive[(j * lists)..<((j + 1) * lists)])
                        epochLoss += l
                        for li in 0..<lists where gz[li] != 0 {
                            let gzi = gz[li] * inv
                            for h in 0..<p.hidden {
                                let a = acts[li * p.hidden + h]
                                g2[h] += gzi * a
                                guard a > 0 else { continue }
                                let gh = gzi * s.w2[h]
                                gb[h] += gh
                                for u in 0..<f { g1[h * f + u] += gh * (rows[li * f + u] - s.mean[u]) * s.scale[u] }
                            }
                        }
                    }
                }
                adam.advance()
                adam.update(&s.w1, gradient: g1, slot: 0, learningRate: p.learningRate)
                adam.update(&s.b1, gradient: gb, slot: 1, learningRate: p.learningRate)
                adam.update(&s.w2, gradient: g2, slot: 2, learningRate: p.learningRate)
            }
            let v = s.loss(judge)
            report(epoch, epochLoss / Double(max(1, train.count)), v)
            if v < best.loss || held.count == 0 { best = (v, s) }
        }
        return best.scorer
    }
}
