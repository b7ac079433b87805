import Glibc

/// What a PQ router is built and calibrated with.
public struct PQRouterParameters: Sendable {
    /// Bytes per code (subquantizers).
    public var m: Int
    /// How many stored vectors get a code: those nearest a cluster boundary (see
    /// `PQRouterTrainer.boundaryScores`). A query near a boundary, whose cluster is in doubt,
    /// has its neighbour near the boundary too; a query deep inside a cluster needs no code
    /// to be routed. Fewer codes of more bytes beat more codes of fewer.
    public var coded: Int
    public var lists = 64
    public var candidates = 300
    public var calibration = PQRouter.Calibration.learned
    /// Whether the codes are of rotated residuals; `ann-train` chooses by the budget
    /// (`rotation(dim:budget:)`).
    public var rotation = CodeRotation.none
    /// Rounds of the rotation's learning (each codes the sample, moves the rotation, then the
    /// words). On SIFT-DEB at 16 B per base vector 50 rounds fetched 4% fewer vectors at
    /// recall@1 0.90 than 10, and 100 no fewer than 50.
    public var rotationRounds = 50
    /// Residuals the rotation's rounds learn from (at most; the codebooks then learn from
    /// `trainingVectors`).
    public var rotationSample = 32_768
    /// Lloyd steps of the codebooks in each of the rotation's rounds.
    public var rotationIterations = 2
    /// Hidden units of the learned scorer.
    public var hidden = 16
    /// Residuals the codebooks are learnt from (at most).
    public var trainingVectors = 65_536
    /// Training queries the calibration is fitted on (at most; evenly spread over the given).
    public var calibrationQueries = 32_768
    public var epochs = defaultEpochs
    public var learningRate = defaultLearningRate
    /// Queries per Adam step.
    public var batch = 256
    public var seed: UInt64 = 1
    public var threads = Machine.cores

    public static let defaultEpochs = 30
    public static let defaultLearningRate: Float = 0.01

    public init(m: Int, coded: Int) {
        self.m = m
        self.coded = coded
    }

    /// The share of stored vectors coded by default at a budget of `bytesPerVector` bytes per
    /// base vector. The tighter the budget, the fewer and longer the codes: measured on
    /// SIFT-DEB, two thirds at 16 B and more (23-byte codes at 16 B), two fifths at 4 B, where
    /// two thirds in 5 bytes fetched 16% more; log-linear in between and beyond, within
    /// `codedShareRange`.
    public static func codedShare(bytesPerVector b: Double) -> Double {
        let (lo, hi) = codedShareRange
        guard b.isFinite, b > 0 else { return hi }
        let share = 0.4 + (hi - 0.4) * log2(b / 4) / 2
        return min(hi, max(lo, share))
    }

    /// The rotation a router of `dim`-vectors gets by default at a budget of `budget` bytes:
    /// `CodeRotation.standard` where its d² floats take at most `rotationShare` of the budget,
    /// none where they would crowd out the codes (a small index at a small budget).
    public static func rotation(dim: Int, budget: Int) -> CodeRotation {
        let (bytes, o) = (4 * dim).multipliedReportingOverflow(by: dim)
        return !o && Double(bytes) <= rotationShare * Double(budget) ? .standard : .none
    }

    /// The most of the budget a default rotation may take.
    public static let rotationShare = 0.125

    /// The least and the most of the stored vectors coded by default.
    public static let codedShareRange = (0.25, 0.67)
}

