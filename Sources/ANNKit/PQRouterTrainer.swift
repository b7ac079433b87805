import Dispatch
import Glibc

/// What a PQ router is built and calibrated with.
public struct PQRouterParameters: Sendable {
    /// Bytes per code (subquantizers).
    public var m: Int
    public var lists = 64
    public var candidates = 300
    public var calibration = PQRouter.Calibration.learned
    /// Hidden units of the learned scorer.
    public var hidden = 16
    /// Residuals the codebooks are learnt from (at most).
    public var trainingVectors = 65_536
    /// Training queries the calibration is fitted on (at most; evenly spread over the given).
    public var calibrationQueries = 32_768
    public var epochs = 30
    public var learningRate: Float = 0.01
    /// Queries per Adam step.
    public var batch = 256
    public var seed: UInt64 = 1
    public var threads = 2

    public init(m: Int) { self.m = m }
}

/// Builds a `PQRouter` for an index: codebooks learnt from a sample of the index's residuals,
/// every stored vector encoded, then the calibration fitted on training queries.
public enum PQRouterTrainer {
    /// The router with codes of every vector of `index`, calibrated with T = 1 until fitted.
    public static func encode(_ index: PackedIndex, parameters p: PQRouterParameters, progress: (Int) -> Void = { _ in }) throws -> PQRouter {
        let d = index.dim, k = index.clusterCount, m = p.m
        let counts = index.entries.map(\.vectors)
        let entries = counts.reduce(0, +)
        // Selection sampling: `want` of the `entries` stored vectors, in storage order.
        let want = min(p.trainingVectors, entries)
        var rng = RandomGenerator(seed: p.seed)
        var chosen = [Bool](repeating: false, count: entries)
        var left = want
        for i in 0..<entries where left > 0 {
            if rng.below(entries - i) < left { chosen[i] = true; left -= 1 }
        }
        var sample = [Float](repeating: 0, count: want * d)
        var filled = 0, ordinal = 0
        let buffers = ClusterBuffers()
        for c in 0..<k {
            let n = try index.fetch(c, into: buffers)
            for i in 0..<n {
                if chosen[ordinal] {
                    for u in 0..<d { sample[filled * d + u] = buffers.floats[i * d + u] - index.centroids[c * d + u] }
                    filled += 1
                }
                ordinal += 1
            }
        }
        let pq = try sample.withUnsafeBufferPointer { try ProductQuantizer.train($0.baseAddress!, n: want, dim: d, m: m, seed: p.seed) }
        sample = []
        var offsets = [0]
        for c in counts { offsets.append(offsets.last! + c) }
        var codes = [UInt8](repeating: 0, count: entries * m)
        let parts = max(1, p.threads)
        var failure: (any Error)?
        let lock = Lock()
        var done = 0
        codes.withUnsafeMutableBufferPointer { cb in
            let out = cb.baseAddress!
            DispatchQueue.concurrentPerform(iterations: parts) { t in
                let buffers = ClusterBuffers()
                var residual = [Float]()
                for c in stride(from: t, to: k, by: parts) {
                    do {
                        let n = try index.fetch(c, into: buffers)
                        if residual.count < n * d { residual = [Float](repeating: 0, count: n * d) }
                        residual.withUnsafeMutableBufferPointer { r in
                            for i in 0..<n { for u in 0..<d { r[i * d + u] = buffers.floats[i * d + u] - index.centroids[c * d + u] } }
                            pq.encode(r.baseAddress!, n: n, into: out + offsets[c] * m)
                        }
                    } catch {
                        lock.withLock { if failure == nil { failure = error } }
                        return
                    }
                    let now = lock.withLock { done += 1; return done }
                    if t == 0 { progress(now) }
                }
            }
        }
        if let failure { throw failure }
        return PQRouter(dim: d, metric: index.metric, fingerprint: index.fingerprint, quantizer: pq, lists: p.lists, candidates: p.candidates,
                        calibration: .temperature, temperature: 1, scorer: nil, membership: PQRouter.membership(of: index),
                        codes: codes, counts: counts, centroids: index.centroids)
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
                            DispatchQueue.concurrentPerform(iterations: parts) { t in
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
        let rows = keep.indices.filter { keep[$0] }
        var e = Evidence(lists: p, count: rows.count, features: [], best: [], positive: [])
        e.features.reserveCapacity(rows.count * p * f)
        for j in rows {
            e.features += feats[(j * p * f)..<((j + 1) * p * f)]
            e.best += best[(j * p)..<((j + 1) * p)]
            e.positive += pos[(j * p)..<((j + 1) * p)]
        }
        return e
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