/// Builds a `PQRouter` for an index: codebooks learnt from a sample of the index's residuals,
/// every stored vector encoded, then the calibration fitted on training queries.
public enum PQRouterTrainer {
    /// The router with codes of the `parameters.coded` stored vectors of `index` nearest a
    /// cluster boundary, calibrated with T = 1 until fitted.
    public static func encode(_ index: PackedIndex, parameters p: PQRouterParameters, progress: (Int) -> Void = { _ in }) throws -> PQRouter {
        let d = index.dim, k = index.clusterCount, m = p.m
        let sizes = index.entries.map(\.vectors)
        let entries = sizes.reduce(0, +)
        // The coded vectors: the smallest boundary scores, ties to the earlier stored.
        let scores = try boundaryScores(index, threads: p.threads)
        var chosen = [Bool](repeating: false, count: entries)
        let take = min(p.coded, entries)
        if take == entries {
            for i in 0..<entries { chosen[i] = true }
        } else if take > 0 {
            var order = Array(0..<entries)
            order.sort { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            for i in order.prefix(take) { chosen[i] = true }
        }
        var coded = [Int](repeating: 0, count: k)
        var ordinal = 0
        for c in 0..<k {
            for _ in 0..<sizes[c] { if chosen[ordinal] { coded[c] += 1 }; ordinal += 1 }
        }
        // Selection sampling of the codebooks' training residuals among the coded vectors.
        let want = min(p.trainingVectors, take)
        var rng = RandomGenerator(seed: p.seed)
        var sampled = [Bool](repeating: false, count: entries)
        var left = want, seen = 0
        for i in 0..<entries where chosen[i] && left > 0 {
            if rng.below(take - seen) < left { sampled[i] = true; left -= 1 }
            seen += 1
        }
        var sample = [Float](repeating: 0, count: want * d)
        var filled = 0
        ordinal = 0
        let buffers = ClusterBuffers()
        for c in 0..<k {
            let n = try index.fetch(c, into: buffers)
            for i in 0..<n {
                if sampled[ordinal] {
                    for u in 0..<d { sample[filled * d + u] = buffers.floats[i * d + u] - index.centroids[c * d + u] }
                    filled += 1
                }
                ordinal += 1
            }
        }
        let pq = try sample.withUnsafeBufferPointer { s in
            switch p.rotation {
            case .none: return try ProductQuantizer.train(s.baseAddress!, n: want, dim: d, m: m, seed: p.seed)
            case .opq: return try ProductQuantizer.trainRotated(s.baseAddress!, n: want, dim: d, m: m, rounds: p.rotationRounds,
                                                                roundSample: p.rotationSample,
                                                                roundIterations: p.rotationIterations, seed: p.seed, threads: p.threads)
            }
        }
        sample = []
        var offsets = [0], first = [0]
        for c in 0..<k { offsets.append(offsets.last! + coded[c]); first.append(first.last! + sizes[c]) }
        var codes = [UInt8](repeating: 0, count: take * m)
        try codes.withUnsafeMutableBufferPointer { cb in
            let out = cb.baseAddress!
            try index.forEachCluster(threads: p.threads, scratch: { [Float]() }, progress: progress) { c, n, buffers, residual in
                if residual.count < n * d { residual = [Float](repeating: 0, count: n * d) }
                var kept = 0
                residual.withUnsafeMutableBufferPointer { r in
                    for i in 0..<n where chosen[first[c] + i] {
                        for u in 0..<d { r[kept * d + u] = buffers.floats[i * d + u] - index.centroids[c * d + u] }
                        kept += 1
                    }
                    pq.encode(r.baseAddress!, n: kept, into: out + offsets[c] * m)
                }
            }
        }
        return PQRouter(dim: d, metric: index.metric, fingerprint: index.fingerprint, quantizer: pq, lists: p.lists, candidates: p.candidates,
                        calibration: .temperature, temperature: 1, scorer: nil, membership: PQRouter.membership(of: index),
                        codes: codes, coded: coded, sizes: sizes, centroids: index.centroids)
    }

    /// What the router's codes say about each training query: per scored cluster its features,
    /// its best candidate's distance and whether it holds the query's key.
    public struct Evidence: Sendable {
        public var lists: Int
        public var count: Int
        /// `count × lists × featureCount`.
        public var features: [Float]
        /// `count × lists`: the best candidate's distance (+∞ for none).
        public var best: [Float]
        /// `count × lists`: the cluster holds the key.
        public var positive: [Bool]
    }

    /// Examines up to `limit` of `examples`' queries (evenly spread) with `router`'s codes;
    /// a query whose key lies outside its scored clusters is left out, as it teaches nothing
    /// the scored clusters could change.
    public static func evidence(_ router: PQRouter, _ examples: RouterExamples, limit: Int, threads: Int) -> Evidence {
        let d = router.dim, k = router.clusterCount, p = router.lists, f = CandidateScorer.featureCount
        let n = examples.count, take = min(n, limit)
        let picks = (0..<take).map { $0 * n / max(take, 1) }
        var feats = [Float](repeating: 0, count: take * p * f)
        var best = [Float](repeating: .infinity, count: take * p)
        var pos = [Bool](repeating: false, count: take * p)
        var keep = [Bool](repeating: false, count: take)
        let parts = max(1, threads)
        examples.queries.withUnsafeBufferPointer { qb in
            feats.withUnsafeMutableBufferPointer { fb in
                best.withUnsafeMutableBufferPointer { bb in
                    pos.withUnsafeMutableBufferPointer { pb in
                        keep.withUnsafeMutableBufferPointer { kb in
                            Parallel.forEach(parts) { t in
                                var r = router
                                r.calibration = .learned
                                let ws = PQRouter.Workspace(r)
                                let row = UnsafeMutablePointer<Float>.allocate(capacity: k)
                                defer { row.deallocate() }
                                for j in stride(from: t, to: take, by: parts) {
                                    let q = qb.baseAddress! + picks[j] * d
                                    r.coarse.score(queries: q, n: 1, dim: d, into: row)
                                    r.examine(q, centroidRow: row, squaredNorm: Kernels.dot(q, q, d), into: ws)
                                    let keys = examples.positives[picks[j]]
                                    for li in 0..<ws.scored {
                                        let c = ws.listed[li]
                                        let hit = keys.contains(UInt32(c))
                                        pb[j * p + li] = hit
                                        if hit { kb[j] = true }
                                        bb[j * p + li] = ws.best[3 * li]
                                    }
                                    for i in 0..<(ws.scored * f) { fb[j * p * f + i] = ws.features[i] }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Compact the kept queries' rows in place.
        var w = 0
        for j in 0..<take where keep[j] {
            if w != j {
                for i in 0..<(p * f) { feats[w * p * f + i] = feats[j * p * f + i] }
                for i in 0..<p { best[w * p + i] = best[j * p + i]; pos[w * p + i] = pos[j * p + i] }
            }
            w += 1
        }
        feats.removeLast((take - w) * p * f)
        best.removeLast((take - w) * p)
        pos.removeLast((take - w) * p)
        return Evidence(lists: p, count: w, features: feats, best: best, positive: pos)
    }

    /// Mean negative log-likelihood of the keys' clusters under softmax(−(b − b₀)/T) of the
    /// clusters' best candidates; a query whose key's clusters have no candidate counts at a
    /// floor probability, the same for every T.
    public static func temperatureLoss(_ e: Evidence, temperature t: Float) -> Double {
        let p = e.lists
        var total = 0.0
        for j in 0..<e.count {
            let b = e.best[(j * p)..<((j + 1) * p)]
            let b0 = b.min() ?? 0
            var all = 0.0, hit = 0.0
            for (li, v) in b.enumerated() where v.isFinite {
                let w = Glibc.exp(-Double(v - b0) / Double(t))
                all += w
                if e.positive[j * p + li] { hit += w }
            }
            total -= Glibc.log(max(hit / max(all, 1e-300), 1e-9))
        }
        return total / Double(max(1, e.count))
    }

    /// The temperature that fits `e` best: a log-spaced scan around the typical gap between a
    /// query's two best clusters, then golden-section refinement.
    public static func fitTemperature(_ e: Evidence) -> Float {
        let p = e.lists
        var gaps = [Float]()
        for j in 0..<e.count {
            let b = e.best[(j * p)..<((j + 1) * p)].filter(\.isFinite).sorted()
            if b.count >= 2 && b[1] > b[0] { gaps.append(b[1] - b[0]) }
        }
        gaps.sort()
        let typical = gaps.isEmpty ? 1 : Double(max(gaps[gaps.count / 2], 1e-12))
        var bestLog = Glibc.log(typical), bestLoss = Double.infinity
        for i in -40...40 {
            let lt = Glibc.log(typical) + Double(i) * 0.2
            let l = temperatureLoss(e, temperature: Float(Glibc.exp(lt)))
            if l < bestLoss { bestLoss = l; bestLog = lt }
        }
        var lo = bestLog - 0.2, hi = bestLog + 0.2
        let g = (5.0.squareRoot() - 1) / 2
        for _ in 0..<20 {
            let a = hi - g * (hi - lo), b = lo + g * (hi - lo)
            if temperatureLoss(e, temperature: Float(Glibc.exp(a))) < temperatureLoss(e, temperature: Float(Glibc.exp(b))) { hi = b } else { lo = a }
        }
        return Float(Glibc.exp((lo + hi) / 2))
    }
}

extension PQRouterTrainer {
    /// What training reports as it goes.
    public enum Event: Sendable {
        case encoded(clusters: Int, of: Int)
        case codebooks(seconds: Double, vectors: Int)
        case evidence(train: Int, held: Int, seconds: Double)
        case temperature(Float, loss: Double)
        case epoch(Int, of: Int, loss: Double, held: Double)
    }

    /// Encodes `index` and fits the calibration on `train` (the epoch or temperature judged on
    /// `held`, or on `train` when it is empty).
    public static func train(_ index: PackedIndex, train: RouterExamples, held: RouterExamples, parameters p: PQRouterParameters,
                             report: (Event) -> Void = { _ in }) throws -> PQRouter {
        let t0 = Stopwatch()
        var router = try encode(index, parameters: p) { report(.encoded(clusters: $0, of: index.clusterCount)) }
        report(.codebooks(seconds: t0.seconds, vectors: router.offsets[router.clusterCount]))
        let t1 = Stopwatch()
        let trainEvidence = evidence(router, train, limit: p.calibrationQueries, threads: p.threads)
        let heldEvidence = evidence(router, held, limit: max(1, p.calibrationQueries / 4), threads: p.threads)
        report(.evidence(train: trainEvidence.count, held: heldEvidence.count, seconds: t1.seconds))
        switch p.calibration {
        case .temperature:
            router.temperature = fitTemperature(trainEvidence)
            report(.temperature(router.temperature, loss: temperatureLoss(heldEvidence.count > 0 ? heldEvidence : trainEvidence, temperature: router.temperature)))
        case .learned:
            router.temperature = 0
            router.scorer = CandidateScorer.fit(trainEvidence, held: heldEvidence, parameters: p) { report(.epoch($0, of: p.epochs, loss: $1, held: $2)) }
            router.calibration = .learned
        }
        return router
    }
}
